"""The console in exercise mode, on the session's lab (its world is the exercise's world):
the facilitator advances the clock, injects fire, the residual access panel follows the
adversary probe through a revoke, and ending the exercise scores it and writes the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_ir.cli import tabletop_commands
from agent_ir.cli.main import main
from agent_ir.exit_codes import ExitCode
from agent_ir.factory import make_exercise_app
from agent_ir.lab.runner import Lab
from agent_ir.settings import Settings
from agent_ir.tabletop.loader import load_exercise_text
from agent_ir.tui.exercise_app import ExerciseApp
from agent_ir.tui.screens.agent_detail import AgentDetailScreen
from agent_ir.tui.screens.exercise import ExerciseScreen
from agent_ir.tui.screens.plan import PlanScreen
from agent_ir.tui.screens.run import RunScreen
from agent_ir.tui.widgets.inject_log import InjectLog
from agent_ir.tui.widgets.residual_panel import ResidualPanel
from agent_ir.tui.widgets.run_summary import RunSummary
from tests.conftest import LAB_WORLD
from tests.tui.conftest import FAST
from tests.tui.helpers import confirm, fill, settle, shown

EXERCISE = """\
version: 1
name: key-persistence
narrative: invoice-agent's key is used from an unfamiliar network, then a new key appears.
world: world.yaml
suspects: [invoice-agent]
injects:
  - {kind: alert, at: 30, text: "GuardDuty: invoice-agent's key used from an unfamiliar ASN"}
  - kind: change
    at: 60
    change: new-access-key
    user: invoice-agent
    text: the attacker creates a new access key
  - {kind: alert, at: 90, text: "CloudTrail: iam:CreateAccessKey for invoice-agent"}
