#!/usr/bin/env python3
"""Validates kapchart's FHIR exports against the FHIR R4B models of `fhir.resources` (8.x).

Usage: fhir_validate.py BUNDLE.json [BUNDLE.json ...]

Each file must be a Bundle that `fhir.resources.R4B` accepts; each entry's resource is also
validated on its own, by its resourceType, so that an error names the resource. Exits 0 when
every file validates, 1 with the pydantic errors otherwise, 2 when the package is missing.

Set up (as CI does):
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
