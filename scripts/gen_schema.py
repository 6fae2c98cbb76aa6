"""Regenerate the committed JSON Schemas: agent_ir/data/playbooks/playbook.schema.json (from
the playbook model and the action catalog) and agent_ir/data/exercises/exercise.schema.json (from the
exercise model).

Run: .venv/bin/python scripts/gen_schema.py
"""

from __future__ import annotations

from agent_ir.playbook import schema as playbook
from agent_ir.tabletop import schema as exercise


def main() -> None:
    """Write both schemas where they are committed."""
    for module in (playbook, exercise):
        module.write_schema(module.SCHEMA_PATH)
        print(f"wrote {module.SCHEMA_PATH}")


if __name__ == "__main__":
    main()
