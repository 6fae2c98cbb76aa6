"""Regenerate playbooks/playbook.schema.json from the playbook model and the action catalog.

Run: .venv/bin/python scripts/gen_schema.py
"""

from __future__ import annotations

from agent_ir.playbook.schema import SCHEMA_PATH, write_schema


def main() -> None:
    """Write the schema where it is committed."""
    write_schema(SCHEMA_PATH)
    print(f"wrote {SCHEMA_PATH}")


if __name__ == "__main__":
    main()
