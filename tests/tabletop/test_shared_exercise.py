"""Several responders in one exercise: ``agent-ir lab serve --exercise`` hosts it (in a
subprocess: this process already holds moto), two responders join through the lab's
configuration, see each other's injects, one contains the agent, the journal and the
after-action report say who did what, and ``tabletop --join --end`` scores it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_ir.data import playbook_dir
from agent_ir.factory import make_joined_app
from agent_ir.settings import Settings, load_settings
from agent_ir.tabletop.remote import RemoteExercise
from agent_ir.tui.exercise_session import ExerciseSession
from agent_ir.tui.session import PlanRequest
from agent_ir.tui.widgets.inject_log import InjectLog
from tests.conftest import LAB_WORLD
from tests.tabletop.conftest import ROOT, SCRIPT, run_script
from tests.tui.conftest import FAST
from tests.tui.helpers import settle, shown

EXERCISE = """\
version: 1
name: shared-persistence
world: world.yaml
suspects: [invoice-agent]
injects:
  - {kind: alert, at: 30, text: "GuardDuty: invoice-agent's key used from an unfamiliar ASN"}
  - {kind: change, at: 60, change: new-access-key, user: invoice-agent}
  - {kind: alert, at: 90, text: "CloudTrail: iam:CreateAccessKey for invoice-agent"}
"""


@pytest.fixture(scope="module")
def hosted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``lab serve --exercise`` running; yields the configuration file it printed."""
    base = tmp_path_factory.mktemp("shared")
    (base / "world.yaml").write_text(LAB_WORLD)
    (base / "exercise.yaml").write_text(EXERCISE)
    env = {**os.environ, "XDG_CONFIG_HOME": str(base / "c"), "XDG_STATE_HOME": str(base / "s")}
    env.pop("AGENT_IR_CONFIG", None)
    command = [str(SCRIPT), "lab", "serve", "--exercise", str(base / "exercise.yaml")]
    command += ["--config-out", str(base / "lab" / "config.yaml")]
    command += ["--report", str(base / "aar.md"), "--report-json", str(base / "aar.json")]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("ready "):
        process.kill()
        pytest.fail(
            f"lab serve did not start: {line!r} {process.stderr.read() if process.stderr else ''}"
        )
    try:
        yield Path(line.split(" ", 1)[1].strip())
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert "Traceback" not in err


def _session(settings: Settings, who: str) -> ExerciseSession:
    return ExerciseSession(
        settings, RemoteExercise.from_settings(settings), tuning=FAST, responder=who
    )


async def test_two_responders_share_the_clock_and_the_report_names_who_did_what(
    hosted: Path, tmp_path: Path
) -> None:
    settings = load_settings(hosted)
    assert settings.exercise_url and settings.journal_dir == hosted.parent / "journal"
    alice, bob = _session(settings, "alice@corp.test"), _session(settings, "bob@corp.test")
    try:
        first = await alice.begin()
        assert first == await bob.begin()  # one probe for everyone
        assert any(r.works and "of invoice-agent" in r.path for r in first)

        fired = await alice.advance()
        assert [e.kind for e in fired] == ["alert"] and alice.t == 30
        assert [e.text for e in await bob.sync()] == [fired[0].text] and bob.t == 30
        assert await bob.sync() == []  # each console sees each inject once

        change = await bob.advance()
        assert [e.kind for e in change] == ["change"] and "access key" in change[0].text
        assert [e.kind for e in await alice.sync()] == ["change"] and alice.stale

        await bob.reload()  # the console rediscovers after a change
        ready = await bob.prepare(
            PlanRequest("invoice-agent", playbook_dir() / "contain-agent.yaml")
        )
        outcome = await bob.run(ready, "tabletop: shared exercise", lambda step: True, print)
        assert outcome.counts()["verified"] == len(outcome.results)
        assert not [r for r in await alice.residual_access() if r.works]

        # a third responder runs the CLI against the same lab: not reported by a console,
        # but journaled in the shared journal, so the exercise picks it up at the end
        reason = "tabletop: second look"
        command = [str(SCRIPT), "--config", str(hosted), "revoke", "invoice-agent"]
        again = run_script([*command, "--reason", reason, "--yes"], tmp_path)
        assert again.code == 0, again.err
        card = await alice.end()
        assert card.passed and card.score == 100 and bob.t == alice.t
    finally:
        await alice.aclose()
        await bob.aclose()

    data = json.loads(card.json.read_text())
    assert data["responders"] == ["bob@corp.test", "tabletop-tester"]
    assert data["responses"][0]["incident"] == outcome.incident
    assert data["responses"][1]["playbook"] == "contain-agent"
    texts = [e["text"] for e in data["timeline"]]
    assert "alice@corp.test moves the clock to 30s" in texts
    assert "bob@corp.test moves the clock to 60s" in texts
    assert any(t.startswith(f"incident {outcome.incident} by bob@corp.test") for t in texts)
    assert "| bob@corp.test | playbook contain-agent |" in card.markdown.read_text()

    ended = run_script(
        [str(SCRIPT), "--config", str(hosted), "tabletop", "--join", "--end"], tmp_path
    )
    assert ended.code == 0 and "Score: 100/100" in ended.out, ended.err


async def test_a_joined_console_catches_up_with_the_other_responders(hosted: Path) -> None:
    settings = load_settings(hosted)
    other = _session(settings, "carol@corp.test")
    app = make_joined_app(settings, tuning=FAST, responder="dan@corp.test", poll_s=0.1)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert "Exercise shared-persistence" in shown(app, "#exercise-clock")
            if app.exercise.next_at is None:
                pytest.skip("the first test fired every inject")
            fired = await other.advance()  # every inject so far: the other's first look
            log = app.screen.query_one(InjectLog)
            for _ in range(2400):  # a hang guard (two minutes), not a timing
                await pilot.pause(0.05)
                if all(any(e.text in line for line in log.lines) for e in fired):
                    break
            assert fired and all(any(e.text in line for line in log.lines) for e in fired)
            assert f"clock {other.t:g}s" in shown(app, "#exercise-clock")
    finally:
        await other.aclose()


def test_join_refuses_without_a_shared_exercise(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("name: plain\n")
    result = run_script(
        [str(SCRIPT), "--config", str(config), "tabletop", "--join", "--end"], tmp_path
    )
    assert result.code == 2 and "names no shared exercise" in result.err
    result = run_script([str(SCRIPT), "tabletop", "--end"], tmp_path)
    assert result.code == 2 and "--join" in result.err
