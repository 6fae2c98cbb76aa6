"""How the CLI reaches the console: a ``console`` command, the default on a terminal."""

from __future__ import annotations

import pytest

from agent_ir.cli import console
from agent_ir.cli.main import build_parser, main


def test_console_is_a_command() -> None:
    args = build_parser().parse_args(["--read-only", "console"])
    assert args.command == "console" and args.read_only


def test_no_command_off_a_terminal_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "console" in out and "usage: agent-ir" in out


def test_no_command_on_a_terminal_opens_the_console(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    monkeypatch.setattr(console, "cmd_console", lambda args: opened.append(args.command) or 0)
    assert main([]) == 0
    assert opened == ["console"]
