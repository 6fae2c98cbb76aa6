"""The JSON Schema of playbook files, for editors and other tools.

It is generated from the typed model (:mod:`agent_ir.playbook.model`) and the action
catalog, and committed as ``agent_ir/data/playbooks/playbook.schema.json``; regenerate it with
``python scripts/gen_schema.py`` after changing either. The schema describes the shape;
:func:`agent_ir.playbook.loader.load_playbook` remains the full check (step ids unique,
references declared, and so on).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from agent_ir.actions.catalog import CATALOG
from agent_ir.playbook.loader import SHIPPED_DIR
from agent_ir.playbook.model import FINDING_CODES, PARAM_NAME, PARAM_REF, STEP_ID, Playbook

SCHEMA_PATH = SHIPPED_DIR / "playbook.schema.json"
"""Where the generated schema is committed."""

SCHEMA_ID = "urn:agent-ir:playbook:1"
"""The schema's ``$id``; the number follows the playbook ``version``."""

_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def playbook_schema() -> dict[str, Any]:
    """The JSON Schema of a playbook file (keys by their YAML names)."""
    generated = Playbook.model_json_schema(by_alias=True)
    defs: dict[str, Any] = generated.setdefault("$defs", {})
    step = defs["Step"]
    step["properties"]["action"] = {
        "title": "Action",
        "description": "the catalog action this step runs",
        "enum": list(CATALOG),
    }
    step["properties"]["id"]["pattern"] = STEP_ID.pattern
    step["allOf"] = [_with_for_action(name, defs) for name in CATALOG]
    generated["properties"]["parameters"]["propertyNames"] = {"pattern": PARAM_NAME.pattern}
    codes = {"enum": list(FINDING_CODES)}
    defs["Condition"]["properties"]["has_finding"] = {
        "title": "Has Finding",
        "description": "the agent has at least one finding with one of these codes",
        "anyOf": [codes, {"type": "array", "items": codes, "minItems": 1}, {"type": "null"}],
        "default": None,
    }
    return {
        "$schema": _DIALECT,
        "$id": SCHEMA_ID,
        "title": "agent-ir playbook",
        **{key: value for key, value in generated.items() if key != "title"},
    }


def _with_for_action(action: str, defs: dict[str, Any]) -> dict[str, Any]:
    """``if action is X then with: fits X's parameters``, each value also allowed to be a
    ``${name}`` reference to a playbook parameter."""
    params = copy.deepcopy(CATALOG[action].params.model_json_schema(by_alias=True))
    defs.update(params.pop("$defs", {}))
    reference = {"type": "string", "pattern": PARAM_REF.pattern}
    properties = {}
    for key, prop in params.get("properties", {}).items():
        outer = {k: prop.pop(k) for k in ("title", "description", "default") if k in prop}
        properties[key] = {**outer, "anyOf": [prop, reference]}
    with_schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if params.get("required"):
        with_schema["required"] = params["required"]
    return {
        "if": {"properties": {"action": {"const": action}}, "required": ["action"]},
        "then": {"properties": {"with": with_schema}},
    }


def schema_text() -> str:
    """The schema as the committed file holds it."""
    return json.dumps(playbook_schema(), indent=2) + "\n"


def write_schema(path: Path) -> None:
    """Write the schema to ``path``."""
    path.write_text(schema_text(), encoding="utf-8")
