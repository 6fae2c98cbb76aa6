"""Every Google Cloud implementation of a catalog action, by action name.

Accounts and keys: :mod:`~agent_ir.providers.gcp.account_actions`; allow policies,
member by member: :mod:`~agent_ir.providers.gcp.policy_actions`.
"""

from __future__ import annotations

from agent_ir.providers.gcp.account_actions import DisableKeys, DisableServiceAccount, Gcp
from agent_ir.providers.gcp.policy_actions import (
    CutFederation,
    RemoveImpersonation,
    RemoveRiskyBindings,
    StripAllBindings,
)

ACTIONS: dict[str, type[Gcp]] = {
    cls.action: cls
    for cls in (
        DisableKeys,
        StripAllBindings,
        RemoveRiskyBindings,
        RemoveImpersonation,
        CutFederation,
        DisableServiceAccount,
    )
}
"""Every GCP action implementation, by catalog name."""

__all__ = [
    "ACTIONS",
    "CutFederation",
    "DisableKeys",
    "DisableServiceAccount",
    "RemoveImpersonation",
    "RemoveRiskyBindings",
    "StripAllBindings",
]
