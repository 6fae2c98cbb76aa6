"""The ``activity:`` section of a world: seeded audit-log history, for every provider.

Each entry says who did what, how often, over which past days and hours; the lab of the
entry's provider turns the planned calls into records in that provider's own log format
(CloudTrail for AWS, Graph sign-ins/directory audits for Entra, Cloud Audit Logs for GCP,
the Okta System Log). Placement is deterministic: the same world, entry and ``now`` give
the same events. Documented in ``docs/lab-fidelity.md`` ("Seeded activity").

    activity:
      - provider: aws
        identity: "arn:aws:iam::111111111111:user/invoice-agent"   # who signs the calls
        via: ["arn:aws:iam::111111111111:role/invoice-processor",  # roles assumed in order;
              "arn:aws:iam::222222222222:role/finance-data-reader"] # the last one acts
        session: invoice-nightly            # role session name (AWS) / token id
        actions: ["s3:GetObject", "s3:ListBucket"]
        resources: ["arn:aws:s3:::corp-finance-data/ledger/2026-02.csv"]
        count: 40
        past_days: 3                        # spread over the last three days
        hours: [0, 5]                       # UTC hours [from, to): overnight
        denied: 2                           # how many of count are refused
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent_ir.model import ProviderName

Outcome = Literal["success", "denied"]


class ActivitySpec(BaseModel):
    """One line of seeded history: ``count`` calls by ``identity`` (through ``via``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: ProviderName
    identity: str = Field(min_length=1)
    via: list[str] = Field(default_factory=list)
    session: str = ""
    actions: list[str] = Field(min_length=1)
    resources: list[str] = Field(default_factory=list)
    count: int = Field(1, ge=1, le=1_000_000)
    past_days: float = Field(1.0, gt=0, le=400)
    hours: tuple[int, int] | None = None
    denied: int = Field(0, ge=0)
    source_ip: str = "198.51.100.24"
    user_agent: str = ""
    seed: int = 0

    @model_validator(mode="after")
    def _coherent(self) -> ActivitySpec:
        if self.denied > self.count:
            raise ValueError("denied cannot exceed count")
        if self.hours is not None:
            start, end = self.hours
            if not (0 <= start < end <= 24):
                raise ValueError("hours is [from, to) with 0 <= from < to <= 24")
        return self


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """One seeded call: when, what, on which resource, and whether it was refused."""

    when: datetime
    action: str
    resource: str
    outcome: Outcome
    number: int
    """Its position in the entry (0-based), for stable ids."""


def plan(spec: ActivitySpec, now: datetime, salt: str = "") -> list[PlannedCall]:
    """The calls of one entry, oldest first, placed deterministically before ``now``.

    ``salt`` (the world's name and the entry's index) keeps two identical entries apart.
    The denied calls are spread through the entry, not bunched at one end.
    """
    rng = random.Random(f"{salt}:{spec.seed}:{spec.identity}:{spec.count}")
    span = timedelta(days=spec.past_days)
    moments = sorted(_moment(spec, now, span, rng) for _ in range(spec.count))
    refused = set(rng.sample(range(spec.count), spec.denied))
    resources = spec.resources or [""]
    return [
        PlannedCall(
            when,
            spec.actions[n % len(spec.actions)],
            resources[rng.randrange(len(resources))],
            "denied" if n in refused else "success",
            n,
        )
        for n, when in enumerate(moments)
    ]


def _moment(spec: ActivitySpec, now: datetime, span: timedelta, rng: random.Random) -> datetime:
    """A moment in the last ``span`` before ``now``, within ``hours`` when given."""
    start = now - span
    if spec.hours is None:
        return start + span * rng.random()
    first, last = spec.hours
    days = max(1, int(spec.past_days + 0.999))
    for _ in range(64):
        day = (now - timedelta(days=rng.randrange(days))).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        moment = day + timedelta(hours=first + (last - first) * rng.random())
        if start <= moment < now:
            return moment
    # the window and the hours barely overlap: fall back to any moment in the window
    return start + span * rng.random()
