"""The verdict on a containment: is the agent contained, until when, or still open?

``contained``: no path left. ``contained-until T``: only held tokens remain, and the last
of them expires at T. ``open``: some path has no end (a credential still active, a step
that did not take effect, a provider that was not planned). Callers pass the providers a
run could not plan or reach; any of them makes the verdict ``open``, whatever else holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from agent_ir.engine.residual import Residual
from agent_ir.model import iso

VerdictKind = Literal["contained", "contained-until", "open"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The verdict, the moment it ends (for ``contained-until``) and why it is not better."""

    kind: VerdictKind
    until: datetime | None = None
    why: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``contained``, ``contained-until <ISO time>`` or ``open`` (the JSON value)."""
        if self.kind == "contained-until" and self.until is not None:
            return f"contained-until {iso(self.until)}"
        return self.kind

    @property
    def words(self) -> str:
        """The verdict in words, for a responder at 3 a.m."""
        if self.kind == "contained":
            return "CONTAINED: no path by which the agent can act remains"
        if self.kind == "contained-until":
            return (
                f"CONTAINED UNTIL {iso(self.until)}: only tokens it already holds still work, "
                "and the last of them expires then"
            )
        return "OPEN: the agent can still act; " + "; ".join(self.why)

    def to_json(self) -> dict[str, Any]:
        """The journaled shape."""
        return {"verdict": self.label, "until": iso(self.until), "why": list(self.why)}


def verdict(residual: Iterable[Residual], unplanned: Iterable[str] = ()) -> Verdict:
    """The verdict on what remains; ``unplanned``: providers the agent spans that no plan
    covered (unconfigured, not answering): their paths are unknown, so the verdict is open."""
    left = list(residual)
    missing = sorted(set(unplanned))
    why: list[str] = []
    if missing:
        why.append(f"providers not planned: {', '.join(missing)}")
    endless = [r for r in left if r.until is None]
    if endless:
        why.append(f"{len(endless)} path(s) with no end")
    if why:
        return Verdict("open", None, tuple(why))
    if not left:
        return Verdict("contained")
    return Verdict("contained-until", max(r.until for r in left if r.until is not None))


def assess(
    paths: Iterable[Any],
    effective: set[str],
    unplanned: Iterable[str],
    cut_at: datetime,
    restore_of: str | None = None,
) -> tuple[list[Residual], Verdict]:
    """Residual paths and the verdict after a run: a path is cut only by a step that
    verified or was already so. A restore re-opens on purpose: its verdict is open."""
    from agent_ir.engine.residual import residual

    if restore_of is not None:
        return [], Verdict("open", None, (f"restore of {restore_of}: the agent's access is back",))
    left = residual(paths, effective, cut_at)
    return left, verdict(left, unplanned)
