"""The least privilege the responder's own identity needs, derived from the actions."""

from __future__ import annotations

from typing import Any

from agent_ir.actions.catalog import CATALOG
from agent_ir.playbook.model import Playbook
from agent_ir.providers import registry
from agent_ir.providers.base import Ability


def required_permissions(playbooks: list[Playbook] | None) -> dict[str, dict[str, Any]]:
    """Per installed provider: what discovery needs plus what the playbooks' actions need
    to apply and to restore. ``None`` means every action of the catalog."""
    actions = (
        {step.action for pb in playbooks for step in pb.steps}
        if playbooks is not None
        else set(CATALOG)
    )
    out: dict[str, dict[str, Any]] = {}
    for name, plugin in registry.plugins().items():
        adapter = plugin.load_adapter()
        reads = Ability.READ_PERMISSIONS in adapter.abilities
        read = sorted(adapter.read_permissions) if reads else []
        write: set[str] = set()
        for action in sorted(actions):
            impl = plugin.actions().get(action)
            if impl is not None:
                write.update(impl.permissions)
                write.update(impl.restore_permissions)
        entry: dict[str, Any] = {
            "permissions": sorted(set(read) | write),
            "read": read,
            "write": sorted(write),
        }
        if plugin.permission_document is not None:
            entry["policy"] = plugin.permission_document(read, sorted(write))
        out[name] = entry
    return out
