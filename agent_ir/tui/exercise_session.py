"""The console's door into a running exercise: the clock, the injects, the probe and the
score, on top of the normal console session.

The clock is virtual, as in the headless run: it moves only when the facilitator advances
it to the next inject, and by the real duration of each response the responders run.
Screens call these coroutines from workers; nothing here touches Textual.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from agent_ir.actions.base import PlannedStep
from agent_ir.engine import incident as incidents
from agent_ir.engine.executor import EventFn, Tuning
from agent_ir.engine.inventory import Inventory
from agent_ir.errors import UsageError
from agent_ir.lab.runner import Lab
from agent_ir.settings import Settings
from agent_ir.tabletop.loader import LoadedExercise
from agent_ir.tabletop.probe import PathResult, Probe, residual
from agent_ir.tabletop.report import report_json, report_markdown
from agent_ir.tabletop.run import (
    SAME_SECOND_S,
    Event,
    ProbeRun,
    TabletopResult,
    apply_inject,
    irreversible_steps,
    journal_events,
    judge,
    sort_timeline,
)
from agent_ir.tui.session import ConsoleSession, ReadyPlan


@dataclass(frozen=True, slots=True)
class EndOfExercise:
    """The scored exercise and where its after-action report was written."""

    result: TabletopResult
    markdown: Path
    json: Path


@dataclass(frozen=True, slots=True)
class _Response:
    t: float
    outcome: incidents.Outcome


class ExerciseSession(ConsoleSession):
    """A console session on an exercise's running lab, played against one suspect."""

    def __init__(
        self,
        settings: Settings,
        lab: Lab,
        loaded: LoadedExercise,
        agent: str,
        *,
        workdir: Path,
        report: Path,
        report_json: Path,
        clock: Callable[[], datetime] | None = None,
        tuning: Tuning | None = None,
        responder: str | None = None,
        playbook_dirs: tuple[Path, ...] | None = None,
    ) -> None:
        super().__init__(
            settings, clock=clock, tuning=tuning, responder=responder, playbook_dirs=playbook_dirs
        )
        self.exercise_lab = lab
        self.loaded = loaded
        self.agent = agent
        self.workdir = workdir
        self.report_paths = (report, report_json)
        self.t = 0.0
        self.fired = 0
        self.result = TabletopResult(loaded, agent, 0.0)
        self._probe: Probe | None = None
        self._armed_with: Inventory | None = None
        self._last_probe = 0.0
        self._responses: list[_Response] = []
        self._lock = asyncio.Lock()

    @property
    def name(self) -> str:
        """The exercise's name."""
        return self.loaded.exercise.name

    @property
    def next_at(self) -> float | None:
        """When the next inject fires (seconds), or None when every inject has fired."""
        injects = self.loaded.exercise.injects
        return injects[self.fired].at if self.fired < len(injects) else None

    async def begin(self) -> list[PathResult]:
        """Arm the probe with the suspect's credentials and probe once at the start."""
        async with self._lock:
            await self._armed()
            return self.result.probes[-1].results

    async def _armed(self) -> Probe:
        if self._probe is not None:
            return self._probe
        inventory = await self.engine.inventory()
        self.result.findings = list(inventory.agent(self.agent).findings)
        probe = Probe(self.exercise_lab, self.workdir)
        await asyncio.to_thread(probe.arm, inventory, self.agent)
        self._probe, self._armed_with = probe, inventory
        await self._check("start")
        return probe

    async def _check(self, label: str) -> list[PathResult]:
        probe = self._probe
        if probe is None:
            return []
        results = await asyncio.to_thread(probe.check)
        self._last_probe = time.monotonic()
        self.result.probes.append(ProbeRun(self.t, label, results))
        text = f"probe {label}: {len(residual(results))} of {len(results)} paths work"
        self.result.timeline.append(Event(self.t, "probe", text))
        return results

    async def advance(self) -> list[Event]:
        """Move the clock to the next inject and fire every inject due then; a change is
        applied to the lab (the inventory is stale afterwards) and probed."""
        async with self._lock:
            probe = await self._armed()
            injects = self.loaded.exercise.injects
            at = self.next_at
            if at is None:
                return []
            self.t = max(self.t, at)
            events: list[Event] = []
            while self.fired < len(injects) and injects[self.fired].at <= self.t:
                inject = injects[self.fired]
                self.fired += 1
                inventory = self._armed_with or await self.engine.inventory()
                event = await asyncio.to_thread(
                    apply_inject, self.exercise_lab, inventory, probe, inject
                )
                events.append(event)
                self.result.timeline.append(event)
            if any(e.kind == "change" for e in events):
                self.stale = True
                await self._check(f"after the change at {at:g}s")
            return events

    async def residual_access(self) -> list[PathResult]:
        """Probe now: every path the attacker holds, and whether it still works."""
        async with self._lock:
            await self._armed()
            return await self._check(f"facilitator check at {self.t:g}s")

    async def run(
        self,
        ready: ReadyPlan,
        reason: str,
        approved: Callable[[PlannedStep], bool],
        on_event: EventFn,
    ) -> incidents.Outcome:
        """Run a confirmed plan as the console does, on the exercise's clock."""
        pause = SAME_SECOND_S - (time.monotonic() - self._last_probe)
        if pause > 0:
            # a session issued in the probe's second would survive a revocation cut-off
            await asyncio.sleep(pause)
        started_at, started = self.t, time.monotonic()
        outcome = await super().run(ready, reason, approved, on_event)
        self.t += time.monotonic() - started
        self._responses.append(_Response(started_at, outcome))
        what = (
            f"undo of {ready.restore_of}" if ready.restore_of else f"playbook {ready.plan.playbook}"
        )
        who = self.who(reason).responder
        self.result.timeline.append(Event(started_at, "response", f"{what} starts ({who})"))
        return outcome

    async def end(self) -> EndOfExercise:
        """Probe a last time, score the objectives against the latest response and write
        the after-action report (Markdown and JSON)."""
        async with self._lock:
            await self._armed()
            await self._check("at the end")
            result = self.result
            for response in self._responses:
                events = await asyncio.to_thread(
                    journal_events, self.engine, response.outcome.incident, response.t
                )
                result.timeline += [e for e in events if e not in result.timeline]
            contained = [r for r in self._responses if r.outcome.restore_of is None]
            latest = contained[-1] if contained else None
            result.outcome = latest.outcome if latest else None
            result.respond_at = latest.t if latest else self.t
            result.irreversible = irreversible_steps(latest.outcome.plan) if latest else []
            result.verdicts = await judge(
                self.engine, result, latest.outcome.incident if latest else None
            )
            sort_timeline(result)
            markdown, data = self.report_paths
            await asyncio.to_thread(_write, markdown, report_markdown(result))
            await asyncio.to_thread(_write, data, json.dumps(report_json(result), indent=2) + "\n")
            return EndOfExercise(result, markdown, data)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
