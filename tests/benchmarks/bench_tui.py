"""The console's responsiveness: time to first paint, time until the list is filled, and
keystroke-to-repaint while filtering (and sorting) the agent list.

For each world a lab runs in this process (one at a time; moto is process-global) and the
console is built through the shared factory and driven headless by Textual's pilot.
"First paint" is from starting the app until the agent table drew its first line (with
providers still loading); "<provider> rows" is until the table first drew with that
provider's answer in it (the list fills per provider); "list filled" is until it drew
with every provider's answer. The baseline is a bare Textual app (one line of text) run
the same way in the same process, so the figures read as a ratio to Textual's own floor. A
keystroke is timed from sending the key until the table drew its last line in response
(the table's ``render_line`` is wrapped to note the time; the pilot's own idle waits are
not counted).

Run: .venv/bin/python tests/benchmarks/bench_tui.py [--agents 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widgets import Static

from agent_ir.cli.environment import default_world
from agent_ir.factory import make_app
from agent_ir.lab.generator import generate
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import World, load_world
from agent_ir.tui.screens.agent_list import AgentListScreen
from agent_ir.tui.widgets.agent_table import AgentTable
from agent_ir.tui.widgets.provider_status import ProviderStatus

QUERY = "agent-00"
SIZE = (120, 40)


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


async def measure(lab: Lab, journal: Path) -> dict[str, object]:
    """Drive one console over ``lab``; return the figures."""
    settings = lab.settings.model_copy(update={"journal_dir": journal})
    app = make_app(settings, clock=lambda: lab.now, playbook_dirs=())
    clock: PaintClock | None = None
    answers: AnswerClock | None = None

    def watch_screen() -> None:
        nonlocal clock, answers
        if clock is None and isinstance(app.screen, AgentListScreen):
            clock = PaintClock(app.screen.query_one(AgentTable))
            answers = AnswerClock(app.screen.query_one(ProviderStatus))

    start = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        while clock is None:
            watch_screen()
            await asyncio.sleep(0)
        for _ in range(2):
            await app.workers.wait_for_complete()
            await pilot.pause()
        first_paint = clock.paints[0][0] - start
        table = app.screen.query_one(AgentTable)
        assert answers is not None
        per_provider = {
            name + (" (FAILED)" if name in answers.failed else ""): next(
                (t for t, _ in clock.paints if t >= answered), answered
            )
            - start
            for name, answered in sorted(answers.answers.items(), key=lambda kv: kv[1])
        }
        # filled: the first paint after the last provider's answer (not merely rows > 0)
        filled = max(per_provider.values(), default=first_paint)

        async def key(name: str) -> float:
            before = time.perf_counter()
            await pilot.press(name)
            await pilot.pause()
            assert clock is not None
            return clock.last_after(before)

        await pilot.press("slash")
        keys = [await key("minus" if c == "-" else c) for c in QUERY]
        matched = len(table.visible_names)
        clears = [await key("backspace") for _ in QUERY]
        await pilot.press("enter")
        sorts = [await key("s") for _ in range(7)]
        return {
            "agents": table.total,
            "first_paint": first_paint,
            "filled": filled,
            "providers": per_provider,
            "keys": keys,
            "clears": clears,
            "sorts": sorts,
            "matched": matched,
        }


def _ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:6.1f} ms  max {max(values) * 1000:6.1f} ms"


def run(name: str, world: World, floor: float) -> None:
    """Seed a lab on ``world`` and print the figures (``floor``: the baseline's paint)."""
    seeded = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, Lab(world, Path(tmp) / "lab") as lab:
        seed_s = time.perf_counter() - seeded
        figures = asyncio.run(measure(lab, Path(tmp) / "journal"))
    keys = figures["keys"]
    clears = figures["clears"]
    sorts = figures["sorts"]
    providers = figures["providers"]
    assert isinstance(keys, list) and isinstance(clears, list) and isinstance(sorts, list)
    assert isinstance(providers, dict)
    paint = float(figures["first_paint"])  # type: ignore[arg-type]
    filled = float(figures["filled"])  # type: ignore[arg-type]
    rows = "".join(
        f"  {provider + ' rows':<22} {at * 1000:8.1f} ms\n" for provider, at in providers.items()
    )
    print(
        f"{name}: {figures['agents']} agents (lab seeded in {seed_s:.1f}s)\n"
        f"  baseline first paint   {floor * 1000:8.1f} ms  (bare Textual app)\n"
        f"  first paint            {paint * 1000:8.1f} ms  ({paint / floor:.1f}x baseline)\n"
        f"{rows}"
        f"  list filled            {filled * 1000:8.1f} ms\n"
        f"  filter keystroke       {_ms(keys)}  ({len(keys)} keys, "
        f"{figures['matched']} rows match {QUERY!r})\n"
        f"  backspace keystroke    {_ms(clears)}\n"
        f"  sort keystroke         {_ms(sorts)}",
        flush=True,
    )


def main() -> None:
    """Benchmark the default world, then a generated one."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=10_000, help="generated world size")
    args = parser.parse_args()
    floor = asyncio.run(baseline())
    run("default world", load_world(default_world()), floor)
    run(f"generated world ({args.agents})", generate(args.agents), floor)


if __name__ == "__main__":
    main()
