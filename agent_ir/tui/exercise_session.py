"""The console's door into a running exercise: the clock, the injects, the probe and the
score, on top of the normal console session.

The exercise itself lives behind an :class:`ExercisePort`: in this process
(:class:`~agent_ir.tabletop.live.LiveExercise`, when one console plays it) or in the lab
host several responders join (:class:`~agent_ir.tabletop.remote.RemoteExercise`). Either
way this console runs its responses itself, against the lab, and reports each one to the
exercise. Screens call these coroutines from workers; nothing here touches Textual.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from agent_ir.actions.base import PlannedStep
from agent_ir.engine import incident as incidents
from agent_ir.engine.executor import EventFn, Tuning
from agent_ir.settings import Settings
from agent_ir.tabletop.live import Scorecard, Status
from agent_ir.tabletop.probe import PathResult
from agent_ir.tabletop.run import Event, Response, irreversible_steps
from agent_ir.tui.session import ConsoleSession, ReadyPlan


class ExercisePort(Protocol):
    """What a console needs of a running exercise."""

    @property
    def name(self) -> str:
        """The exercise's name."""

    @property
    def next_at(self) -> float | None:
        """When the next inject fires, as last known."""

    async def begin(self) -> list[PathResult]:
        """Arm the probe and probe once (only the first call anywhere does)."""

    async def status(self, since: int = 0) -> Status:
        """The clock, the injects fired from index ``since`` on, and the score if ended."""

    async def advance(self, by: str) -> list[Event]:
        """Fire the next inject(s); ``by`` names who moved the clock."""

    async def residual_access(self) -> list[PathResult]:
        """Probe now."""

    async def response_starting(self) -> float:
        """The clock time a response about to run starts at."""

    async def response_finished(self, response: Response, elapsed: float) -> float:
        """Report a response that ran for ``elapsed`` seconds; returns the clock."""

    async def end(self) -> Scorecard:
        """Score the exercise and write the after-action report."""

    async def aclose(self) -> None:
        """Release what the port holds (connections, an engine)."""


class ExerciseSession(ConsoleSession):
    """A console session on an exercise's lab, played against one suspect."""

    def __init__(
        self,
        settings: Settings,
        port: ExercisePort,
        *,
        clock: Callable[[], datetime] | None = None,
        tuning: Tuning | None = None,
        responder: str | None = None,
        playbook_dirs: tuple[Path, ...] | None = None,
    ) -> None:
        super().__init__(
            settings, clock=clock, tuning=tuning, responder=responder, playbook_dirs=playbook_dirs
        )
        self.port = port
        self.t = 0.0
        self.next_at: float | None = port.next_at
        self.ended: Scorecard | None = None
        self._seen = 0

    @property
    def name(self) -> str:
        """The exercise's name."""
        return self.port.name

    @property
    def me(self) -> str:
        """Who this console's responder is."""
        return self.who("").responder

    async def begin(self) -> list[PathResult]:
        """Arm the probe (if nobody has yet); :meth:`sync` then catches up."""
        return await self.port.begin()

    async def sync(self) -> list[Event]:
        """Catch up with the exercise: the clock, and the injects this console has not
        shown yet (a change to the lab makes the inventory stale)."""
        status = await self.port.status(self._seen)
        self._seen = status.fired
        self.t, self.next_at = status.t, status.next_at
        self.ended = status.ended
        if any(e.kind == "change" for e in status.events):
            self.stale = True
        return status.events

    async def advance(self) -> list[Event]:
        """Move the clock to the next inject; the injects this console has not shown yet."""
        await self.port.advance(self.me)
        return await self.sync()

    async def residual_access(self) -> list[PathResult]:
        """Probe now: every path the attacker holds, and whether it still works."""
        results = await self.port.residual_access()
        await self.sync()
        return results

    async def run(
        self,
        ready: ReadyPlan,
        reason: str,
        approved: Callable[[PlannedStep], bool],
        on_event: EventFn,
    ) -> incidents.Outcome:
        """Run a confirmed plan as the console does, on the exercise's clock, and report
        it to the exercise."""
        started_at = await self.port.response_starting()
        started = time.monotonic()
        outcome = await super().run(ready, reason, approved, on_event)
        response = Response(
            started_at,
            outcome.incident,
            self.who(reason).responder,
            ready.plan.playbook,
            ready.restore_of,
            tuple(irreversible_steps(ready.plan)) if ready.restore_of is None else (),
        )
        await self.port.response_finished(response, time.monotonic() - started)
        await self.sync()
        return outcome

    async def end(self) -> Scorecard:
        """Score the exercise and write the after-action report."""
        card = await self.port.end()
        self.ended = card
        await self.sync()
        return card

    async def aclose(self) -> None:
        """Close the exercise port, then the session's engine."""
        try:
            await self.port.aclose()
        finally:
            await super().aclose()
