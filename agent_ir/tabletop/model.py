"""The typed exercise model. Unknown keys are refused everywhere and values are checked
strictly, as in playbooks.

An exercise names a world (a file relative to the exercise, or ``default``), a narrative,
the suspect agents, timed injects (an alert for the responders, or a change an attacker
makes to the lab), the objectives that score the response and their weights.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent_ir.providers.known import KnownProvider

Objective = Literal["no-residual-access", "no-benign-agent-touched", "every-write-has-reason"]
OBJECTIVES: tuple[Objective, ...] = (
    "no-residual-access",
    "no-benign-agent-touched",
    "every-write-has-reason",
)
"""The objectives an exercise may score."""

Provider = KnownProvider
"""A provider an exercise names: any installed provider plugin."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class AlertInject(_Strict):
    """An alert shown to the responders at ``at`` seconds."""

    kind: Literal["alert"]
    at: float = Field(ge=0, description="seconds from the start of the exercise")
    text: str = Field(min_length=1)


class _Change(_Strict):
    kind: Literal["change"]
    at: float = Field(ge=0, description="seconds from the start of the exercise")
    text: str = Field("", description="what the responders are told happened (optional)")


class NewAccessKey(_Change):
    """A new access key for the AWS user ``user`` (in ``account``, the world's first account
    unless given); the probe holds it from then on. A user already at IAM's quota of two
    keys loses its oldest key first, as an attacker would make room."""

    change: Literal["new-access-key"]
    user: str = Field(min_length=1)
    account: str | None = None

    @property
    def provider(self) -> Provider:
        """The provider the change is made in."""
        return "aws"


class NewConsent(_Change):
    """A new grant of ``scope`` to the application ``app``, made with the agent's own
    power: in Entra an application permission (app role) of Microsoft Graph assigned to the
    app's service principal; in Okta an Okta API scope granted to the service app. The
    probe asks for a token carrying the scope from then on."""

    change: Literal["new-consent"]
    provider: Literal["entra", "okta"]
    app: str = Field(min_length=1, description="the application, by its world name or label")
    scope: str = Field(min_length=1, description="Graph app role or Okta API scope")


class SpawnSubAgent(_Change):
    """A new identity the agent creates for itself, with its own credential, named
    ``name``; ``parent`` is where it is made (Entra: the agent blueprint it is created
    from; AWS: the account; GCP and Okta: unused). The probe holds its credential."""

    change: Literal["spawn-sub-agent"]
    provider: Provider
    name: str = Field(min_length=1)
    parent: str | None = None


class NewBinding(_Change):
    """A new IAM binding in Google Cloud: ``member`` gets ``role`` on ``resource`` (a
    service account's email, or ``project``). Granting a token-creator role on a service
    account opens an impersonation path, which the probe tries from then on."""

    change: Literal["new-binding"]
    provider: Literal["gcp"]
    member: str = Field(min_length=1, description="e.g. serviceAccount:NAME@PROJECT.iam...")
    role: str = Field(min_length=1, description="e.g. roles/iam.serviceAccountTokenCreator")
    resource: str = Field(min_length=1)


Change = NewAccessKey | NewConsent | SpawnSubAgent | NewBinding
"""A change an attacker makes to the lab at ``at`` seconds."""

ChangeInject = Annotated[Change, Field(discriminator="change")]

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
