"""The adversary probe: it holds the credentials the world gave an agent and keeps trying
them against the lab through the real protocols.

::

    probe = Probe(lab, workdir)
    probe.arm(inventory, "invoice-agent")    # gather the agent's credentials, as an attacker
    results = probe.check()                  # try every path; which still work?
    residual(results)                        # the paths that still work

Each provider's lab plugin names its probe (the built-in ones are :mod:`probe_aws`,
:mod:`probe_entra`, :mod:`probe_gcp`, :mod:`probe_okta`). Every attempt ends in a :class:`PathResult`; where the
lab cannot decide by behaviour, the verdict comes from the state the lab holds and
``decided_by`` says ``state``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from agent_ir.engine.inventory import Inventory
from agent_ir.lab.plugin import lab_plugin
from agent_ir.lab.runner import Lab

DecidedBy = Literal["behaviour", "state"]


@dataclass(frozen=True, slots=True)
class PathResult:
    """One attempt along one path: does the attacker still get in?"""

    provider: str
    path: str
    works: bool
    decided_by: DecidedBy
    detail: str
    principal: str = ""
    """The identity the path makes the attacker (a role ARN, a service account's email, an
    application's client id…), for the paths that lead on from it; empty if none."""

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of one probe result."""
        return {
            "provider": self.provider,
            "path": self.path,
            "works": self.works,
            "decided_by": self.decided_by,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PathResult:
        """The inverse of :meth:`to_json` (raises ``KeyError``/``TypeError`` on bad data)."""
        return cls(
            str(data["provider"]),
            str(data["path"]),
            bool(data["works"]),
            "state" if data["decided_by"] == "state" else "behaviour",
            str(data["detail"]),
        )


def residual(results: list[PathResult]) -> list[PathResult]:
    """The paths that still work."""
    return [r for r in results if r.works]


class ProviderProbe(Protocol):
    """What one provider's probe offers."""

    def arm(self, inventory: Inventory, agent: str) -> None:
        """Gather the credentials the lab gave the agent's identities in this provider."""

    def check(self, reached: set[str]) -> list[PathResult]:
        """Try every gathered credential (and the chains it opens) now. ``reached`` holds
        the principals of the paths that worked in the providers checked before this one
        (AWS, then Entra, GCP, Okta), for paths that start in another provider."""


class Probe:
    """Every provider's probe for one agent on one running lab."""

    def __init__(self, lab: Lab, workdir: Path) -> None:
        self.lab = lab
        self.workdir = workdir
        self.parts: dict[str, ProviderProbe] = {}
        self.never_made: set[str] = set()
        """Identities the attacker tried to spawn and was refused (so later changes to
        them are refused too)."""
        for name in lab.emulators:
            part = _make(name, lab, workdir)
            if part is not None:
                self.parts[name] = part
        for part in self.parts.values():
            # a part that follows paths from another provider's (GCP's federation from
            # AWS) is handed the others, through an optional ``attach(parts)``
            attach = getattr(part, "attach", None)
            if attach is not None:
                attach(self.parts)

    def arm(self, inventory: Inventory, agent: str) -> None:
        """Gather the agent's credentials in every provider the lab runs."""
        for part in self.parts.values():
            part.arm(inventory, agent)

    def check(self) -> list[PathResult]:
        """Try every path in every provider, in provider order; a path that works hands
        its principal on to the providers after it (an AWS role federated into Entra or
        into a GCP workload identity pool)."""
        results: list[PathResult] = []
        reached: set[str] = set()
        for name in sorted(self.parts):
            found = self.parts[name].check(set(reached))
            results.extend(found)
            reached.update(r.principal for r in found if r.works and r.principal)
        return results


def _make(name: str, lab: Lab, workdir: Path) -> ProviderProbe | None:
    """The provider's probe, from its lab plugin (None when it has none)."""
    factory = lab_plugin(name).probe
    return None if factory is None else factory(lab, workdir)
