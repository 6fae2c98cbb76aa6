"""The least privilege the responder's own identity needs, derived from the actions."""

from __future__ import annotations

from typing import Any

from agent_ir.actions.catalog import CATALOG
from agent_ir.playbook.model import Playbook
from agent_ir.providers import registry


def required_permissions(playbooks: list[Playbook] | None) -> dict[str, dict[str, Any]]:
    """Per installed provider: what discovery needs plus what the playbooks' actions need
    to apply and to restore. ``None`` means every action of the catalog."""
    actions = (
        {step.action for pb in playbooks for step in pb.steps}
        if playbooks is not None
        else set(CATALOG)
    )
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(registry.available()):
        adapter = registry.load(name)
        read = sorted(getattr(adapter, "read_permissions", ()))
        write: set[str] = set()
        for action in sorted(actions):
            impl = adapter.action_impls().get(action)
            if impl is not None:
                write.update(impl.permissions)
                write.update(impl.restore_permissions)
        entry: dict[str, Any] = {
            "permissions": sorted(set(read) | write),
            "read": read,
            "write": sorted(write),
        }
        if name == "aws":
            entry["policy"] = {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "AgentIRRead", "Effect": "Allow", "Action": read, "Resource": "*"},
                    *(
                        [
                            {
                                "Sid": "AgentIRContain",
                                "Effect": "Allow",
                                "Action": sorted(write),
                                "Resource": "*",
                            }
                        ]
                        if write
                        else []
                    ),
                ],
            }
        out[name] = entry
    return out
