"""The console's responsiveness: time to first paint, time until the list is filled, and
keystroke-to-repaint while filtering, scrolling (and sorting) the agent list.

For each world the console is built through the shared factory as ``agent-ir console``
builds it, over an opening that starts the lab in a thread behind the first paint (one
lab at a time; moto is process-global), and driven headless by Textual's pilot.
"First paint" is from starting the app until the start-up screen drew its progress line
(the lab still starting); "lab up" is until the agent list drew its first line;
"<provider> rows" is until the table first drew with that provider's answer in it (the
list fills per provider); "list filled" is until it drew with every provider's answer.
Each figure is also given as a ratio to the 0.3 s first-paint bound. The baseline is a bare Textual app (one line of text) run
the same way in the same process, so the figures read as a ratio to Textual's own floor. A
keystroke is timed from sending the key until the table drew its last line in response
(the table's ``render_line`` is wrapped to note the time; the pilot's own idle waits are
not counted).

Run: .venv/bin/python tests/benchmarks/bench_tui.py [--agents 2000 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from textual.app import App, ComposeResult
from textual.css.query import NoMatches
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from agent_ir.cli.environment import default_world
from agent_ir.factory import make_app
from agent_ir.lab.generator import generate
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import World, load_world
from agent_ir.settings import Settings
from agent_ir.tui.app import AgentIRApp
from agent_ir.tui.opening import ContextOpening
from agent_ir.tui.screens.agent_list import AgentListScreen
from agent_ir.tui.widgets.agent_table import AgentTable
from agent_ir.tui.widgets.provider_status import ProviderStatus

QUERY = "agent-00"
SIZE = (120, 40)
BOUND_S = 0.3
"""The first paint's bound (issue 15): every figure is also printed as a ratio to it."""


class Bare(App[None]):
    """The baseline: a Textual app that paints one line."""

    def compose(self) -> ComposeResult:
        yield Static("baseline")


async def baseline() -> float:
    """Seconds from starting a bare app until its first paint (the median of five)."""
    times = []
    for _ in range(5):
        app = Bare()
        painted: list[float] = []
        start = time.perf_counter()
        async with app.run_test(size=SIZE) as pilot:
            static = app.query_one(Static)
            draw = static.render_line

            def timed_draw(
                y: int, draw: Callable[[int], Strip] = draw, painted: list[float] = painted
            ) -> Strip:
                painted.append(time.perf_counter())
                return draw(y)

            static.render_line = timed_draw  # type: ignore[method-assign]
            static.refresh()
            await pilot.pause()
        times.append((painted[0] if painted else time.perf_counter()) - start)
    return statistics.median(times)


class AnswerClock:
    """Records when each provider's answer reached the screen's provider lines."""

    def __init__(self, status: ProviderStatus) -> None:
        self.answers: dict[str, float] = {}
        self.failed: set[str] = set()
        answered, failed = status.answered, status.failed

        def timed_answered(provider: str, detail: str) -> None:
            self.answers[provider] = time.perf_counter()
            answered(provider, detail)

        def timed_failed(provider: str, message: str) -> None:
            self.answers[provider] = time.perf_counter()
            self.failed.add(provider)
            failed(provider, message)

        status.answered = timed_answered  # type: ignore[method-assign]
        status.failed = timed_failed  # type: ignore[method-assign]


class PaintClock:
    """Records when the agent table draws a line, and how many rows it held then."""

    def __init__(self, table: AgentTable) -> None:
        self.paints: list[tuple[float, int]] = []
        draw = table.render_line

        def timed_draw(y: int) -> Strip:
            self.paints.append((time.perf_counter(), table.total))
            return draw(y)

        table.render_line = timed_draw  # type: ignore[method-assign]

    def last_after(self, moment: float) -> float:
        """Seconds from ``moment`` to the last line drawn after it (0 when none was)."""
        times = [t for t, _ in self.paints if t >= moment]
        return max(times) - moment if times else 0.0


class StartClock:
    """Records when the start-up screen's progress line first drew (installed on the
    class before the app starts: the line draws before a test could reach it)."""

    def __init__(self) -> None:
        self.painted: float | None = None
        self._draw = Static.render_line

    def __enter__(self) -> StartClock:
        draw, clock = self._draw, self

        def timed_draw(widget: Widget, y: int) -> Strip:
            if clock.painted is None and widget.id == "startup-progress":
                clock.painted = time.perf_counter()
            return draw(widget, y)

        Static.render_line = timed_draw  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        Static.render_line = self._draw  # type: ignore[method-assign]


@contextmanager
def lab_settings(world: World, root: Path) -> Iterator[Settings]:
    """A lab on ``world`` (started in the opening's thread) and its settings."""
    with Lab(world, root / "lab") as lab:
        yield lab.settings.model_copy(update={"journal_dir": root / "journal"})


