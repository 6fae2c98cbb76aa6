"""RunSummary: how a run ended, in words.

The incident id, the count of steps in each status, what that means for the exit code,
how long after the start the first and last cuts landed and the last step was verified,
each failed step's error, each provider that did not answer (nothing there is contained),
and any warning (for example steps a restore could not undo).

No bindings. Reactive state: ``incident``.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from agent_ir.engine.executor import Status
from agent_ir.engine.incident import Outcome
from agent_ir.exit_codes import ExitCode
from agent_ir.tui.safe import clean

_VERDICT = {
    ExitCode.OK: ("COMPLETE", "bold green", "every step verified, already so, or skipped"),
    ExitCode.PARTIAL: (
        "PARTIAL",
        "bold yellow",
        "some steps did not verify or a provider did not answer; see below",
    ),
    ExitCode.FAILED: ("FAILED", "bold red", "nothing was changed that could be verified"),
}


class RunSummary(Static):
    """The verification summary at the end of a run."""

    DEFAULT_CSS = """
    RunSummary { height: auto; padding: 0 1; border-top: solid $panel; }
    """

    incident: reactive[str] = reactive("")

    def show(self, outcome: Outcome) -> None:
        """Render the end of a run."""
        self.incident = outcome.incident
        word, style, meaning = _VERDICT.get(
            outcome.exit_code, ("FAILED", "bold red", "the run did not complete")
        )
        text = Text()
        text.append(word, style=style)
        what = f"restore of {outcome.restore_of}" if outcome.restore_of else outcome.plan.playbook
        text.append(f"  incident {outcome.incident}  ({what}, agent {outcome.plan.agent})\n")
        counts = ", ".join(f"{n} {status}" for status, n in outcome.counts().items() if n)
        text.append(f"{counts or 'no steps'}: {meaning}\n")
        timing = outcome.timing_words()
        if timing:
            text.append(f"time from start: {timing}\n")
        for result in outcome.results:
            if result.status is Status.FAILED:
                text.append("FAILED ", style="bold red")
                text.append(f"{result.step.id}: {result.error or 'no detail'}\n")
        for provider, status in outcome.unavailable.items():
            text.append("NOT CONTAINED ", style="bold red")
            text.append(f"{provider}: {status}\n")
        for warning in outcome.warnings:
            text.append("warning: ", style="bold yellow")
            text.append(f"{warning}\n")
        if outcome.verdict is not None:
            style = "bold red" if outcome.verdict.kind == "open" else "bold green"
            text.append(outcome.verdict.words + "\n", style=style)
            for r in outcome.residual:
                until = r.to_json()["until"] or "no end"
                text.append(f"  residual [{r.provider}] {r.path} (until {until})\n")
        self.update(clean(text))

    def failed(self, message: str) -> None:
        """The run was refused or broke before it could end."""
        text = Text()
        text.append("NOT RUN  ", style="bold red")
        text.append(message)
        self.update(clean(text))
