"""Escape sequences and markup in provider strings never reach the terminal raw.

The hostile world holds ``ESC]0;pwned BEL ESC[2J`` (retitle the window, clear the screen)
and Rich markup in an Okta app's label and agent attribute, an Entra application name and
a GCP service account's display name and description. Every text command is run on it; the
in-process runner asserts that no raw control character reaches stdout or stderr.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_ir.textsafe import has_raw_controls, terminal_text, visible
from tests.inproc import run

PWNED = "\x1b]0;pwned\x07\x1b[2J"
OKTA_AGENT = "okta-esc" + PWNED + "[reverse]"


def test_sanitiser_makes_controls_visible() -> None:
    assert visible(PWNED) == "\\x1b]0;pwned\\x07\\x1b[2J"
    assert visible("a\nb\tc\r") == "a\\x0ab\\x09c\\x0d"
    assert terminal_text("a\nb\tc\r") == "a\nb\tc\\x0d"
    assert visible("\u202eevil") == "\\u202eevil"
    assert visible("\x9b31m") == "\\x9b31m"
    assert visible("plain text, ünïcode ✓") == "plain text, ünïcode ✓"
    assert not has_raw_controls(terminal_text(PWNED + "\x9b\x7f"))


@pytest.mark.parametrize(
    "args",
    [
        ["inventory"],
        ["show", OKTA_AGENT],
        ["show", "entra-esc"],
        ["show", "gcp-esc"],
        ["plan", OKTA_AGENT],
        ["plan", "gcp-esc"],
        ["show", "no-such\x1b[2J-agent"],
        ["show", "glob-agent"],
        ["plan", "glob-agent"],
        ["doctor"],
        ["permissions"],
    ],
)
def test_read_commands_never_write_raw_escapes(
    args: list[str], hostile_lab: Path, state_dir: Path
) -> None:
    result = run(["--config", str(hostile_lab), *args])
    assert result.code in (0, 4, 6), result.err
    if args[0] == "inventory" or OKTA_AGENT in args:
        assert "okta-esc\\x1b]0;pwned\\x07\\x1b[2J" in result.out + result.err


def test_json_output_stays_exact(hostile_lab: Path, state_dir: Path) -> None:
    result = run(["--config", str(hostile_lab), "inventory", "-o", "json"])
    names = {agent["name"] for agent in result.json()["agents"]}
    assert OKTA_AGENT in names


def test_revoke_summary_journal_and_restore_never_write_raw_escapes(
    hostile_lab: Path, state_dir: Path
) -> None:
    config = ["--config", str(hostile_lab)]
    revoked = run([*config, "revoke", OKTA_AGENT, "--reason", "esc\x1b[2J test", "--yes"])
    assert revoked.code == 0, revoked.err
    listed = run([*config, "journal", "list"])
    assert "\\x1b]0;pwned" in listed.out
    incident = listed.out.split()[0]
    shown = run([*config, "journal", "show", incident])
    assert shown.code == 0
    assert run([*config, "journal", "verify"]).code == 0
    restored = run([*config, "restore", incident, "--yes", "--reason", "undo"])
    assert restored.code in (0, 6), restored.err
