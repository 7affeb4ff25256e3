#!/usr/bin/env python3
"""Validates kapchart's FHIR exports against the FHIR R4B models of `fhir.resources` (8.x).

Usage: fhir_validate.py BUNDLE.json [BUNDLE.json ...]

Each file must be a Bundle that `fhir.resources.R4B` accepts; each entry's resource is also
validated on its own, by its resourceType, so that an error names the resource. As
fhir.resources checks structure and formats but not coded values, the codes of required
bindings (statuses, Bundle.type, relatesTo.code) and the minimum of the vital-signs profile are
checked here too, and a transaction's own rules (each entry's request method and url,
ifNoneExist, unique fullUrls). Exits 0 when every file validates, 1 with the errors otherwise, 2 when
the package is missing or no file is given.

Set up (CI needs the same):
    python3 -m venv .venv-fhir && .venv-fhir/bin/pip install 'fhir.resources>=8,<9'
"""

import json
import sys

try:
    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.bundle import Bundle
except ImportError as e:  # pragma: no cover - depends on the machine
    print(
        f"fhir.resources is not installed ({e}); run: python3 -m venv .venv-fhir && "
        ".venv-fhir/bin/pip install 'fhir.resources>=8,<9'",
        file=sys.stderr,
    )
    sys.exit(2)


# Codes of the required bindings fhir.resources does not check (it validates structure and
# primitive formats only), from the FHIR R4 specification's value sets for these elements.
REQUIRED_CODES = {
    ("Bundle", "type"): {
        "document", "message", "transaction", "transaction-response", "batch",
        "batch-response", "history", "searchset", "collection",
    },
    ("Observation", "status"): {
        "registered", "preliminary", "final", "amended", "corrected", "cancelled",
        "entered-in-error", "unknown",
    },
    ("MedicationAdministration", "status"): {
        "in-progress", "not-done", "on-hold", "completed", "entered-in-error", "stopped",
        "unknown",
    },
    ("QuestionnaireResponse", "status"): {
        "in-progress", "completed", "amended", "entered-in-error", "stopped",
    },
    ("Encounter", "status"): {
        "planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
        "entered-in-error", "unknown",
    },
    ("DocumentReference", "status"): {"current", "superseded", "entered-in-error"},
    ("SupplyDelivery", "status"): {"in-progress", "completed", "abandoned", "entered-in-error"},
    ("Medication", "status"): {"active", "inactive", "entered-in-error"},
    ("Communication", "status"): {
        "preparation", "in-progress", "not-done", "on-hold", "stopped", "completed",
        "entered-in-error", "unknown",
    },
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
    ("DocumentReference", "docStatus"): {"preliminary", "final", "amended", "entered-in-error"},
    ("MedicationStatement", "status"): {
        "active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown",
        "not-taken",
    },
    ("Flag", "status"): {"active", "inactive", "entered-in-error"},
    ("RiskAssessment", "status"): {
        "registered", "preliminary", "final", "amended", "corrected", "cancelled",
        "entered-in-error", "unknown",
    },
    ("Consent", "status"): {
        "draft", "proposed", "active", "rejected", "inactive", "entered-in-error",
    },
}
RELATES_TO_CODES = {"replaces", "transforms", "signs", "appends"}
VITAL_SIGNS = "http://terminology.hl7.org/CodeSystem/observation-category"


def code_errors(resource):
    """Required-binding codes and the vital-signs profile's minimum, for one resource."""
    rtype = resource.get("resourceType")
    errors = []
    for (t, field), allowed in REQUIRED_CODES.items():
        if t == rtype and field in resource and resource[field] not in allowed:
            errors.append(f"{field} {resource[field]!r} is not one of {sorted(allowed)}")
    if rtype == "DocumentReference":
        for r in resource.get("relatesTo") or []:
            if r.get("code") not in RELATES_TO_CODES:
                errors.append(f"relatesTo.code {r.get('code')!r} is not one of {sorted(RELATES_TO_CODES)}")
    if rtype == "Observation":
        categories = [
            c.get("code")
            for cat in resource.get("category") or []
            for c in cat.get("coding") or []
            if c.get("system") == VITAL_SIGNS
        ]
        if "vital-signs" in categories:
            # FHIR R4 vital-signs profile: status, category, a LOINC code, subject,
            # effective[x] and a value, components or a dataAbsentReason; UCUM units.
            if not any(c.get("system") == "http://loinc.org"
                       for c in (resource.get("code") or {}).get("coding") or []):
                errors.append("vital signs need a LOINC code")
            if "subject" not in resource:
                errors.append("vital signs need a subject")
            if not any(k.startswith("effective") for k in resource):
                errors.append("vital signs need effective[x]")
            quantities = [resource.get("valueQuantity")] + [
                c.get("valueQuantity") for c in resource.get("component") or []
            ]
            quantities = [q for q in quantities if q is not None]
            if not quantities and "dataAbsentReason" not in resource:
                errors.append("vital signs need a value, components or a dataAbsentReason")
            for q in quantities:
                if q.get("system") != "http://unitsofmeasure.org" or not q.get("code"):
                    errors.append(f"vital-sign quantity {q} is not in UCUM")
    return errors


