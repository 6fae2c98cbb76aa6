"""The one way to build the console, shared by the CLI, the tests and the screenshot
script, so all three see the same application."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from agent_ir.engine.executor import Tuning
from agent_ir.settings import Settings

if TYPE_CHECKING:
    from agent_ir.tui.app import AgentIRApp


def make_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
    tuning: Tuning | None = None,
    responder: str | None = None,
    playbook_dirs: tuple[Path, ...] | None = None,
) -> AgentIRApp:
    """The console over ``settings``.

    ``clock`` fixes "now" (ages, journal times); ``tuning`` paces retries and
    verification; ``responder`` names who acts (default ``$AGENT_IR_RESPONDER``, else the
    OS user); ``playbook_dirs`` replaces the user's playbook folder.
    """
    from agent_ir.tui.app import AgentIRApp
    from agent_ir.tui.session import ConsoleSession

    session = ConsoleSession(
        settings, clock=clock, tuning=tuning, responder=responder, playbook_dirs=playbook_dirs
    )
    return AgentIRApp(session)
