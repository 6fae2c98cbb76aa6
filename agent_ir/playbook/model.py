"""The typed playbook model. Unknown keys are refused everywhere, and values are checked
strictly (a quoted ``"50"`` is not a number, ``"yes"`` is not a boolean): YAML already
gives every scalar its type.

A playbook names parameters, a target (always the agent given on the command line) and
ordered steps; each step names a catalog action, may be limited to some providers, may
carry ``when`` conditions, ``on_error`` and an ``approve`` gate. ``max_targets`` limits the
blast radius: a plan touching more identities than that is refused before anything runs.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent_ir.model import Severity
from agent_ir.providers.known import KnownProvider

STEP_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
"""What a step id may look like."""

PARAM_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
"""A ``with:`` value that is exactly ``${name}`` takes the value of parameter ``name``."""

PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
"""What a parameter may be called, so that ``${name}`` can refer to it."""

FINDING_CODES: tuple[str, ...] = (
    "admin-grant",
    "wildcard-grant",
    "stale-static-credential",
    "unused-credential",
    "no-owner",
    "cross-account-chain",
    "inferred-identity",
)
"""The finding codes ``when.has_finding`` may name (see :mod:`agent_ir.engine.findings`)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Parameter(_Strict):
    """A playbook parameter, set with ``--param NAME=VALUE``."""

    type: Literal["string", "bool", "int"] = "string"
    description: str = ""
    default: str | bool | int | None = None
    required: bool = False


class Condition(_Strict):
    """When a step applies. Every key given must hold (they are combined with AND)."""

    has_finding: list[str] | None = Field(
        None,
        min_length=1,
        description="the agent has at least one finding with one of these codes",
    )
    # not strict: YAML spells the enum as its text value
    min_risk: Severity | None = Field(
        None, strict=False, description="the agent's worst finding is at least this"
    )
    has_provider: KnownProvider | None = Field(None, description="the agent has an identity there")
    has_identity_kind: str | None = Field(None, description="e.g. iam-role, service-account")
    param: str | None = Field(
        None, description="this parameter is true (or, with equals, has that value)"
    )
    equals: str | None = Field(None, description="with param: the parameter has this value")
    not_param: str | None = Field(None, description="this parameter is false")

    @field_validator("has_finding", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Step(_Strict):
    """One step: an action applied to the agent's identities (``own``) or to everything the
    agent can reach as well (``reachable``)."""

    id: str
    action: str
    description: str = ""
    providers: list[KnownProvider] | None = Field(None, min_length=1)
    scope: Literal["own", "reachable"] | None = None
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    when: Condition | None = None
    on_error: Literal["continue", "stop"] = "continue"
    approve: bool = False

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not STEP_ID.fullmatch(value):
            raise ValueError("a step id is lower-case letters, digits and dashes (max 63)")
        return value


class Playbook(_Strict):
    """A whole playbook file."""

    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    version: Literal[1] = 1
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    target: Literal["agent"] = "agent"
    max_targets: int | None = Field(None, ge=1, le=100_000)
    steps: list[Step] = Field(min_length=1, max_length=200)
