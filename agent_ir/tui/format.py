"""Plain-text formatting the console's widgets share (no Textual here; easy to test).

Everything a colour says is also said in words: risk is "CRITICAL", a risky grant carries
"[ADMIN]", a status is "verified".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent_ir.model import Agent, Credential, Severity

NO_RISK = "none"


def age_days(moment: datetime | None, now: datetime) -> int | None:
    """Whole days between ``moment`` and ``now`` (None when unknown)."""
    if moment is None:
        return None
    return max((now - moment).days, 0)


def age_text(moment: datetime | None, now: datetime, *, never: str = "never") -> str:
    """ "today", "3d ago", or ``never``."""
    days = age_days(moment, now)
    if days is None:
        return never
    return "today" if days == 0 else f"{days}d ago"


def risk_text(risk: Severity | None) -> str:
    """The risk as a word in capitals ("CRITICAL"), or "none"."""
    return risk.value.upper() if risk else NO_RISK


def brief(state: dict[str, Any], limit: int = 60) -> str:
    """A one-line rendering of a step's state."""
    if not state:
        return "{}"
    text = ", ".join(f"{k}={_value(v)}" for k, v in sorted(state.items()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _value(value: Any) -> str:
    if isinstance(value, str | int | float | bool) or value is None:
        return str(value)
    return json.dumps(value, sort_keys=True, default=str)


def verdict_words(label: str) -> str:
    """A run's verdict, short enough for a column: ``contained``, ``contained until
    HH:MMZ`` or ``OPEN (paths remain)``."""
    kind, _, until = label.partition(" ")
    if kind == "contained-until":
        return f"contained until {until[11:16]}Z" if len(until) >= 16 else "contained until"
    if kind == "open":
        return "OPEN (paths remain)"
    return kind


def compact_status(status: str) -> str:
    """The agent list's status in fewer letters, for a narrow column, saying the same:
    ``cont. until 09:12Z``, ``OPEN: paths left``, ``partly 4/6 off``."""
    if status.startswith("contained until "):
        return "cont. until " + status.removeprefix("contained until ")
    if status == "OPEN (paths remain)":
        return "OPEN: paths left"
    if status.startswith("partly (") and status.endswith(")"):
        return "partly " + status[len("partly (") : -1]
    return status


def agent_status(agent: Agent) -> str:
    """ "active", "disabled", or "partly disabled (n/m)" from the identities' statuses."""
    identities = agent.identities
    inactive = sum(1 for i in identities if i.status != "active")
    if not identities or inactive == 0:
        return "active"
    if inactive == len(identities):
        return "disabled"
    return f"partly ({inactive}/{len(identities)} off)"


def oldest_active_credential(agent: Agent) -> Credential | None:
    """The agent's oldest active credential with a creation date."""
    creds = [
        c for i in agent.identities for c in i.credentials if c.status == "active" and c.created
    ]
    return min(creds, key=lambda c: c.created or datetime.max) if creds else None


@dataclass(frozen=True, slots=True)
class AgentRow:
    """One line of the agent list, ready to sort, filter and draw."""

    name: str
    owner: str
    providers: str
    risk: str
    risk_rank: int
    credentials: int
    oldest_days: int | None
    status: str
    haystack: str

    def cell(self, column: str) -> str:
        """The text shown in one column."""
        if column == "credentials":
            return str(self.credentials)
        if column == "oldest":
            return "-" if self.oldest_days is None else f"{self.oldest_days}d"
        value: str = getattr(self, column)
        return value

    def sort_key(self, column: str) -> tuple[Any, ...]:
        """A key that sorts this row by ``column`` (ties by name)."""
        if column == "risk":
            return (self.risk_rank, self.name)
        if column == "credentials":
            return (self.credentials, self.name)
        if column == "oldest":
            return (-1 if self.oldest_days is None else self.oldest_days, self.name)
        return (getattr(self, column).lower(), self.name)


def agent_row(agent: Agent, now: datetime, verdict: str | None = None) -> AgentRow:
    """The list line of one agent; after a run, its status is the run's verdict in words."""
    oldest = oldest_active_credential(agent)
    owner = agent.owner or "(no owner)"
    providers = ",".join(agent.providers)
    risk = risk_text(agent.risk)
    status = verdict_words(verdict) if verdict else agent_status(agent)
    return AgentRow(
        name=agent.name,
        owner=owner,
        providers=providers,
        risk=risk,
        risk_rank=agent.risk.rank if agent.risk else -1,
        credentials=sum(len(i.credentials) for i in agent.identities),
        oldest_days=age_days(oldest.created, now) if oldest else None,
        status=status,
        haystack=" ".join((agent.name, owner, providers, risk, status)).lower(),
    )
