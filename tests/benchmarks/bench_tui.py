"""The console's responsiveness: time to first paint, time until the list is filled, and
keystroke-to-repaint while filtering (and sorting) the agent list.

For each world a lab runs in this process (one at a time; moto is process-global) and the
console is built through the shared factory and driven headless by Textual's pilot.
"First paint" is from starting the app until the agent table drew its first line (with
providers still loading); "list filled" is until it first drew with rows in it. A
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
from pathlib import Path

from textual.strip import Strip

from agent_ir.cli.environment import default_world
from agent_ir.factory import make_app
from agent_ir.lab.generator import generate
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import World, load_world
from agent_ir.tui.screens.agent_list import AgentListScreen
from agent_ir.tui.widgets.agent_table import AgentTable

QUERY = "agent-00"
SIZE = (120, 40)


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


async def measure(lab: Lab, journal: Path) -> dict[str, float | int | list[float]]:
    """Drive one console over ``lab``; return the figures."""
    settings = lab.settings.model_copy(update={"journal_dir": journal})
    app = make_app(settings, clock=lambda: lab.now, playbook_dirs=())
    clock: PaintClock | None = None

    def watch_screen() -> None:
        nonlocal clock
        if clock is None and isinstance(app.screen, AgentListScreen):
            clock = PaintClock(app.screen.query_one(AgentTable))

    start = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        while clock is None:
            watch_screen()
            await asyncio.sleep(0)
        for _ in range(2):
            await app.workers.wait_for_complete()
            await pilot.pause()
        first_paint = clock.paints[0][0] - start
        filled = next(t for t, rows in clock.paints if rows > 0) - start
        table = app.screen.query_one(AgentTable)

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
            "keys": keys,
            "clears": clears,
            "sorts": sorts,
            "matched": matched,
        }


def _ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:6.1f} ms  max {max(values) * 1000:6.1f} ms"


def run(name: str, world: World) -> None:
    """Seed a lab on ``world`` and print the figures."""
    seeded = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, Lab(world, Path(tmp) / "lab") as lab:
        seed_s = time.perf_counter() - seeded
        figures = asyncio.run(measure(lab, Path(tmp) / "journal"))
    keys = figures["keys"]
    clears = figures["clears"]
    sorts = figures["sorts"]
    assert isinstance(keys, list) and isinstance(clears, list) and isinstance(sorts, list)
    print(
        f"{name}: {figures['agents']} agents (lab seeded in {seed_s:.1f}s)\n"
        f"  first paint            {float(figures['first_paint']) * 1000:8.1f} ms\n"
        f"  list filled            {float(figures['filled']) * 1000:8.1f} ms\n"
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
    run("default world", load_world(default_world()))
    run(f"generated world ({args.agents})", generate(args.agents))


if __name__ == "__main__":
    main()
