"""The catalog of actions a playbook step may name.

An action here is provider-neutral: its name, what it does, its parameters (a typed model
that refuses unknown keys) and a YAML example. Each provider implements the actions that
make sense for it and declares, per implementation, the permissions it needs, whether it
can be undone and its hazards (see :mod:`agent_ir.actions.base`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Scope = Literal["own", "reachable"]
RiskLevel = Literal["admin", "wildcard"]


class ActionParams(BaseModel):
    """Base of every action's parameters: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(ActionParams):
    """An action that takes no parameters."""


class DisableCredentialsParams(ActionParams):
    """Which credentials to disable."""

    older_than_days: int | None = Field(
        None, ge=0, le=20_000, description="only credentials older than this many days"
    )


class RevokeSessionsParams(ActionParams):
    """Whose sessions to end besides the targets'."""

    include_delegating_users: bool = Field(
        False, description="also end the sessions of the humans who delegated to the agent"
    )


class RemoveGrantsParams(ActionParams):
    """Which grants to remove."""

    risk: list[RiskLevel] = Field(
        default_factory=lambda: list[RiskLevel](["admin", "wildcard"]),
        min_length=1,
        description="remove grants at these risk levels",
    )


class RemoveDelegationParams(ActionParams):
    """One delegation link to cut: from a principal to another (names or ids)."""

    source: str = Field(min_length=1, alias="from", description="who delegates or assumes")
    target: str = Field(min_length=1, alias="to", description="who is delegated to or assumed")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One action of the catalog."""

    name: str
    summary: str
    params: type[ActionParams]
    example: str
    phase: int
    default_scope: Scope = "own"


PHASES = {1: "credentials", 2: "sessions", 3: "grants and delegations", 4: "identity"}
"""Execution order within one provider: cut credentials, then sessions, then grants and
delegations, then disable the identity itself (a snapshot precedes every step)."""


CATALOG: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            "disable-credentials",
            "Deactivate or remove the static credentials of the target identities.",
            DisableCredentialsParams,
            "- id: cut-keys\n  action: disable-credentials\n  with: {older_than_days: 90}\n",
            phase=1,
        ),
        ActionSpec(
            "revoke-sessions",
            "End the live sessions and tokens the target identities were issued.",
            RevokeSessionsParams,
            "- id: kill-sessions\n  action: revoke-sessions\n  scope: reachable\n",
            phase=2,
            default_scope="reachable",
        ),
        ActionSpec(
            "deny-all",
            "Attach an explicit deny-everything policy to the target identities.",
            NoParams,
            "- id: deny\n  action: deny-all\n  providers: [aws]\n",
            phase=3,
        ),
        ActionSpec(
            "remove-grants",
            "Remove the target identities' grants at the given risk levels.",
            RemoveGrantsParams,
            "- id: scope-down\n  action: remove-grants\n  with: {risk: [admin]}\n",
            phase=3,
        ),
        ActionSpec(
            "remove-delegation",
            "Cut one delegation link (who may assume, impersonate or act for whom).",
            RemoveDelegationParams,
            "- id: cut\n  action: remove-delegation\n"
            "  with: {from: invoice-agent, to: invoice-processor}\n",
            phase=3,
        ),
        ActionSpec(
            "cut-federation",
            "Remove the federation trusts by which an identity the agent owns or reaches "
            "becomes an identity in another provider.",
            NoParams,
            "- id: cut-federation\n  action: cut-federation\n  scope: reachable\n",
            phase=3,
            default_scope="reachable",
        ),
        ActionSpec(
            "lock-trust",
            "Replace the trust of the target roles so nobody can assume them.",
            NoParams,
            "- id: lock\n  action: lock-trust\n  scope: reachable\n  approve: true\n",
            phase=3,
            default_scope="reachable",
        ),
        ActionSpec(
            "disable-identity",
            "Disable or deactivate the target identities themselves.",
            NoParams,
            "- id: disable\n  action: disable-identity\n",
            phase=4,
        ),
    )
}
