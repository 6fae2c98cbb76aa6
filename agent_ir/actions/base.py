"""The contract of one provider's implementation of a catalog action.

An implementation declares the permissions it needs (to apply and to restore), whether it
can be undone, and its hazards; it turns a scope of the agent's graph into planned steps
(pure, no I/O), and for each step knows how to read the live state, apply, tell whether
the state is already what the plan predicts, and undo from a snapshot.

Example (each implementation's docstring carries its playbook YAML)::

    - id: cut-keys
      action: disable-credentials
      providers: [aws]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from agent_ir.model import Agent, Edge, Grant, Identity, ProviderName

if TYPE_CHECKING:
    from agent_ir.actions.catalog import ActionParams


class GraphView(Protocol):
    """The delegation graph as actions read it (the engine's ``Graph`` is one)."""

    def outgoing(self, principal: str) -> list[Edge]:
        """Edges out of ``principal``."""
        ...

    def incoming(self, principal: str) -> list[Edge]:
        """Edges into ``principal``."""
        ...

    def reach(self, starts: Iterable[str]) -> list[tuple[str, list[Edge]]]:
        """Every principal reachable from ``starts``, with the path to it."""
        ...


class InventoryView(Protocol):
    """What an action plans from: the inventory's identities, grants and graph (the
    engine's ``Inventory`` is one), so the contract does not depend on the engine."""

    @property
    def identities(self) -> dict[str, Identity]:
        """Every identity found, by id."""
        ...

    @property
    def grants(self) -> dict[str, list[Grant]]:
        """Grants by identity id."""
        ...

    @property
    def graph(self) -> GraphView:
        """The delegation and reachability graph."""
        ...


class Reversibility(StrEnum):
    """Whether a step can be undone."""

    YES = "yes"
    SIDE_EFFECTS = "side-effects"
    NO = "no"


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One provider call of a plan, with everything the responder must see before it runs.

    ``operation`` is what the adapter needs to act (JSON-able, never a secret);
    ``current`` is the live state read while planning; ``predicted`` what it will be after.
    """

    id: str
    step: str
    provider: ProviderName
    action: str
    target: str
    target_label: str
    identity: str
    current: dict[str, Any]
    predicted: dict[str, Any]
    reversible: Reversibility
    hazards: tuple[str, ...]
    permissions: tuple[str, ...]
    operation: dict[str, Any]
    phase: int
    on_error: str = "continue"
    approve: bool = False
    undo: bool = False
    """True for a restore step: ``predicted`` is then the snapshot to return to."""

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of a plan step."""
        return {
            "id": self.id,
            "step": self.step,
            "provider": self.provider,
            "action": self.action,
            "target": self.target,
            "target_label": self.target_label,
            "identity": self.identity,
            "current": self.current,
            "predicted": self.predicted,
            "reversible": self.reversible.value,
            "hazards": list(self.hazards),
            "permissions": list(self.permissions),
            "operation": self.operation,
            "phase": self.phase,
            "on_error": self.on_error,
            "approve": self.approve,
            "undo": self.undo,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlannedStep:
        """Rebuild a step from its JSON (the journal keeps plans this way)."""
        return cls(
            id=data["id"],
            step=data["step"],
            provider=data["provider"],
            action=data["action"],
            target=data["target"],
            target_label=data["target_label"],
            identity=data["identity"],
            current=data["current"],
            predicted=data["predicted"],
            reversible=Reversibility(data["reversible"]),
            hazards=tuple(data["hazards"]),
            permissions=tuple(data["permissions"]),
            operation=data["operation"],
            phase=data["phase"],
            on_error=data.get("on_error", "continue"),
            approve=data.get("approve", False),
            undo=data.get("undo", False),
        )


@dataclass(frozen=True, slots=True)
class Draft:
    """What an implementation proposes for one target, before the planner numbers it."""

    target: str
    target_label: str
    identity: str
    current: dict[str, Any]
    predicted: dict[str, Any]
    operation: dict[str, Any]
    hazards: tuple[str, ...] = ()
    reversible: Reversibility | None = None
    """Overrides the implementation's reversibility for this one step (e.g. a secret among
    certificates: the action can be undone, this step cannot)."""


@dataclass(slots=True)
class PlanContext:
    """What an implementation sees while planning one step for one agent."""

    agent: Agent
    inventory: InventoryView
    targets: list[Identity]
    params: ActionParams
    now: datetime
    facts: object = None
    """The provider's discovery facts (its plugin's ``facts`` type), from
    :meth:`~agent_ir.providers.base.Provider.plan_facts`; None when planning without one."""
    notes: list[str] = field(default_factory=list)


A = TypeVar("A")


class ProviderAction(ABC, Generic[A]):
    """One provider's implementation of one catalog action; ``A`` is its adapter type."""

    action: ClassVar[str]
    provider: ClassVar[ProviderName]
    permissions: ClassVar[tuple[str, ...]]
    restore_permissions: ClassVar[tuple[str, ...]]
    reversible: ClassVar[Reversibility]
    hazards: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def plan(self, ctx: PlanContext) -> list[Draft]:
        """Propose steps for the targets, from the inventory alone (no I/O)."""

    def prepare(self, step: PlannedStep, now: datetime) -> dict[str, Any]:
        """Fix any value chosen at run time (a cut-off instant), journaled before the call;
        a resumed run reuses it so nothing moves."""
        return {}

    @abstractmethod
    async def read(self, adapter: A, step: PlannedStep) -> dict[str, Any]:
        """The live state of the step's target, in the shape of ``predicted``."""

    @abstractmethod
    def done(self, state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]) -> bool:
        """Whether ``state`` already is what the step aims for."""

    @abstractmethod
    async def apply(self, adapter: A, step: PlannedStep, prepared: dict[str, Any]) -> None:
        """Make the change (idempotent: applying twice leaves the same state)."""

    async def restore(self, adapter: A, step: PlannedStep, snapshot: dict[str, Any]) -> list[str]:
        """Put the target back as ``snapshot`` recorded it; returns hazards to report."""
        from agent_ir.errors import RefusedError

        raise RefusedError(f"{self.action} on {self.provider} cannot be undone")

    def restored(self, state: dict[str, Any], snapshot: dict[str, Any]) -> bool:
        """Whether ``state`` matches the snapshot again."""
        return state == snapshot
