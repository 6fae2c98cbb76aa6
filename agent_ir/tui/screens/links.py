"""The agent's identities with their provider console pages: shown as text (select it
over SSH), opened with enter, copied with ``y`` (the id or ARN) or ``c`` (the link)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from agent_ir.model import Identity
from agent_ir.textsafe import visible
from agent_ir.tui.clipboard import copy_text
from agent_ir.tui.links import console_url


class LinksScreen(ModalScreen[None]):
    """One entry per identity: provider, kind, name, full id, console link."""

    HELP_NAME = "Console pages"

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("enter", "open", "Open link"),
        Binding("y", "copy_id", "Copy id"),
        Binding("c", "copy_link", "Copy link"),
    ]

    DEFAULT_CSS = """
    LinksScreen { align: center middle; }
    LinksScreen #links-box { width: 100; max-width: 100%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; }
    LinksScreen OptionList { height: auto; max-height: 1fr; }
    LinksScreen #links-hint { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, agent: str, identities: list[Identity], current: int = 0) -> None:
        super().__init__()
        self.agent = agent
        self.identities = identities
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="links-box") as box:
            box.border_title = f"Console pages of {visible(self.agent)}"
            yield OptionList(*(_option(i) for i in self.identities), id="links-list")
            yield Static(
                "enter opens · y copies the id · c copies the link · escape closes",
                id="links-hint",
            )

    def on_mount(self) -> None:
        """Highlight the identity the responder came from."""
        options = self.query_one(OptionList)
        if self.identities:
            options.highlighted = min(self.current, len(self.identities) - 1)
        options.focus()

    def _identity(self) -> Identity | None:
        index = self.query_one(OptionList).highlighted
        return self.identities[index] if index is not None and self.identities else None

    def action_open(self) -> None:
        """Open the highlighted identity's console page in a browser."""
        ident = self._identity()
        url = console_url(ident) if ident else None
        if url is None:
            self.notify("this identity has no console page", severity="warning")
            return
        self.app.open_url(url)
        self.notify(f"opening {url}", title="Console", markup=False)

    def action_copy_id(self) -> None:
        """Copy the highlighted identity's full id (an ARN, object id or e-mail)."""
        ident = self._identity()
        if ident is not None:
            copy_text(self, f"{ident.provider} id", ident.id)

    def action_copy_link(self) -> None:
        """Copy the highlighted identity's console link."""
        ident = self._identity()
        url = console_url(ident) if ident else None
        if url is None:
            self.notify("this identity has no console page", severity="warning")
        else:
            copy_text(self, f"{ident.provider if ident else ''} console link", url)

    def action_close(self) -> None:
        """Back to the agent."""
        self.dismiss(None)

    def on_option_list_option_selected(self) -> None:
        """Enter (or a click) on an identity opens its page."""
        self.action_open()


def _option(ident: Identity) -> Option:
    url = console_url(ident)
    text = Text()
    text.append(visible(f"{ident.provider} {ident.kind} {ident.name}"), style="bold")
    text.append(f"\n  id    {visible(ident.id)}")
    text.append(f"\n  page  {url}" if url else "\n  page  (no console page for this kind)")
    return Option(text)
