"""The console's one door into the engine.

Screens never touch providers: they call these coroutines from workers and render what
comes back. The session keeps the current inventory, so every screen sees the same one,
and counts generations so a screen can tell that it is looking at an older one.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from agent_ir.actions.base import PlannedStep
from agent_ir.engine import incident as incidents
from agent_ir.engine import journal as jr
from agent_ir.engine.executor import EventFn, Tuning
from agent_ir.engine.inventory import AgentView, Engine, Inventory, view
from agent_ir.engine.planner import Plan, make_plan
from agent_ir.engine.report import IncidentReport, read_report, read_reports
from agent_ir.engine.restore_check import check_restorable
from agent_ir.errors import AgentIRError, ProviderError, RefusedError
from agent_ir.model import ProviderName
from agent_ir.playbook.loader import (
    load_playbook,
    resolve_params,
    shipped_playbooks,
    user_playbook_dir,
)
from agent_ir.playbook.model import Playbook
from agent_ir.providers.base import Discovery, ProgressFn, utcnow
from agent_ir.settings import Settings
from agent_ir.tui.plan_summary import PlanSummary, collateral_principals, summarize

AnswerFn = Callable[[ProviderName, "Discovery | ProviderError"], None]
"""Told of each provider's discovery (or error) as it arrives."""

READ_ONLY_REFUSAL = "read-only mode: every write path is closed (started with --read-only)"


@dataclass(frozen=True, slots=True)
class PlaybookEntry:
    """One playbook the picker offers: loaded, or the reason it could not be."""

    name: str
    path: Path
    source: str
    playbook: Playbook | None = None
    problem: str = ""


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """Compile a playbook for an agent; ``params`` are the form's raw text values."""

    agent: str
    playbook: Path
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RestoreRequest:
    """Undo one incident from its snapshots."""

    incident: str
    agent: str


Request = PlanRequest | RestoreRequest


@dataclass(slots=True)
class ReadyPlan:
    """A compiled plan and what the confirmation needs to know about it."""

    plan: Plan
    restore_of: str | None = None
    refusal: str = ""
    warnings: list[str] = field(default_factory=list)
    collateral: list[str] = field(default_factory=list)
    """Principals the plan touches that are not the agent's own, each with whose it is."""

    @property
    def summary(self) -> PlanSummary:
        """The plan header: counts, irreversible steps, collateral, expected verdict, hash."""
        return summarize(self.plan, self.collateral, self.restore_of)


