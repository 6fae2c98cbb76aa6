"""Pick a playbook (shipped or the user's) and fill in its parameters."""

from __future__ import annotations

import re

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, OptionList, Static
from textual.widgets.option_list import Option

from agent_ir.errors import UsageError
from agent_ir.playbook.loader import resolve_params
from agent_ir.textsafe import visible
from agent_ir.tui.safe import plain
from agent_ir.tui.session import ConsoleSession, PlanRequest, PlaybookEntry
from agent_ir.tui.widgets.param_form import ParamForm


class PlaybookPickerScreen(ModalScreen[PlanRequest | None]):
    """Returns a PlanRequest for the chosen playbook and parameters, or None."""

    HELP_NAME = "The playbook picker"

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "plan", "Plan it"),
    ]

    DEFAULT_CSS = """
    PlaybookPickerScreen { align: center middle; }
    PlaybookPickerScreen #picker-box { width: 78; max-width: 100%; height: 90%;
        border: thick $primary; background: $surface; }
    PlaybookPickerScreen OptionList { height: 7; }
    PlaybookPickerScreen #picker-about { height: auto; max-height: 4; padding: 0 1;
        color: $text-muted; }
    PlaybookPickerScreen #picker-problem { height: auto; padding: 0 1; color: $error;
        text-style: bold; }
    PlaybookPickerScreen #picker-buttons { height: auto; align-horizontal: right; }
    PlaybookPickerScreen Button { margin-left: 1; }
    """

    def __init__(self, session: ConsoleSession, agent: str) -> None:
        super().__init__()
        self.session = session
        self.agent = agent
        self.entries: list[PlaybookEntry] = []
        self._leaving = False

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box") as box:
            box.border_title = f"Run a playbook on {self.agent}"
            yield OptionList(id="picker-list")
            yield Static("", id="picker-about")
            yield ParamForm(id="picker-params")
            yield Static("", id="picker-problem")
            with Horizontal(id="picker-buttons"):
                yield Button("Cancel", id="picker-cancel")
                yield Button("Plan (ctrl+s)", id="picker-plan", variant="primary")

    def on_mount(self) -> None:
        """List the playbooks."""
        self.query_one(OptionList).focus()
        self.load()

    @work(exclusive=True, group="playbooks", thread=True)
    def load(self) -> None:
        """Read and validate every playbook file (off the event loop)."""
        entries = self.session.playbooks()
        self.app.call_from_thread(self._show, entries)

    def _show(self, entries: list[PlaybookEntry]) -> None:
        self.entries = entries
        options = self.query_one(OptionList)
        options.clear_options()
        for entry in entries:
            broken = "  [INVALID]" if entry.problem else ""
            options.add_option(Option(f"{entry.name}  ({entry.source}){broken}", id=entry.name))
        if entries:
            options.highlighted = 0

    def _entry(self) -> PlaybookEntry | None:
        index = self.query_one(OptionList).highlighted
        if index is None or index >= len(self.entries):
            return None
        return self.entries[index]

    @on(OptionList.OptionHighlighted)
    async def _highlighted(self) -> None:
        entry = self._entry()
        if entry is None:
            return
        about = self.query_one("#picker-about", Static)
        if entry.playbook is None:
            about.update(f"INVALID: {entry.problem}")
        else:
            about.update(f"{entry.playbook.description}\n{entry.source} file {entry.path.name}")
        await self.query_one(ParamForm).show(entry.playbook)

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        entry = self._entry()
        if entry is not None and entry.playbook is not None and entry.playbook.parameters:
            fields = self.query_one(ParamForm).query("Input, Checkbox")
            if fields:
                fields.first().focus()
                return
        self.action_plan()

    @on(ParamForm.Submitted)
    @on(Button.Pressed, "#picker-plan")
    def action_plan(self) -> None:
        """Plan the highlighted playbook with these parameters, once they are valid."""
        entry = self._entry()
        if entry is None:
            return
        if entry.playbook is None:
            self.notify(visible(entry.problem), markup=False, title="Invalid playbook", severity="error")
            return
        form = self.query_one(ParamForm)
        params = form.values()
        try:
            resolve_params(entry.playbook, params)
        except UsageError as exc:
            message, fields = for_screen(exc.message, entry.playbook.name)
            self._problem(message)
            if fields:
                form.focus_field(fields[0])
            return
        self.dismiss(PlanRequest(self.agent, entry.path, params))

    @on(Button.Pressed, "#picker-cancel")
    def action_cancel(self) -> None:
        """Back without planning; with typed parameters, only on a second escape."""
        if self.query_one(ParamForm).changed and not self._leaving:
            self._leaving = True
            self._problem("escape again drops what you typed · ctrl+s plans it")
            return
        self.dismiss(None)

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _edited(self) -> None:
        self._leaving = False
        self._problem("")

    def _problem(self, text: str) -> None:
        self.query_one("#picker-problem", Static).update(plain(text))


_MISSING = re.compile(r"missing required parameters?: (?P<names>.*?)(?:;|$)")
_PARAM = re.compile(r"--param (?P<name>[^=\s]+)=(?:\.\.\.)?")


def for_screen(message: str, playbook: str) -> tuple[str, list[str]]:
    """The CLI's parameter error in the form's words (fields, not ``--param``), and the
    fields it names, first to fix first."""
    text = message.removeprefix(f"playbook {playbook}: ")
    fields: list[str] = []
    missing = _MISSING.search(text)
    if missing:
        names = _PARAM.findall(missing.group("names"))
        fields += names
        verb = "is" if len(names) == 1 else "are"
        text = text.replace(missing.group(0).rstrip(";"), f"{' and '.join(names)} {verb} required")
    for name in _PARAM.findall(text):
        if name not in fields:
            fields.append(name)
    return _PARAM.sub(lambda m: f"{m.group('name')} ", text).replace("  ", " "), fields
