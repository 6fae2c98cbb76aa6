"""The typed exercise model. Unknown keys are refused everywhere and values are checked
strictly, as in playbooks.

An exercise names a world (a file relative to the exercise, or ``default``), a narrative,
the suspect agents, timed injects (an alert for the responders, or a change an attacker
makes to the lab), the objectives that score the response and their weights.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Objective = Literal["no-residual-access", "no-benign-agent-touched", "every-write-has-reason"]
OBJECTIVES: tuple[Objective, ...] = (
    "no-residual-access",
    "no-benign-agent-touched",
    "every-write-has-reason",
)
"""The objectives an exercise may score."""

ChangeKind = Literal["new-access-key"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class AlertInject(_Strict):
    """An alert shown to the responders at ``at`` seconds."""

    kind: Literal["alert"]
    at: float = Field(ge=0, description="seconds from the start of the exercise")
    text: str = Field(min_length=1)


class ChangeInject(_Strict):
    """A change an attacker makes to the lab at ``at`` seconds.

    ``new-access-key``: a new access key for the AWS user ``user`` (in ``account``, the
    world's first account unless given); the probe holds it from then on. A user already
    at IAM's quota of two keys loses its oldest key first, as an attacker would make room.
    """

    kind: Literal["change"]
    at: float = Field(ge=0, description="seconds from the start of the exercise")
    change: ChangeKind
    user: str = Field(min_length=1)
    account: str | None = None
    text: str = ""


Inject = Annotated[AlertInject | ChangeInject, Field(discriminator="kind")]


class Exercise(_Strict):
    """One tabletop exercise."""

    version: Literal[1] = 1
    name: str = Field(min_length=1)
    narrative: str = ""
    world: str = Field("default", description="a world file relative to this one, or default")
    suspects: list[str] = Field(min_length=1)
    respond_at: float = Field(
        0, ge=0, description="when the headless run starts the playbook (seconds)"
    )
    injects: list[Inject] = Field(default_factory=list)
    objectives: list[Objective] = Field(default_factory=lambda: list(OBJECTIVES), min_length=1)
    scoring: dict[Objective, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)

    def weight(self, objective: Objective) -> int:
        """How much an objective counts (1 unless the exercise says otherwise)."""
        return self.scoring.get(objective, 1)
