"""Checks the Ed25519 signatures of kapchart's exported notes outside kapchart.

Usage: python ed25519_check.py BUNDLE.json

For every DocumentReference in the FHIR bundle whose attachment carries kapchart's
ed25519-signature extension, this rebuilds the signed message from the exported fields
alone, as README.md ("Signatures") describes it, and checks the signature with the Python
`cryptography` package. It imports nothing from kapchart. Prints one line per signature
checked ("ok NOTE-ID by NAME") and exits 1 at the first one that does not verify.
"""

import base64
import hashlib
import json
import sys
from datetime import datetime, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EXTENSION = "https://kapchart.org/fhir/StructureDefinition/ed25519-signature"


def fields(extension):
    out = {}
    for part in extension["extension"]:
        value = [v for k, v in part.items() if k.startswith("value")]
        out[part["url"]] = value[0]
    return out


def message(f, text):
    first = f["message"]
    if first not in ("kapchart note signature v1", "kapchart addendum signature v1"):
        raise SystemExit(f"unknown message format {first!r}")
    # signedAt as the message writes it: UTC, milliseconds, Z.
    at = datetime.fromisoformat(f["signedAt"].replace("Z", "+00:00")).astimezone(timezone.utc)
    signed_at = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    lines = [first, f"note: {f['noteId']}"]
    if first.startswith("kapchart addendum"):
        lines.append(f"addendum: {f['addendumId']}")
    lines += [
        f"text-sha256: {hashlib.sha256(text).hexdigest()}",
        f"signer-id: {f['signerClinicianId']}",
        f"signer-name: {f['signerName']}",
        f"signer-key: {base64.b64decode(f['publicKey']).hex()}",
        f"signed-at: {signed_at}",
    ]
    if first.startswith("kapchart note"):
        lines.append(f"reason: {f.get('reason', '')}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def main(path):
    bundle = json.load(open(path, encoding="utf-8"))
    checked = 0
    for entry in bundle.get("entry", []):
        r = entry["resource"]
        if r["resourceType"] != "DocumentReference":
            continue
        for content in r.get("content", []):
            attachment = content["attachment"]
            for ext in attachment.get("extension", []):
                if ext["url"] != EXTENSION:
                    continue
                f = fields(ext)
                text = base64.b64decode(attachment["data"])
                key = Ed25519PublicKey.from_public_bytes(base64.b64decode(f["publicKey"]))
                try:
                    key.verify(base64.b64decode(f["signature"]), message(f, text))
                except InvalidSignature:
                    print(f"FAILED {r['id']}: the signature does not verify")
                    return 1
                print(f"ok {r['id']} by {f['signerName']}")
                checked += 1
    print(f"{checked} signatures verified")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