class ConsoleSession:
    """The engine, the current inventory and the incident journal, for one console."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] | None = None,
        tuning: Tuning | None = None,
        responder: str | None = None,
        playbook_dirs: tuple[Path, ...] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or utcnow
        self.tuning = tuning
        self.responder = responder or os.environ.get("AGENT_IR_RESPONDER") or ""
        self.playbook_dirs = playbook_dirs if playbook_dirs is not None else (user_playbook_dir(),)
        self.progress_listener: ProgressFn | None = None
        self.engine = Engine(settings, clock=self.clock, progress=self._progress)
        self.inventory: Inventory | None = None
        self.generation = 0
        self.stale = False
        self.verdicts: dict[str, str] = {}
        """The verdict in words of each agent's last run in this console, by agent."""
        self.pending: set[ProviderName] = set()
        """Providers still discovering: the current inventory lacks what they hold."""
        self._answered = asyncio.Event()
        """Set (and replaced) each time ``pending`` shrinks: wakes whoever waits on it."""

    @property
    def read_only(self) -> bool:
        """True when every write path is closed."""
        return self.settings.read_only

    @property
    def lab(self) -> bool:
        """True when the providers are lab emulators."""
        return self.settings.lab

    def _progress(self, what: str, done: int, total: int | None) -> None:
        listener = self.progress_listener
        if listener is not None:
            listener(what, done, total)

    def configured(self) -> list[ProviderName]:
        """The providers the configuration names, in canonical order."""
        return self.engine.configured()

    async def discover_each(self) -> AsyncIterator[tuple[ProviderName, Discovery | ProviderError]]:
        """Each provider's discovery, or its error, as soon as it finishes."""
        async for name, result in self.engine.discover_each():
            yield name, result

    async def fill(self, on_answer: AnswerFn) -> AsyncIterator[Inventory]:
        """Discover every provider, yielding an inventory of what has answered each time
        one (or more) answers, so a face fills as providers answer instead of waiting for
        the slowest; the last one yielded holds every provider.

        The adapters are built off the event loop (their SDK imports take seconds), and
        answers that arrive while one inventory is assembled are taken together in the next.
        """
        self.pending = set(self.configured())
        try:
            await asyncio.to_thread(self.engine.providers)
            queue: asyncio.Queue[tuple[ProviderName, Discovery | ProviderError] | None]
            queue = asyncio.Queue()
            task = asyncio.create_task(self._collect(queue))
            try:
                async for inv in self._assemble_each(queue, on_answer):
                    yield inv
                await task
            finally:
                task.cancel()
        finally:
            self.pending = set()
            self._tell_answered()

    def _tell_answered(self) -> None:
        self._answered.set()
        self._answered = asyncio.Event()

    async def every_answer(self, waiting: Callable[[list[ProviderName]], None]) -> None:
        """Return once the inventory holds every provider's answer, or the error of one
        that did not answer (a plan then covers the others and names it); ``waiting`` is
        told which providers are still out, first and each time that changes."""
        while self.pending:
            waiting(sorted(self.pending))
            await self._answered.wait()

    async def _collect(
        self, queue: asyncio.Queue[tuple[ProviderName, Discovery | ProviderError] | None]
    ) -> None:
        try:
            async for answer in self.engine.discover_each():
                queue.put_nowait(answer)
        finally:
            queue.put_nowait(None)

    async def _assemble_each(
        self,
        queue: asyncio.Queue[tuple[ProviderName, Discovery | ProviderError] | None],
        on_answer: AnswerFn,
    ) -> AsyncIterator[Inventory]:
        discoveries: dict[ProviderName, Discovery] = {}
        errors: dict[ProviderName, ProviderError] = {}
        finished = False
        while not finished:
            batch = [await queue.get()]
            while not queue.empty():
                batch.append(queue.get_nowait())
            answered: list[ProviderName] = []
            for answer in batch:
                if answer is None:
                    finished = True
                    continue
                name, result = answer
                if isinstance(result, ProviderError):
                    errors[name] = result
                else:
                    discoveries[name] = result
                answered.append(name)
                on_answer(name, result)
            if answered:
                inv = await self.assemble(dict(discoveries), dict(errors))
                # pending only once the inventory holds the answer: a plan waiting on
                # these providers must see what they said
                self.pending.difference_update(answered)
                self._tell_answered()
                yield inv

    async def assemble(
        self,
        discoveries: dict[ProviderName, Discovery],
        errors: dict[ProviderName, ProviderError],
    ) -> Inventory:
        """Correlate what answered (off the event loop) and make it the current inventory."""
        inv = await asyncio.to_thread(self.engine.assemble, discoveries, errors)
        self.inventory = inv
        self.generation += 1
        self.stale = False
        return inv

    async def reload(self) -> Inventory:
        """Discover everything again."""
        return await self.assemble(*await self.engine.discover_all())

    def view(self, agent: str) -> AgentView:
        """One agent of the current inventory with its grants, edges and tree."""
        inv = self._inventory()
        return view(inv, inv.agent(agent))

    def _inventory(self) -> Inventory:
        if self.inventory is None:
            raise AgentIRError("the inventory has not loaded yet")
        return self.inventory

    def playbooks(self) -> list[PlaybookEntry]:
        """The shipped playbooks, then the user's (a broken one is listed with its problem)."""
        found = [(name, path, "shipped") for name, path in shipped_playbooks().items()]
        for directory in self.playbook_dirs:
            if directory.is_dir():
                found += [(p.stem, p, "user") for p in sorted(directory.glob("*.yaml"))]
        entries = []
        for name, path, source in found:
            try:
                entries.append(PlaybookEntry(name, path, source, load_playbook(path)))
            except AgentIRError as exc:
                entries.append(PlaybookEntry(name, path, source, problem=exc.message))
        return entries

    def refuse_writes(self) -> None:
        """Raise RefusedError in read-only mode."""
        if self.read_only:
            raise RefusedError(READ_ONLY_REFUSAL)

    async def prepare(self, request: Request) -> ReadyPlan:
        """The plan a request asks for; reads live state, changes nothing."""
        if isinstance(request, RestoreRequest):
            records = await asyncio.to_thread(
                incidents.load_incident, self.engine, request.incident
            )
            directory = incidents.journal_dir(self.engine)
            check_restorable(directory, request.incident, records, force=False)
            plan, warnings = incidents.restore_plan(request.incident, records)
            return ReadyPlan(
                plan,
                restore_of=request.incident,
                warnings=warnings,
                collateral=collateral_principals(plan, self.inventory),
            )
        if self.pending:
            still = ", ".join(sorted(self.pending))
            raise AgentIRError(f"still reading {still}: a plan needs every provider's answer")
        playbook = await asyncio.to_thread(load_playbook, request.playbook)
        params = resolve_params(playbook, request.params)
        inv = self._inventory()
        plan = await make_plan(
            self.engine, inv, inv.agent(request.agent), playbook, dict(params), self.clock()
        )
        refusal = ""
        try:
            incidents.check_blast_radius(plan)
        except RefusedError as exc:
            refusal = exc.message
        return ReadyPlan(plan, refusal=refusal, collateral=collateral_principals(plan, inv))

    def who(self, reason: str) -> incidents.Who:
        """The responder acting, and why."""
        who = incidents.Who(responder=self.responder, reason=reason)
        return who if self.responder else incidents.Who(responder=who.os_user, reason=reason)

    async def run(
        self,
        ready: ReadyPlan,
        reason: str,
        approved: Callable[[PlannedStep], bool],
        on_event: EventFn,
    ) -> incidents.Outcome:
        """Journal and run a confirmed plan; the inventory is stale afterwards."""
        self.refuse_writes()
        try:
            outcome = await incidents.execute(
                self.engine,
                ready.plan,
                self.who(reason),
                approved=approved,
                on_event=on_event,
                tuning=self.tuning,
                restore_of=ready.restore_of,
            )
        finally:
            self.stale = True
        outcome.warnings.extend(ready.warnings)
        if outcome.verdict is not None:
            self.verdicts[outcome.plan.agent] = outcome.verdict.label
        return outcome

    def incidents(self, agent: str | None = None) -> list[jr.IncidentSummary]:
        """Incidents in this environment's journal, newest first; only ``agent``'s if given."""
        directory = incidents.journal_dir(self.engine)
        if not directory.is_dir():
            return []
        found = jr.list_incidents(directory)
        if agent is None:
            return found
        return [i for i in found if (i.agent or "").lower() == agent.lower()]

    def incident_reports(self, agent: str | None = None) -> list[IncidentReport]:
        """Incidents read whole (who, why, verdict, restored by), newest first."""
        return read_reports(incidents.journal_dir(self.engine), agent)

    def incident_report(self, incident: str) -> IncidentReport:
        """One incident read whole."""
        return read_report(incidents.journal_dir(self.engine), incident)

    async def aclose(self) -> None:
        """Close every adapter."""
        await self.engine.aclose()
