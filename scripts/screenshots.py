"""Regenerate screenshots/*.svg: every main screen of the console on the default lab world.

Run: .venv/bin/python scripts/screenshots.py [--out screenshots] [--size 100x30]

It starts its own lab (in this process) and builds the console through the same factory
as the CLI and the tests, then walks the story: the agent list, invoice-agent's tabs,
the console pages of its identities, the kill-switch plan, the typed confirmation, the
run's summary, the journal and the undo plan; the same plan as a read-only preview; then
invoice-agent's Activity tab in a lab seeded as of a fixed moment (its overnight reads are
placed from the lab's clock, so the picture holds from run to run); then the cross-provider tabletop exercise in its own lab, with residual access
after the injects and the score after the kill switch. The journal goes to a temporary folder; nothing outside the lab changes.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from agent_ir.cli.environment import default_world
from agent_ir.engine.executor import Tuning
from agent_ir.factory import make_app, make_exercise_app
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world
from agent_ir.tabletop.loader import find_exercise, load_exercise
from agent_ir.tui.app import AgentIRApp
from agent_ir.tui.exercise_app import ExerciseApp

ROOT = Path(__file__).resolve().parents[1]
AGENT = "invoice-agent"
EXERCISE = "cross-provider-chain"
PINNED = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
"""The Activity screenshot's lab clock."""


async def settle(pilot: Pilot[None]) -> None:
    """Let workers finish and the screen catch up."""
    for _ in range(2):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def fill(pilot: Pilot[None], selector: str, text: str) -> None:
    """Put text in an input, with a still cursor."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = text
    field.cursor_blink = False
    await pilot.pause()


async def press(pilot: Pilot[None], *keys: str) -> None:
    """Press keys, then let the screen settle."""
    await pilot.press(*keys)
    await settle(pilot)


async def confirm(pilot: Pilot[None], reason: str) -> None:
    """On a plan: open the typed confirmation and fill it in (not yet submitted); focus
    ends in the reason, where enter submits."""
    await pilot.press("enter")
    await pilot.pause()
    await fill(pilot, "#confirm-agent", AGENT)
    await fill(pilot, "#confirm-reason", reason)


def shooter(app: AgentIRApp, out: Path, saved: list[Path]) -> Callable[[str], None]:
    """Save the screen as ``out/NAME.svg`` and note it in ``saved``."""

    def shot(name: str) -> None:
        saved.append(Path(app.save_screenshot(filename=f"{name}.svg", path=str(out))))

    return shot


async def walk(app: AgentIRApp, out: Path, size: tuple[int, int]) -> list[Path]:
    """Drive the story and save one SVG per screen."""
    saved: list[Path] = []
    shot = shooter(app, out, saved)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        shot("agent-list")
        await fill(pilot, "#filter", AGENT)
        await press(pilot, "enter", "enter")
        for key, name in (
            ("1", "detail-overview"),
            ("2", "detail-access"),
            ("3", "detail-credentials"),
            ("4", "detail-delegation"),
        ):
            await press(pilot, key)
            shot(name)
        await press(pilot, "o")
        shot("console-links")
        await press(pilot, "escape")
        await press(pilot, "r")
        shot("plan")
        await confirm(pilot, "tabletop: long-lived key found on a paste site")
        shot("confirm")
        await press(pilot, "enter")
        shot("run-summary")
        await press(pilot, "escape")
        await press(pilot, "5")
        shot("detail-journal")
        await press(pilot, "u")
        await press(pilot, "u")
        shot("restore-plan")
        await press(pilot, "escape")
        await press(pilot, "p")
        shot("playbook-picker")
        await press(pilot, "escape")
        await press(pilot, "question_mark")
        shot("keys")
    return saved


async def walk_activity(app: AgentIRApp, out: Path, size: tuple[int, int]) -> list[Path]:
    """Open invoice-agent's Activity tab and wait for the timeline."""
    saved: list[Path] = []
    shot = shooter(app, out, saved)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await fill(pilot, "#filter", AGENT)
        await press(pilot, "enter", "enter")
        await press(pilot, "6")
        shot("detail-activity")
    return saved


async def walk_preview(app: AgentIRApp, out: Path, size: tuple[int, int]) -> list[Path]:
    """In read-only mode: the kill switch's plan as a preview that will not run."""
    saved: list[Path] = []
    shot = shooter(app, out, saved)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await fill(pilot, "#filter", AGENT)
        await press(pilot, "enter", "r")
        shot("read-only-preview")
    return saved


async def walk_exercise(app: ExerciseApp, out: Path, size: tuple[int, int]) -> list[Path]:
    """Play the cross-provider exercise as a facilitator: two injects, residual access,
    the kill switch, the score."""
    saved: list[Path] = []
    shot = shooter(app, out, saved)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for _ in range(3):
            await press(pilot, "n")
        await press(pilot, "a")
        shot("exercise-residual")
        await pilot.press("a")
        await fill(pilot, "#filter", AGENT)
        await press(pilot, "enter", "r")
        await confirm(pilot, "tabletop: the agent persists with a new key")
        await press(pilot, "enter")
        await press(pilot, "escape")
        await press(pilot, "e")
        shot("exercise-scored")
    return saved


def main() -> None:
    """Start a lab on the default world and write the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--size", default="100x30", help="terminal WIDTHxHEIGHT")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, Lab(load_world(default_world())) as lab:
        settings = lab.settings.model_copy(update={"journal_dir": Path(tmp) / "journal"})
        app = make_app(
            settings,
            clock=lambda: lab.now,
            tuning=Tuning(backoff_s=0.05, verify_interval_s=0.05),
            responder="responder@corp.test",
            playbook_dirs=(),
        )
        saved = asyncio.run(walk(app, args.out, (width, height)))
        preview = make_app(
            settings.model_copy(update={"read_only": True}),
            clock=lambda: lab.now,
            responder="responder@corp.test",
            playbook_dirs=(),
        )
        saved += asyncio.run(walk_preview(preview, args.out, (width, height)))
    with tempfile.TemporaryDirectory() as tmp, Lab(load_world(default_world()), now=PINNED) as lab:
        settings = lab.settings.model_copy(update={"journal_dir": Path(tmp) / "journal"})
        app = make_app(
            settings, clock=lambda: PINNED, responder="responder@corp.test", playbook_dirs=()
        )
        saved += asyncio.run(walk_activity(app, args.out, (width, height)))
    loaded = load_exercise(find_exercise(EXERCISE))
    with tempfile.TemporaryDirectory() as tmp, Lab(load_world(loaded.world_path)) as lab:
        settings = lab.settings.model_copy(update={"journal_dir": Path(tmp) / "journal"})
        exercise = make_exercise_app(
            settings,
            lab,
            loaded,
            AGENT,
            workdir=Path(tmp),
            report=Path(tmp) / "aar.md",
            report_json=Path(tmp) / "aar.json",
            # the real clock: a session revocation's cut-off must follow the probe's sessions
            tuning=Tuning(backoff_s=0.05, verify_interval_s=0.05),
            responder="responder@corp.test",
            playbook_dirs=(),
        )
        saved += asyncio.run(walk_exercise(exercise, args.out, (width, height)))
    for path in saved:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