"""


@pytest.fixture
def exercise_app(
    tui_settings: Settings, fresh_lab: Lab, tmp_path: Path, fixed_ids: None
) -> ExerciseApp:
    """The console in exercise mode, the way the CLI builds it, on the session lab."""
    (tmp_path / "world.yaml").write_text(LAB_WORLD)
    loaded = load_exercise_text(EXERCISE, "key-persistence.yaml", tmp_path)
    (tmp_path / "probe").mkdir()
    return make_exercise_app(
        tui_settings,
        fresh_lab,
        loaded,
        "invoice-agent",
        workdir=tmp_path / "probe",
        report=tmp_path / "aar.md",
        report_json=tmp_path / "aar.json",
        clock=lambda: fresh_lab.now,
        tuning=FAST,
        responder="facilitator@corp.test",
        playbook_dirs=(tmp_path / "playbooks",),
    )


def _residual(app: ExerciseApp) -> str:
    panel = app.screen.query_one(ResidualPanel)
    assert panel.display
    return str(panel.content)


async def test_injects_residual_access_revoke_and_score(
    exercise_app: ExerciseApp, tmp_path: Path
) -> None:
    app = exercise_app
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ExerciseScreen)
        clock = shown(app, "#exercise-clock")
        assert "Exercise key-persistence" in clock and "clock 0s" in clock
        assert "next inject at 30s (n)" in clock

        await pilot.press("a")
        await settle(pilot)
        before = _residual(app)
        assert "[aws] access key" in before and "of invoice-agent" in before
        await pilot.press("a")
        assert not app.screen.query_one(ResidualPanel).display

        await pilot.press("n")
        await settle(pilot)
        assert "clock 30s" in shown(app, "#exercise-clock")
        log = app.screen.query_one(InjectLog)
        assert any("ALERT" in line and "unfamiliar ASN" in line for line in log.lines)
        assert any("unfamiliar ASN" in n.message for n in app._notifications)

        await pilot.press("n")
        await settle(pilot)
        assert "clock 60s" in shown(app, "#exercise-clock")
        change = next(line for line in log.lines if "CHANGE" in line)
        new_key = change.rsplit("(", 1)[1].rstrip(")")
        assert new_key.startswith("access key ") and new_key not in before
        await pilot.press("a")
        await settle(pilot)
        assert f"[aws] {new_key}  (behaviour)" in _residual(app)
        await pilot.press("a")

        await fill(pilot, "#filter", "invoice-agent")
        await pilot.press("enter", "r")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        await confirm(pilot, "invoice-agent", "tabletop: key persistence")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
        summary = str(app.screen.query_one(RunSummary).content)
        assert "COMPLETE" in summary
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ExerciseScreen)

        await pilot.press("a")
        await settle(pilot)
        assert "None: no path the attacker holds still works." in _residual(app)

        await pilot.press("e")
        await settle(pilot)
        data = json.loads((tmp_path / "aar.json").read_text())
        assert f"score {data['score']}/100" in shown(app, "#exercise-clock")
        assert data["residual"] == [] and data["incident"].startswith("IR-")
        held = {o["objective"]: o["held"] for o in data["objectives"]}
        assert held["no-residual-access"] and held["every-write-has-reason"]
        kinds = {e["kind"] for e in data["timeline"]}
        assert {"alert", "change", "probe", "response", "journal intent"} <= kinds
        markdown = (tmp_path / "aar.md").read_text()
        assert "# After-action report: key-persistence" in markdown
        assert "None: no path the attacker holds still works." in markdown
        assert any(n.title == "Exercise ended" for n in app._notifications)


async def test_advancing_past_the_last_inject_says_so(exercise_app: ExerciseApp) -> None:
    app = exercise_app
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for _ in range(3):
            await pilot.press("n")
            await settle(pilot)
        assert "every inject has fired" in shown(app, "#exercise-clock")
        await pilot.press("n")
        await settle(pilot)
        assert any(n.message == "every inject has fired" for n in app._notifications)


async def test_the_exercise_keys_work_on_other_screens(
    exercise_app: ExerciseApp, tmp_path: Path
) -> None:
    app = exercise_app
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await fill(pilot, "#filter", "invoice-agent")
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AgentDetailScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, AgentDetailScreen) and app.exercise.t == 30
        assert any("unfamiliar ASN" in n.message for n in app._notifications)
        await pilot.press("e")
        await settle(pilot)
        assert any(n.title == "Exercise ended" for n in app._notifications)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ExerciseScreen)
        log = app.screen.query_one(InjectLog)
        assert any("unfamiliar ASN" in line for line in log.lines)
        assert "score " in shown(app, "#exercise-clock")
    # ended with no response: the report says so, and nothing was journaled
    markdown = (tmp_path / "aar.md").read_text()
    assert "- Agent: `invoice-agent`; no containment was run" in markdown
    assert "None: no responder ran a playbook." in markdown
    held = {
        o["objective"]: o for o in json.loads((tmp_path / "aar.json").read_text())["objectives"]
    }
    assert not held["every-write-has-reason"]["held"]
    assert (
        held["every-write-has-reason"]["detail"] == "no response was run, so nothing was journaled"
    )


def test_without_yes_off_a_terminal_stays_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tabletop", "default-story", "--agent", "invoice-agent"]) == ExitCode.REFUSED
    assert "--yes" in capsys.readouterr().err


def test_without_yes_on_a_terminal_opens_the_console(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    monkeypatch.setattr(
        tabletop_commands, "open_console", lambda args: opened.append(args.exercise) or 0
    )
    assert main(["tabletop", "default-story"]) == ExitCode.OK
    assert opened == ["default-story"]


async def test_every_footer_key_fits_at_80_columns(exercise_app: ExerciseApp) -> None:
    """Quit, Keys and the facilitator's Inject/Residual/End (which come last) are whole
    at 80 columns, on the exercise screen and on an agent."""
    from textual.widgets._footer import FooterKey

    async with exercise_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(2):
            keys = {
                str(k.description): k.region for k in exercise_app.screen.query(FooterKey)
            }
            assert {"Quit", "Keys", "Inject", "Residual", "End"} <= set(keys)
            assert all(r.width > 0 and r.right <= 80 for r in keys.values()), keys
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(exercise_app.screen, AgentDetailScreen)