# Bundle.entry.request.method: the required binding http-verb (R4).
HTTP_VERBS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"}


def transaction_errors(bundle):
    """A transaction's own rules (https://hl7.org/fhir/R4/http.html#transaction and
    bundle.html#bundle-request): every entry has a request with a method of the http-verb
    value set and a url; a PUT goes to the resource's own `Type/id` (or a conditional
    `Type?search`); a POST to the resource's type; `ifNoneExist` is a search without its
    `?`; fullUrls are unique."""
    if bundle.get("type") not in ("transaction", "batch"):
        return []
    errors = []
    full_urls = set()
    for i, entry in enumerate(bundle.get("entry") or []):
        where = f"entry[{i}]"
        resource = entry.get("resource") or {}
        rtype, rid = resource.get("resourceType"), resource.get("id")
        full_url = entry.get("fullUrl")
        if full_url:
            if full_url in full_urls:
                errors.append(f"{where}: fullUrl {full_url!r} twice in one bundle")
            full_urls.add(full_url)
        request = entry.get("request")
        if not isinstance(request, dict):
            errors.append(f"{where}: a transaction entry needs request (method and url)")
            continue
        method, url = request.get("method"), request.get("url")
        if method not in HTTP_VERBS:
            errors.append(f"{where}: request.method {method!r} is not one of {sorted(HTTP_VERBS)}")
            continue
        if not url or not isinstance(url, str):
            errors.append(f"{where}: request.url is missing")
            continue
        if method in ("PUT", "POST") and not resource:
            errors.append(f"{where}: a {method} entry needs its resource")
            continue
        if method == "PUT":
            path = url.split("?", 1)[0]
            if "?" in url:
                if path != rtype:
                    errors.append(f"{where}: conditional PUT url {url!r} is not for a {rtype}")
            elif path != f"{rtype}/{rid}":
                errors.append(f"{where}: PUT url {url!r} is not the resource's own {rtype}/{rid}")
            elif full_url and not full_url.endswith(f"/{rtype}/{rid}"):
                errors.append(f"{where}: fullUrl {full_url!r} does not name {rtype}/{rid}")
        if method == "POST" and url != rtype:
            errors.append(f"{where}: POST url {url!r} is not the resource's type {rtype}")
        if "ifNoneExist" in request:
            search = request["ifNoneExist"]
            if method != "POST":
                errors.append(f"{where}: ifNoneExist on a {method}, only a POST creates")
            if (not isinstance(search, str) or search.startswith("?") or "=" not in search
                    or any(not p.partition("=")[0] or not p.partition("=")[2]
                           for p in search.split("&"))):
                errors.append(f"{where}: ifNoneExist {search!r} is not a search (name=value&...)")
    return errors


def validate(path):
    """Returns a list of error messages for one file (empty when it validates)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        return [f"{path}: cannot read JSON: {e}"]
    errors = []
    if data.get("resourceType") != "Bundle":
        errors.append(f"{path}: resourceType is {data.get('resourceType')!r}, not 'Bundle'")
    try:
        Bundle.model_validate(data)
    except Exception as e:  # pydantic.ValidationError and fhir_core's own errors
        errors.append(f"{path}: Bundle: {e}")
    for i, entry in enumerate(data.get("entry") or []):
        resource = entry.get("resource") or {}
        rtype = resource.get("resourceType")
        where = f"{path}: entry[{i}] {rtype}/{resource.get('id')}"
        try:
            model = get_fhir_model_class(rtype)
        except Exception as e:
            errors.append(f"{where}: unknown resourceType: {e}")
            continue
        try:
            model.model_validate(resource)
        except Exception as e:
            errors.append(f"{where}: {e}")
        errors.extend(f"{where}: {msg}" for msg in code_errors(resource))
    errors.extend(f"{path}: Bundle: {msg}" for msg in code_errors(data))
    errors.extend(f"{path}: {msg}" for msg in transaction_errors(data))
    return errors


def main(paths):
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    errors = [msg for p in paths for msg in validate(p)]
    for msg in errors:
        print(msg, file=sys.stderr)
    if errors:
        return 1
    print(f"{len(paths)} bundle(s) valid FHIR R4B")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
