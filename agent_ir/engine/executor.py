"""The executor: run a plan, journaling intent before every call and the result after.

Providers run concurrently; within one provider steps run phase by phase (credentials →
sessions → grants and delegations → identity), with bounded concurrency inside a phase.
Every step reads the live state first (so applying twice is harmless and an already-done
step is recorded as ``already``), retries transient errors with backoff, and is verified
by reading back, polling a little for eventual consistency. A phase starts as soon as the
previous one's writes have landed: its read-backs run beside it, so the cut is not held
up by eventual consistency. One provider failing never stops another. A crashed run
resumes from its journal without repeating finished steps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from agent_ir.actions.base import PlannedStep, ProviderAction
from agent_ir.engine.journal import Journal, Kind
from agent_ir.engine.ratebudget import RateBudget
from agent_ir.errors import (
    AgentIRError,
    BadResponse,
    ProviderError,
    ProviderUnavailable,
    Throttled,
    unexpected,
)
from agent_ir.model import ProviderName
from agent_ir.providers import registry
from agent_ir.providers.base import Provider


class Status(StrEnum):
    """How a step ended; exactly one per step."""

    VERIFIED = "verified"
    APPLIED_UNVERIFIED = "applied-unverified"
    ALREADY = "already"
    SKIPPED = "skipped"
    FAILED = "failed"


SUCCESS = {Status.VERIFIED, Status.ALREADY, Status.SKIPPED}
MAX_PROVIDER_WAIT_S = 120.0


@dataclass(slots=True)
class StepResult:
    """The end of one step."""

    step: PlannedStep
    status: Status
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    unavailable: bool = False
    """The step failed because its provider did not answer (down, throttled, too slow)."""

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of a step result."""
        return {
            "id": self.step.id,
            "provider": self.step.provider,
            "action": self.step.action,
            "target": self.step.target,
            "target_label": self.step.target_label,
            "status": self.status.value,
            "error": self.error,
            "notes": self.notes,
        }


@dataclass(slots=True)
class Tuning:
    """Retry and verification pacing (tests shorten it; production keeps the defaults)."""

    attempts: int = 4
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    verify_polls: int = 6
    verify_interval_s: float = 0.25
    per_provider_concurrency: int = 4
    step_deadline_s: float = 60.0
    run_deadline_s: float | None = None
    """None: sized from the plan (see :func:`run_deadline`)."""
    rates: dict[str, float] = field(default_factory=dict)
    """Calls per second per provider scope (account/tenant/project/org), when known;
    absent: only the providers' own answers pace the run (see :mod:`.ratebudget`)."""


