"""A running exercise: its clock, injects, probe, responses and score, held in one place
and shared by everyone who plays it: the console in-process, or several responders whose
consoles join through ``agent-ir lab serve --exercise`` (see :mod:`agent_ir.tabletop.host`).

The clock is virtual, as in the headless run: it moves when someone advances it to the
next inject, and by the real duration of each response. Responders run their responses
themselves, against the lab, and report each one here (:meth:`LiveExercise.response_finished`);
an incident in the shared journal that no console reported (run from the CLI, say) is
picked up when the exercise ends. The journal of every response says who ran it and why,
and the after-action report merges them all.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent_ir.engine import journal as jr
from agent_ir.engine.incident import journal_dir, load_incident
from agent_ir.engine.inventory import Engine, Inventory
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
    Response,
    TabletopResult,
    apply_inject,
    attempts_after_containment,
    journal_events,
    judge,
    sort_timeline,
)
from agent_ir.tabletop.score import Verdict


@dataclass(frozen=True, slots=True)
class Scorecard:
    """The scored exercise and where its after-action report was written."""

    score: int
    passed: bool
    verdicts: list[Verdict]
    results: list[PathResult]
    markdown: Path
    json: Path

    def to_json(self) -> dict[str, Any]:
        """The JSON shape the exercise host sends."""
        return {
            "score": self.score,
            "passed": self.passed,
            "objectives": [v.to_json() for v in self.verdicts],
            "results": [r.to_json() for r in self.results],
            "report": str(self.markdown),
            "report_json": str(self.json),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scorecard:
        """The inverse of :meth:`to_json` (raises ``KeyError``/``TypeError``/``ValueError``)."""
        return cls(
            int(data["score"]),
            bool(data["passed"]),
            [
                Verdict(v["objective"], bool(v["held"]), int(v["weight"]), str(v["detail"]))
                for v in data["objectives"]
            ],
            [PathResult.from_json(r) for r in data["results"]],
            Path(data["report"]),
            Path(data["report_json"]),
        )


@dataclass(frozen=True, slots=True)
class Status:
    """What a console shows of the exercise: the clock, the injects it has not shown yet
    (from ``since`` on), how many injects have fired in all, and the score once ended."""

    t: float
    next_at: float | None
    events: list[Event]
    fired: int
    ended: Scorecard | None

    def to_json(self) -> dict[str, Any]:
        """The JSON shape the exercise host sends."""
        return {
            "t": round(self.t, 3),
            "next_at": self.next_at,
            "events": [e.to_json() for e in self.events],
            "fired": self.fired,
            "ended": self.ended.to_json() if self.ended else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Status:
        """The inverse of :meth:`to_json`."""
        ended = data.get("ended")
        next_at = data.get("next_at")
        return cls(
            float(data["t"]),
            None if next_at is None else float(next_at),
            [Event.from_json(e) for e in data["events"]],
            int(data["fired"]),
            Scorecard.from_json(ended) if isinstance(ended, dict) else None,
        )


class LiveExercise:
    """One exercise running on ``lab`` against the suspect ``agent``.

    ``settings`` is the configuration the responders use (its journal is where their
    incidents are read from when the exercise is scored); the probe keeps its files in
    ``workdir``; the report goes to ``report`` (Markdown) and ``report_json``.
    """

    def __init__(
        self,
        lab: Lab,
        loaded: LoadedExercise,
        agent: str,
        *,
        settings: Settings,
        workdir: Path,
        report: Path,
        report_json: Path,
    ) -> None:
        loaded.suspect(agent)
        self.lab = lab
        self.loaded = loaded
        self.agent = agent
        self.engine = Engine(settings)
        self.workdir = workdir
        self.report_paths = (report, report_json)
        self.t = 0.0
        self.fired = 0
        self.result = TabletopResult(loaded, agent, 0.0)
        self.injected: list[Event] = []
        self.ended: Scorecard | None = None
        self._probe: Probe | None = None
        self._armed_with: Inventory | None = None
        self._last_probe = 0.0
        self._lock = asyncio.Lock()
        self._started = datetime.now(UTC)

    @property
    def name(self) -> str:
        """The exercise's name."""
        return self.loaded.exercise.name

    @property
    def next_at(self) -> float | None:
        """When the next inject fires (seconds), or None when every inject has fired."""
        injects = self.loaded.exercise.injects
        return injects[self.fired].at if self.fired < len(injects) else None

    async def status(self, since: int = 0) -> Status:
        """The clock, the injects fired from index ``since`` on, and the score if ended."""
        return Status(self.t, self.next_at, self.injected[since:], self.fired, self.ended)

    async def begin(self) -> list[PathResult]:
        """Arm the probe with the suspect's credentials and probe once at the start (only
        the first call does; later ones return the first probe's results)."""
        async with self._lock:
            await self._armed()
            return self.result.probes[0].results

    async def _armed(self) -> Probe:
        if self._probe is not None:
            return self._probe
        inventory = await self.engine.inventory()
        self.result.findings = list(inventory.agent(self.agent).findings)
        probe = Probe(self.lab, self.workdir)
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

    async def advance(self, by: str) -> list[Event]:
        """Move the clock to the next inject and fire every inject due then; a change is
        applied to the lab and probed. ``by`` names who moved the clock."""
        async with self._lock:
            probe = await self._armed()
            injects = self.loaded.exercise.injects
            at = self.next_at
            if at is None:
                return []
            self.t = max(self.t, at)
            self.result.timeline.append(Event(self.t, "clock", f"{by} moves the clock to {at:g}s"))
            events: list[Event] = []
            while self.fired < len(injects) and injects[self.fired].at <= self.t:
                inject = injects[self.fired]
                inventory = self._armed_with or await self.engine.inventory()
                event = await asyncio.to_thread(apply_inject, self.lab, inventory, probe, inject)
                self.fired += 1
                events.append(event)
                self.injected.append(event)
                self.result.timeline.append(event)
            if any(e.kind == "change" for e in events):
                await self._check(f"after the change at {at:g}s")
            return events

    async def residual_access(self) -> list[PathResult]:
        """Probe now: every path the attacker holds, and whether it still works."""
        async with self._lock:
            await self._armed()
            return await self._check(f"check at {self.t:g}s")

    async def response_starting(self) -> float:
        """A responder is about to run a response: the clock time it starts at. Waits out
        the second of the last probe first (a session issued in the same second as a
        revocation cut-off would survive it)."""
        pause = SAME_SECOND_S - (time.monotonic() - self._last_probe)
        if pause > 0:
            await asyncio.sleep(pause)
        return self.t

    async def response_finished(self, response: Response, elapsed: float) -> float:
        """A responder ran ``response`` for ``elapsed`` seconds; the clock moves past it.
        Returns the clock."""
        async with self._lock:
            self.t = max(self.t, response.t + max(0.0, elapsed))
            self.result.responses.append(response)
            what = (
                f"undo of {response.restore_of}"
                if response.restore_of
                else f"playbook {response.playbook}"
            )
            self.result.timeline.append(
                Event(response.t, "response", f"{what} starts ({response.responder})")
            )
            return self.t

    async def end(self) -> Scorecard:
        """Probe a last time (again after the lab's IAM propagation delay if paths still
        work), score the objectives over every response and write the after-action report
        (Markdown and JSON)."""
        async with self._lock:
            await self._armed()
            left = residual(await self._check("at the end"))
            settle = self.lab.settle_s
            if left and settle > 0:
                # a policy write is enforced only after the provider's propagation delay
                await asyncio.sleep(settle)
                self.t += settle
                await self._check(f"at the end, after {settle:g}s of IAM propagation")
            result = self.result
            result.responses += await asyncio.to_thread(self._unreported)
            for response in result.responses:
                events = await asyncio.to_thread(
                    journal_events, self.engine, response.incident, response.t
                )
                result.timeline += [e for e in events if e not in result.timeline]
            latest = result.containment
            result.respond_at = latest.t if latest else self.t
            await attempts_after_containment(self.engine, result, self._started)
            await judge(self.engine, result)
            sort_timeline(result)
            markdown, data = self.report_paths
            await asyncio.to_thread(_write, markdown, report_markdown(result))
            await asyncio.to_thread(_write, data, json.dumps(report_json(result), indent=2) + "\n")
            self.ended = Scorecard(
                result.score,
                result.passed,
                list(result.verdicts),
                list(result.probes[-1].results),
                markdown,
                data,
            )
            return self.ended

    def _unreported(self) -> list[Response]:
        """Incidents in the journal since the exercise started that no console reported
        (a responder ran the CLI, say), placed at the clock's current time."""
        known = {r.incident for r in self.result.responses}
        out = []
        for summary in jr.list_incidents(journal_dir(self.engine)):
            if summary.id in known or summary.started is None or summary.started < self._started:
                continue
            records = load_incident(self.engine, summary.id)
            who = (records[0].payload.get("who") or {}) if records else {}
            out.append(
                Response(
                    self.t,
                    summary.id,
                    str(who.get("responder") or "unknown"),
                    summary.playbook or "unknown",
                    summary.restore_of,
                )
            )
        return sorted(out, key=lambda r: r.incident)

    async def aclose(self) -> None:
        """Close the exercise's own engine."""
        await self.engine.aclose()


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
