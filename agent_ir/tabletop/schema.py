"""The JSON Schema of exercise files, for editors and other tools.

It is generated from the typed model (:mod:`agent_ir.tabletop.model`) and committed as
``agent_ir/data/exercises/exercise.schema.json``; regenerate it with
``python scripts/gen_schema.py`` after changing the model. The schema describes the shape;
:func:`agent_ir.tabletop.loader.load_exercise` remains the full check (the world file
exists, injects in time order, weights only for objectives named, and so on).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent_ir.tabletop.loader import EXERCISES
from agent_ir.tabletop.model import Exercise

SCHEMA_PATH = EXERCISES / "exercise.schema.json"
"""Where the generated schema is committed."""

SCHEMA_ID = "urn:agent-ir:exercise:1"
"""The schema's ``$id``; the number follows the exercise ``version``."""

_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def exercise_schema() -> dict[str, Any]:
    """The JSON Schema of an exercise file."""
    generated = Exercise.model_json_schema()
    return {
        "$schema": _DIALECT,
        "$id": SCHEMA_ID,
        "title": "agent-ir tabletop exercise",
        **{key: value for key, value in generated.items() if key != "title"},
    }


def schema_text() -> str:
    """The schema as the committed file holds it."""
    return json.dumps(exercise_schema(), indent=2) + "\n"


def write_schema(path: Path) -> None:
    """Write the schema to ``path``."""
    path.write_text(schema_text(), encoding="utf-8")
