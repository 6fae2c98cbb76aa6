"""``agent-ir console``: the console paints first and opens its environment behind it.

Starting the default lab (or the one ``--lab``/``--world`` ask for) takes seconds, so
the environment is entered in a thread while the console shows its progress; when the
console ends, the environment is left here (a lab still starting is waited for, then
stopped), and an opening that failed is raised as the command's error, so the exit
code is the error's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from agent_ir.config_location import locate
from agent_ir.errors import AgentIRError, LabError
from agent_ir.exit_codes import ExitCode

if TYPE_CHECKING:
    from agent_ir.settings import Settings
    from agent_ir.tui.app import AgentIRApp
    from agent_ir.tui.opening import ContextOpening


def starts_lab(args: argparse.Namespace) -> bool:
    """True when the command's providers are a lab started here (see ``environment``)."""
    return args.world is not None or bool(args.lab) or locate(args.config) is None


def console_opening(args: argparse.Namespace) -> ContextOpening:
    """The command's environment, to be opened behind the console's first paint."""
    from agent_ir.tui.opening import ContextOpening

    lab = starts_lab(args)
    what = "starting lab…" if lab else "reading the configuration…"
    return ContextOpening(lambda: _environment(args), what=what, lab=lab)


def _environment(args: argparse.Namespace) -> AbstractContextManager[Settings]:
    """Called in the opening's thread: the settings (pydantic, every provider's
    configuration) and the lab are imported there, behind the first paint."""
    from agent_ir.cli.environment import environment

    return environment(args)


def run_console(
    opening: ContextOpening, app: AgentIRApp, run: Callable[[AgentIRApp], object]
) -> ExitCode:
    """Run ``app`` (by ``run``) over ``opening``, then close the opening, whatever
    happened; raise the opening's failure as the command's error."""
    try:
        run(app)
    finally:
        if opening.starting:
            print("agent-ir: stopping the lab once it has started…", file=sys.stderr)
        opening.close()
    failure = opening.failure()
    if failure is None:
        return ExitCode.OK
    if isinstance(failure, AgentIRError):
        raise failure
    if opening.lab:
        raise LabError(f"the lab did not start: {type(failure).__name__}: {failure}") from failure
    raise failure


def cmd_console(args: argparse.Namespace) -> ExitCode:
    """Open the Textual console; its environment opens behind the first paint."""
    from agent_ir.factory import make_app

    opening = console_opening(args)
    return run_console(opening, make_app(opening), lambda app: app.run())