async def measure(world: World, root: Path) -> dict[str, object]:
    """Open a console over a lab of ``world`` started behind it; return the figures."""
    opening = ContextOpening(lambda: lab_settings(world, root), what="starting lab…", lab=True)
    app = make_app(opening, playbook_dirs=())
    try:
        return await _drive(app)
    finally:
        await asyncio.to_thread(opening.close)


async def _drive(app: AgentIRApp) -> dict[str, object]:
    clock: PaintClock | None = None
    answers: AnswerClock | None = None

    def watch_screen() -> None:
        nonlocal clock, answers
        screen = app.screen
        if clock is None and isinstance(screen, AgentListScreen):
            try:
                clock = PaintClock(screen.query_one(AgentTable))
                answers = AnswerClock(screen.query_one(ProviderStatus))
            except NoMatches:  # composed but not yet mounted: look again next turn
                clock = None

    with StartClock() as start_clock:
        start = time.perf_counter()
        async with app.run_test(size=SIZE) as pilot:
            while clock is None:
                watch_screen()
                await asyncio.sleep(0)
            for _ in range(2):
                await app.workers.wait_for_complete()
                await pilot.pause()
            if start_clock.painted is None:
                raise RuntimeError("the start-up screen never drew")
            first_paint = start_clock.painted - start
            lab_up = clock.paints[0][0] - start
            table = app.screen.query_one(AgentTable)
            if answers is None:
                raise RuntimeError("no provider answered")
            per_provider = {
                name + (" (FAILED)" if name in answers.failed else ""): next(
                    (t for t, _ in clock.paints if t >= answered), answered
                )
                - start
                for name, answered in sorted(answers.answers.items(), key=lambda kv: kv[1])
            }
            # filled: the first paint after the last provider's answer (not merely rows > 0)
            filled = max(per_provider.values(), default=lab_up)
            painted = clock

            async def key(name: str) -> float:
                before = time.perf_counter()
                await pilot.press(name)
                await pilot.pause()
                return painted.last_after(before)

            await pilot.press("slash")
            keys = [await key("minus" if c == "-" else c) for c in QUERY]
            matched = len(table.visible_names)
            clears = [await key("backspace") for _ in QUERY]
            await pilot.press("enter")
            scrolls = [await key(k) for k in ("pagedown", "j", "pagedown", "k", "G", "g")]
            sorts = [await key("s") for _ in range(7)]
    return {
        "agents": table.total,
        "first_paint": first_paint,
        "lab_up": lab_up,
        "filled": filled,
        "providers": per_provider,
        "keys": keys,
        "clears": clears,
        "scrolls": scrolls,
        "sorts": sorts,
        "matched": matched,
    }


def _ms(values: list[float]) -> str:
    top = max(values)
    return (
        f"median {statistics.median(values) * 1000:6.1f} ms  max {top * 1000:6.1f} ms"
        f"  ({top / BOUND_S:.2f}x the 0.3 s bound)"
    )


def _at(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms  ({seconds / BOUND_S:5.2f}x the 0.3 s bound)"


def run(name: str, world: World, floor: float) -> None:
    """Open a console over a lab of ``world`` and print the figures (``floor``: the
    baseline's paint)."""
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(measure(world, Path(tmp)))
    keys, clears = figures["keys"], figures["clears"]
    scrolls, sorts = figures["scrolls"], figures["sorts"]
    providers = figures["providers"]
    assert isinstance(keys, list) and isinstance(clears, list)
    assert isinstance(scrolls, list) and isinstance(sorts, list)
    assert isinstance(providers, dict)
    paint = float(figures["first_paint"])  # type: ignore[arg-type]
    lab_up = float(figures["lab_up"])  # type: ignore[arg-type]
    filled = float(figures["filled"])  # type: ignore[arg-type]
    rows = "".join(f"  {provider + ' rows':<22} {_at(at)}\n" for provider, at in providers.items())
    print(
        f"{name}: {figures['agents']} agents\n"
        f"  baseline first paint   {floor * 1000:8.1f} ms  (bare Textual app)\n"
        f"  first paint            {_at(paint)}  {paint / floor:.1f}x baseline\n"
        f"  lab up (list drawn)    {_at(lab_up)}\n"
        f"{rows}"
        f"  list filled            {_at(filled)}\n"
        f"  filter keystroke       {_ms(keys)}  ({len(keys)} keys, "
        f"{figures['matched']} rows match {QUERY!r})\n"
        f"  backspace keystroke    {_ms(clears)}\n"
        f"  scroll keystroke       {_ms(scrolls)}  (pagedown j pagedown k G g)\n"
        f"  sort keystroke         {_ms(sorts)}",
        flush=True,
    )


def main() -> None:
    """Benchmark the default world, then generated ones."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--agents", type=int, nargs="*", default=[2_000, 10_000], help="generated world sizes"
    )
    args = parser.parse_args()
    floor = asyncio.run(baseline())
    run("default world", load_world(default_world()), floor)
    for agents in args.agents:
        run(f"generated world ({agents})", generate(agents), floor)


if __name__ == "__main__":
    main()
