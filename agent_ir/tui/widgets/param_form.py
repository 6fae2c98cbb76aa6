"""ParamForm: a playbook's parameters as form fields.

A bool parameter is a checkbox; a string or int parameter is an input showing its
default; each is labelled with its name, type, description and whether it is required.
Values go back as text, exactly as ``--param NAME=VALUE`` would give them.

Bindings: tab moves between fields; enter in an input posts :class:`ParamForm.Submitted`.
Reactive state: ``playbook`` (the name of the playbook shown).
"""

from __future__ import annotations

from textual import on
from textual.containers import VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Checkbox, Input, Label

from agent_ir.playbook.model import Parameter, Playbook
from agent_ir.tui.widgets.toggle import Toggle


class ParamForm(VerticalScroll, can_focus=False):
    """Fields for one playbook's parameters."""

    DEFAULT_CSS = """
    ParamForm { height: 1fr; }
    ParamForm Label { color: $text-muted; }
    """

    playbook: reactive[str] = reactive("")

    class Submitted(Message):
        """Enter was pressed in a field."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._parameters: dict[str, Parameter] = {}
        self._initial: dict[str, str] = {}

    async def show(self, playbook: Playbook | None) -> None:
        """Replace the fields with ``playbook``'s parameters."""
        await self.remove_children()
        self._parameters = dict(playbook.parameters) if playbook else {}
        self.playbook = playbook.name if playbook else ""
        widgets: list[Label | Input | Toggle] = []
        if playbook is not None and not self._parameters:
            widgets.append(Label("This playbook takes no parameters."))
        for name, param in self._parameters.items():
            need = "required" if param.required else "optional"
            if param.type == "bool":
                widgets.append(
                    Toggle(f"{name}: {param.description}", bool(param.default), id=f"param-{name}")
                )
                continue
            widgets.append(Label(f"{name} ({param.type}, {need}): {param.description}"))
            default = "" if param.default is None else str(param.default)
            widgets.append(Input(value=default, placeholder=param.type, id=f"param-{name}"))
        await self.mount_all(widgets)
        self._initial = self.values()

    @property
    def changed(self) -> bool:
        """True when a field differs from what it showed at first (input to lose)."""
        return bool(self._parameters) and self.values() != self._initial

    def focus_field(self, name: str) -> None:
        """Put the cursor in one parameter's field."""
        found = self.query(f"#param-{name}")
        if found:
            found.first().focus()

    def values(self) -> dict[str, str]:
        """Every field as text; empty optional fields are left out."""
        out: dict[str, str] = {}
        for name, param in self._parameters.items():
            if param.type == "bool":
                out[name] = "true" if self.query_one(f"#param-{name}", Checkbox).value else "false"
                continue
            value = self.query_one(f"#param-{name}", Input).value.strip()
            if value:
                out[name] = value
        return out

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted())
