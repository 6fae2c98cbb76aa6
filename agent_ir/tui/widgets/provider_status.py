"""ProviderStatus: one line per configured provider while the inventory loads and after.

Each line says in words where that provider is: ``loading`` (with the adapter's latest
progress), ``ok`` with what it found, or ``FAILED`` with the provider's error, so one
provider failing is visible while the others fill the list.

No bindings. Reactive state: ``lines`` (provider → (state, detail)).
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from agent_ir.tui.safe import clean

LOADING = "loading"
OK = "ok"
FAILED = "FAILED"

_STYLE = {LOADING: "bold", OK: "bold green", FAILED: "bold red"}


class ProviderStatus(Static):
    """Per-provider discovery state, in words."""

    DEFAULT_CSS = """
    ProviderStatus { height: auto; padding: 0 1; }
    """

    lines: reactive[dict[str, tuple[str, str]]] = reactive(dict, always_update=True)

    class Progress(Message):
        """An adapter's progress report, carried to the widget's own thread."""

        def __init__(self, what: str, done: int, total: int | None) -> None:
            super().__init__()
            self.what = what
            self.done = done
            self.total = total

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._last_report = 0.0

    def report(self, what: str, done: int, total: int | None) -> None:
        """A progress callback safe to call from any thread (at most ten redraws a second)."""
        now = time.monotonic()
        if now - self._last_report >= 0.1 or (total is not None and done >= total):
            self._last_report = now
            self.post_message(self.Progress(what, done, total))

    def on_provider_status_progress(self, event: ProviderStatus.Progress) -> None:
        """Show a progress report."""
        self.progress(event.what, event.done, event.total)

    def start(self, providers: list[str]) -> None:
        """Every provider is loading."""
        self.lines = {p: (LOADING, "waiting for the first answer") for p in providers}

    def progress(self, what: str, done: int, total: int | None) -> None:
        """An adapter's progress report; attributed by its leading provider name."""
        head = what.split(":", 1)[0].split(" ", 1)[0]
        if head in self.lines and self.lines[head][0] == LOADING:
            count = f" {done}/{total}" if total is not None else ""
            self.lines = {**self.lines, head: (LOADING, f"{what}{count}")}

    def answered(self, provider: str, detail: str) -> None:
        """A provider finished discovery."""
        self.lines = {**self.lines, provider: (OK, detail)}

    def failed(self, provider: str, message: str) -> None:
        """A provider failed; its message stays on screen."""
        self.lines = {**self.lines, provider: (FAILED, message)}

    @property
    def failures(self) -> list[str]:
        """The providers that failed."""
        return [p for p, (state, _) in self.lines.items() if state == FAILED]

    def watch_lines(self, lines: dict[str, tuple[str, str]]) -> None:
        """Redraw."""
        text = Text(no_wrap=False, overflow="fold")
        for index, (provider, (state, detail)) in enumerate(lines.items()):
            if index:
                text.append("\n")
            text.append(f"{provider:<6} ", style="bold")
            text.append(state, style=_STYLE[state])
            text.append(f"  {detail}")
        self.update(clean(text))
