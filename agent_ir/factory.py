"""The one way to build the console, shared by the CLI, the tests and the screenshot
script, so all three see the same application."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the console paints before the engine and the settings are imported
    from agent_ir.engine.executor import Tuning
    from agent_ir.lab.runner import Lab
    from agent_ir.settings import Settings
    from agent_ir.tabletop.loader import LoadedExercise
    from agent_ir.tui.app import AgentIRApp
    from agent_ir.tui.exercise_app import ExerciseApp
    from agent_ir.tui.exercise_session import ExercisePort
    from agent_ir.tui.opening import Opening
    from agent_ir.tui.session import ConsoleSession


def make_app(
    settings: Settings | Opening,
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

    Given an :class:`~agent_ir.tui.opening.Opening` instead of settings (a lab still to
    start), the console paints at once and opens it behind a progress line.
    """
    from agent_ir.tui.app import AgentIRApp
    from agent_ir.tui.opening import Opening

    def make_session(ready: Settings) -> ConsoleSession:
        # the session (the engine, the providers' contract) is imported here, once the
        # settings are ready: behind the start-up screen when there is an opening
        from agent_ir.tui.session import ConsoleSession

        return ConsoleSession(
            ready, clock=clock, tuning=tuning, responder=responder, playbook_dirs=playbook_dirs
        )

    if isinstance(settings, Opening):
        return AgentIRApp(opening=settings, make_session=make_session)
    return AgentIRApp(make_session(settings))


def make_exercise_app(
    settings: Settings,
    lab: Lab,
    loaded: LoadedExercise,
    agent: str,
    *,
    workdir: Path,
    report: Path,
    report_json: Path,
    clock: Callable[[], datetime] | None = None,
    tuning: Tuning | None = None,
    responder: str | None = None,
    playbook_dirs: tuple[Path, ...] | None = None,
) -> ExerciseApp:
    """The console in exercise mode on ``lab`` (running ``loaded``'s world), played against
    the suspect ``agent`` in this process; the probe keeps its files in ``workdir`` and the
    after-action report goes to ``report`` (Markdown) and ``report_json``. The other
    options are :func:`make_app`'s.
    """
    from agent_ir.tabletop.live import LiveExercise

    port = LiveExercise(
        lab,
        loaded,
        agent,
        settings=settings,
        workdir=workdir,
        report=report,
        report_json=report_json,
    )
    return _exercise_app(settings, port, None, clock, tuning, responder, playbook_dirs)


def make_joined_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
    tuning: Tuning | None = None,
    responder: str | None = None,
    playbook_dirs: tuple[Path, ...] | None = None,
    poll_s: float = 2.0,
) -> ExerciseApp:
    """The console in exercise mode joined to the exercise ``agent-ir lab serve
    --exercise`` hosts (named by ``settings``); it catches up with the clock and injects
    every ``poll_s`` seconds. The other options are :func:`make_app`'s."""
    from agent_ir.tabletop.remote import RemoteExercise

    port = RemoteExercise.from_settings(settings)
    return _exercise_app(settings, port, poll_s, clock, tuning, responder, playbook_dirs)


def _exercise_app(
    settings: Settings,
    port: ExercisePort,
    poll_s: float | None,
    clock: Callable[[], datetime] | None,
    tuning: Tuning | None,
    responder: str | None,
    playbook_dirs: tuple[Path, ...] | None,
) -> ExerciseApp:
    from agent_ir.tui.exercise_app import ExerciseApp
    from agent_ir.tui.exercise_session import ExerciseSession

    session = ExerciseSession(
        settings,
        port,
        clock=clock,
        tuning=tuning,
        responder=responder,
        playbook_dirs=playbook_dirs,
    )
    return ExerciseApp(session, poll_s=poll_s)
