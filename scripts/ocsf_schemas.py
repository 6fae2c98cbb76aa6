"""Regenerate tests/fixtures/ocsf-1.5.0/: the JSON Schemas of the OCSF classes agent-ir emits.

The schemas come from the OCSF 1.5.0 export that the ``ocsf-json-schema`` package ships
(the schema server's own export), with every referenced object embedded, so the tests
validate offline against the pinned version. Run with that package installed::

    pip install ocsf-json-schema==1.2.0 && python scripts/ocsf_schemas.py
"""

from __future__ import annotations

import json
from pathlib import Path

from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema  # type: ignore[import-not-found]

VERSION = "1.5.0"
CLASSES = {
    "remediation_activity": ["host"],
    "account_change": [],
    "entity_management": [],
    "user_access": [],
}


def main() -> None:
    """Write one embedded JSON Schema per emitted class."""
    out = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / f"ocsf-{VERSION}"
    out.mkdir(parents=True, exist_ok=True)
    schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(VERSION))
    for name, profiles in CLASSES.items():
        doc = schema.get_class_schema(name, profiles)
        (out / f"{name}.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