def run_deadline(steps: list[PlannedStep], tuning: Tuning) -> float:
    """The default deadline of a whole run: each provider's phases run one after another,
    ``per_provider_concurrency`` steps at a time, each within the step deadline; providers
    run side by side, so the slowest provider's worst case bounds the run."""
    rounds: dict[tuple[str, int], int] = {}
    for step in steps:
        rounds[(step.provider, step.phase)] = rounds.get((step.provider, step.phase), 0) + 1
    per_provider: dict[str, int] = {}
    for (provider, _), count in rounds.items():
        waves = -(-count // max(1, tuning.per_provider_concurrency))
        per_provider[provider] = per_provider.get(provider, 0) + waves
    return tuning.step_deadline_s * max(per_provider.values(), default=0) + 10.0


DEADLINE = "deadline"
"""The detail of a result whose step was cut by a deadline: its call may still land."""
UNAVAILABLE = (ProviderUnavailable, Throttled, BadResponse)

EventFn = Callable[[str, PlannedStep, str], None]
"""Progress events: (event, step, detail); events: start, retry, wait, end."""


ActionsOf = Callable[[ProviderName], Mapping[str, type[ProviderAction[Any]]]]
"""Where the executor finds a provider's action implementations (its plugin's, unless a
unit test hands it others)."""


def actions_of(provider: ProviderName) -> Mapping[str, type[ProviderAction[Any]]]:
    """The provider plugin's action implementations."""
    return registry.plugin(provider).actions()


class Executor:
    """Runs plan steps against adapters and journals everything."""

    def __init__(
        self,
        adapters: dict[ProviderName, Provider],
        journal: Journal,
        clock: Callable[[], datetime],
        *,
        tuning: Tuning | None = None,
        on_event: EventFn | None = None,
        actions: ActionsOf | None = None,
        landed: asyncio.Event | None = None,
    ) -> None:
        """``landed`` is set once the first write has landed (a first cut waits on it
        before spending the interpreter on anything else)."""
        self.adapters = adapters
        self.actions_of: ActionsOf = actions or actions_of
        self.journal = journal
        self.clock = clock
        self.tuning = tuning or Tuning()
        self.on_event = on_event
        self._journal_lock = asyncio.Lock()
        self._pending: list[tuple[str, dict[str, Any], asyncio.Future[None]]] = []
        self._flusher: asyncio.Future[None] | None = None
        self._run_ends = 0.0
        self._ending: dict[str, StepResult] = {}
        self.budget = RateBudget(dict(self.tuning.rates))
        self._first_write: float | None = None
        self._last_write: float | None = None
        self._last_result: float | None = None
        self._landed = landed

    def timing(self, started: float) -> dict[str, float | None]:
        """Seconds from ``started`` (``time.monotonic()``) to the first write that landed,
        the last one, and the last result journaled (None: nothing of the kind happened)."""

        def since(moment: float | None) -> float | None:
            return None if moment is None else max(0.0, moment - started)

        return {
            "first_cut_s": since(self._first_write),
            "all_cut_s": since(self._last_write),
            "verified_s": since(self._last_result),
        }

    def _wrote(self) -> None:
        now = time.monotonic()
        if self._first_write is None:
            self._first_write = now
            if self._landed is not None:
                self._landed.set()
        self._last_write = now

    def _event(self, event: str, step: PlannedStep, detail: str = "") -> None:
        if self.on_event is not None:
            self.on_event(event, step, detail)

    async def _write(self, kind: str, payload: dict[str, Any]) -> None:
        """Journal one record; returns once it is on disk. Records asked for while a write
        is under way are committed together by the next one (one fsync for the group), so
        a run of thousands of concurrent steps is not paced by the disk."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((kind, payload, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush())
            # Its waiters hear of a failure; the task itself is not left unretrieved.
            self._flusher.add_done_callback(lambda f: f.cancelled() or f.exception())
        # Shielded: a step cut by its deadline still has its record written, in order.
        await asyncio.shield(done)

    async def _flush(self) -> None:
        """Write what is pending, group by group, until nothing is."""
        async with self._journal_lock:
            while self._pending:
                group, self._pending = self._pending, []
                written: list[Any]
                try:
                    written = await asyncio.to_thread(
                        self.journal.append_many, [(k, p) for k, p, _ in group]
                    )
                except Exception as exc:  # noqa: BLE001 - every waiter must hear of it
                    written = [exc] * len(group)
                except BaseException as exc:
                    # Cancelled or dying: no waiter may be left waiting for a write that
                    # will never come (the run would hang instead of ending).
                    for _, _, done in group + self._pending:
                        if not done.done():
                            done.set_exception(exc)
                    self._pending = []
                    raise
                for (_, _, done), record in zip(group, written, strict=True):
                    if done.done():
                        continue
                    if isinstance(record, Exception):
                        done.set_exception(record)
                    else:
                        done.set_result(None)

    def impl(self, step: PlannedStep) -> tuple[ProviderAction[Any], Provider]:
        """The implementation and adapter for a step."""
        adapter = self.adapters.get(step.provider)
        if adapter is None:
            raise ProviderError(step.provider, "is not configured in this environment")
        impl_cls = self.actions_of(step.provider).get(step.action)
        if impl_cls is None:
            raise ProviderError(step.provider, f"has no '{step.action}' action")
        return impl_cls(), adapter

    async def run(
        self,
        steps: list[PlannedStep],
        *,
        finished: dict[str, Status] | None = None,
        prior: dict[str, dict[str, Any]] | None = None,
        approved: Callable[[PlannedStep], bool] = lambda _: True,
    ) -> list[StepResult]:
        """Run every step; ``finished`` and ``prior`` come from a journal when resuming."""
        finished = finished or {}
        prior = prior or {}
        budget = self.tuning.run_deadline_s or run_deadline(steps, self.tuning)
        # Runs may overlap on one executor (a first cut's, then the rest): none shortens
        # another's deadline.
        self._run_ends = max(self._run_ends, asyncio.get_running_loop().time() + budget)
        by_provider: dict[ProviderName, list[PlannedStep]] = {}
        for step in steps:
            by_provider.setdefault(step.provider, []).append(step)
        groups = await asyncio.gather(
            *(
                self._provider(by_provider[p], finished, prior, approved)
                for p in sorted(by_provider)
            )
        )
        results = {r.step.id: r for group in groups for r in group}
        return [results[s.id] for s in steps]

    async def _provider(
        self,
        steps: list[PlannedStep],
        finished: dict[str, Status],
        prior: dict[str, dict[str, Any]],
        approved: Callable[[PlannedStep], bool],
    ) -> list[StepResult]:
        results: list[StepResult | asyncio.Task[StepResult]] = []
        # Target → the read-back still running on it: a later step on the same target
        # waits for it, so it reads the settled state (and finds it ``already`` done).
        checking: dict[str, asyncio.Task[StepResult]] = {}
        stopped: str | None = None
        gate = asyncio.Semaphore(self.tuning.per_provider_concurrency)
        # Undo runs the phases backwards: identity first, credentials last.
        undo = all(s.undo for s in steps)
        for phase in sorted({s.phase for s in steps}, reverse=undo):
            batch = [s for s in steps if s.phase == phase]

            async def one(step: PlannedStep, stopped: str | None) -> StepResult | _Landed:
                if step.id in finished:
                    return StepResult(step, finished[step.id], notes=["finished before resume"])
                if stopped is not None:
                    return await self._skip(
                        step, f"not run: step {stopped} failed (on_error: stop)"
                    )
                if step.approve and not approved(step):
                    return await self._skip(step, "not approved")
                earlier = checking.get(step.target)
                if earlier is not None:
                    await asyncio.shield(earlier)
                async with gate:
                    return await self._bounded(step, prior.get(step.id))

            batch_results = await asyncio.gather(*(one(s, stopped) for s in batch))
            for result in batch_results:
                if isinstance(result, _Landed):
                    # Verified beside the next phase, not before it.
                    task = asyncio.ensure_future(self._verified(result))
                    checking[result.step.target] = task
                    results.append(task)
                    continue
                results.append(result)
                if (
                    result.status is Status.FAILED
                    and result.step.on_error == "stop"
                    and stopped is None
                ):
                    stopped = result.step.id
        return [r if isinstance(r, StepResult) else await r for r in results]

    async def _skip(self, step: PlannedStep, why: str) -> StepResult:
        await self._write(
            Kind.RESULT,
            {"step": step.id, "status": Status.SKIPPED.value, "error": None, "detail": why},
        )
        self._event("end", step, Status.SKIPPED.value)
        return StepResult(step, Status.SKIPPED, notes=[why])

    async def _bounded(
        self, step: PlannedStep, prior: dict[str, Any] | None
    ) -> StepResult | _Landed:
        """Run a step within its own deadline and what is left of the run's; a step cut
        short ends ``failed`` with the reason (its call may still land: restore undoes it)."""
        left = self._run_ends - asyncio.get_running_loop().time()
        if left <= 0:
            why = "not run: the run's deadline passed"
            return await self._end(step, Status.FAILED, why, [DEADLINE], unavailable=True)
        limit = min(self.tuning.step_deadline_s, left)
        whose = "step" if limit == self.tuning.step_deadline_s else "run"
        try:
            async with asyncio.timeout(limit):
                return await self._step(step, prior)
        except TimeoutError:
            if step.id in self._ending:  # its result was being journaled: keep that one
                return self._ending[step.id]
            why = f"the {whose}'s deadline passed ({limit:.0f}s) before the step finished"
            return await self._end(step, Status.FAILED, why, [DEADLINE], unavailable=True)

    async def _step(self, step: PlannedStep, prior: dict[str, Any] | None) -> StepResult | _Landed:
        """Journal the intent, read, snapshot and apply; a step that changed something
        comes back as :class:`_Landed`, to be verified while the next phase runs."""
        self._event("start", step, step.target_label)
        try:
            impl, adapter = self.impl(step)
        except AgentIRError as exc:
            return await self._end(step, Status.FAILED, exc.message)
        try:
            return await self._run_step(step, prior, impl, adapter)
        except (TimeoutError, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001 - an adapter defect must not end the run
            error = unexpected(step.provider, exc)
            return await self._end(step, Status.FAILED, error.message, unavailable=True)

    async def _run_step(
        self,
        step: PlannedStep,
        prior: dict[str, Any] | None,
        impl: ProviderAction[Any],
        adapter: Provider,
    ) -> StepResult | _Landed:
        prepared = prior.get("prepared") if prior else None
        if prepared is None:
            prepared = {} if step.undo else impl.prepare(step, self.clock())
        snapshot = prior.get("snapshot") if prior else None
        if not prior or "intent" not in prior:
            await self._write(
                Kind.INTENT,
                {
                    "step": step.id,
                    "provider": step.provider,
                    "action": step.action,
                    "target": step.target,
                    "operation": step.operation,
                    "prepared": prepared,
                },
            )
        try:
            state = await self._retry(step, lambda: impl.read(adapter, step))
            if snapshot is None:
                snapshot = state
                await self._write(Kind.SNAPSHOT, {"step": step.id, "data": snapshot})
            if _done(impl, state, step, prepared):
                if not _done(impl, snapshot, step, prepared):
                    # The snapshot was taken before an interrupted run applied the step:
                    # it changed something, so it is applied (and restore will undo it).
                    why = "applied by the interrupted run before it stopped"
                    return await self._end(step, Status.VERIFIED, None, [why])
                return await self._end(step, Status.ALREADY, None)
            attempts = [0]
            notes = await self._retry(
                step, lambda: self._apply_once(impl, adapter, step, prepared, attempts)
            )
        except UNAVAILABLE as exc:
            return await self._end(step, Status.FAILED, exc.message, unavailable=True)
        except AgentIRError as exc:
            return await self._end(step, Status.FAILED, exc.message)
        return _Landed(step, impl, adapter, prepared, notes)

    async def _verified(self, landed: _Landed) -> StepResult:
        """Read a landed step back and journal its result; a read-back that outlives the
        step's deadline leaves the step applied but unverified, with the reason."""
        notes = list(landed.notes)
        left = self._run_ends - asyncio.get_running_loop().time()
        limit = max(min(self.tuning.step_deadline_s, left), 0.0)
        try:
            async with asyncio.timeout(limit):
                verified = await self._verify(
                    landed.impl, landed.adapter, landed.step, landed.prepared
                )
        except TimeoutError:
            verified = False
            notes.append(f"read-back not finished within the deadline ({limit:.0f}s)")
        status = Status.VERIFIED if verified else Status.APPLIED_UNVERIFIED
        return await self._end(landed.step, status, None, notes)

    async def _apply_once(
        self,
        impl: ProviderAction[Any],
        adapter: Provider,
        step: PlannedStep,
        prepared: dict[str, Any],
        attempts: list[int],
    ) -> list[str]:
        # A retry reads again first: the earlier attempt may have landed before its answer
        # was lost, and applying must never happen twice when once was enough. The first
        # attempt follows the step's own read, so it writes straight away.
        attempts[0] += 1
        if attempts[0] > 1 and _done(impl, await impl.read(adapter, step), step, prepared):
            return []
        if step.undo:
            notes = await impl.restore(adapter, step, step.predicted)
            self._wrote()
            return notes
        await impl.apply(adapter, step, prepared)
        self._wrote()
        return []

    async def _verify(
        self,
        impl: ProviderAction[Any],
        adapter: Provider,
        step: PlannedStep,
        prepared: dict[str, Any],
    ) -> bool:
        for poll in range(self.tuning.verify_polls):
            try:
                await self.budget.take(step)
                if _done(impl, await impl.read(adapter, step), step, prepared):
                    return True
            except ProviderError as exc:
                self._event("retry", step, f"verify: {exc.message}")
            await asyncio.sleep(self.tuning.verify_interval_s * (poll + 1))
        return False

    async def _retry(self, step: PlannedStep, call: Callable[[], Any]) -> Any:
        """Call, retrying transient failures with backoff; a provider's own Retry-After wins
        (capped, so one bad header cannot stall a containment for long). Every call draws
        from its scope's shared budget, and a throttle pauses the whole scope, not only
        this step (see :mod:`.ratebudget`)."""
        delay = self.tuning.backoff_s
        attempt = 1
        while True:
            try:
                await self.budget.take(step)
                return await call()
            except (ProviderUnavailable, Throttled) as exc:
                if attempt >= self.tuning.attempts:
                    raise
                if exc.retry_after is not None:
                    wait = min(exc.retry_after, MAX_PROVIDER_WAIT_S)
                    self._event("wait", step, f"rate-limited; waiting {wait:.1f}s as asked")
                else:
                    wait = min(delay, self.tuning.max_backoff_s)
                    self._event("retry", step, f"{exc.message}; retrying in {wait:.1f}s")
                if isinstance(exc, Throttled) or exc.retry_after is not None:
                    self.budget.pause(step, wait)
                else:
                    await asyncio.sleep(wait)
                delay *= 2
                attempt += 1

    async def _end(
        self,
        step: PlannedStep,
        status: Status,
        error: str | None,
        notes: list[str] | None = None,
        *,
        unavailable: bool = False,
    ) -> StepResult:
        payload: dict[str, Any] = {
            "step": step.id,
            "status": status.value,
            "error": error,
            "detail": notes or None,
        }
        if unavailable:
            payload["unavailable"] = True
        result = StepResult(step, status, error, list(notes or []), unavailable)
        self._ending[step.id] = result
        await self._write(Kind.RESULT, payload)
        self._last_result = time.monotonic()
        self._event("end", step, status.value)
        return result


@dataclass(slots=True)
class _Landed:
    """A step whose write went through, waiting to be read back."""

    step: PlannedStep
    impl: ProviderAction[Any]
    adapter: Provider
    prepared: dict[str, Any]
    notes: list[str]


def _done(
    impl: ProviderAction[Any], state: dict[str, Any], step: PlannedStep, prepared: dict[str, Any]
) -> bool:
    """Whether a step's aim holds: the plan's prediction, or for an undo the snapshot."""
    if step.undo:
        return impl.restored(state, step.predicted)
    return impl.done(state, step, prepared)
