"""What ``?`` shows: the keys, grouped by screen, in the responder's words.

The screen the responder is on comes first (its own keys and those of what has focus
there), then the keys that work everywhere, then every other screen's. Each key says
what it does in a sentence taken from its action's docstring; no class name and no
Textual key name (``slash``, ``question_mark``) reaches the screen.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import App
from textual.binding import Binding, BindingType
from textual.dom import DOMNode

_KEY_NAMES = {"enter": "enter", "escape": "esc", "tab": "tab", "space": "space"}
_FRAMEWORK_WORDS = {
    "quit": "leave the console",
    "app.quit": "leave the console",
    "focus_next": "move to the next field or panel",
    "focus_previous": "move to the previous field or panel",
    "screen.copy_text": "copy the text selected with the mouse",
    "copy_text": "copy the text selected with the mouse",
}
"""Textual's own actions worth listing, in words (their docstrings are for developers);
the rest of Textual's (sideways scrolling and the like) are left out."""


@dataclass(frozen=True, slots=True)
class HelpRow:
    """One key: how to type it, its short name, and what it does."""

    key: str
    name: str
    does: str


@dataclass(frozen=True, slots=True)
class HelpSection:
    """The keys of one screen (or of everywhere)."""

    title: str
    rows: tuple[HelpRow, ...]


def help_name(node: type[DOMNode] | DOMNode) -> str:
    """A screen's or widget's name for people: its ``HELP_NAME``, else its words."""
    cls = node if isinstance(node, type) else type(node)
    name = getattr(cls, "HELP_NAME", "")
    if name:
        return str(name)
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in cls.__name__).strip()
    return words.removesuffix(" screen").capitalize()


def key_text(app: App[None], binding: Binding) -> str:
    """How to type a binding: ``/``, ``?``, ``ctrl+r``, ``enter``."""
    key = binding.key
    if key in _KEY_NAMES:
        return _KEY_NAMES[key]
    shown = app.get_key_display(binding)
    return "ctrl+" + key.split("+", 1)[1] if shown.startswith("^") and "+" in key else shown


def does(node: type[DOMNode] | DOMNode, binding: Binding) -> str | None:
    """What a binding does, in a sentence: its tooltip, else the first sentence of its
    action's docstring; None for a Textual action not worth listing."""
    if binding.tooltip:
        return binding.tooltip
    if binding.action in _FRAMEWORK_WORDS:
        return _FRAMEWORK_WORDS[binding.action]
    name = binding.action.split("(", 1)[0]
    owner: object = node
    if "." in name:
        namespace, name = name.split(".", 1)
        owner = App if namespace == "app" else node
    method = getattr(owner, f"action_{name}", None)
    if method is None or not getattr(method, "__module__", "").startswith("agent_ir."):
        return None
    doc = inspect.getdoc(method) or binding.description
    first = doc.split("\n\n", 1)[0].replace("\n", " ")
    return first.split(". ", 1)[0].removesuffix(".")


def _bindings(cls: type[DOMNode]) -> list[Binding]:
    found: list[BindingType] = list(getattr(cls, "BINDINGS", []))
    return [b if isinstance(b, Binding) else Binding(*b) for b in found]


def _rows(
    app: App[None], items: Sequence[tuple[type[DOMNode] | DOMNode, Binding]], seen: set[str]
) -> tuple[HelpRow, ...]:
    """One row per action (its keys together: ``esc / q``), each key listed once."""
    rows: dict[tuple[str, str], HelpRow] = {}
    for node, binding in items:
        key = key_text(app, binding)
        text = does(node, binding)
        if not binding.description or text is None or key in seen:
            continue
        seen.add(key)
        text += "" if isinstance(node, App) else _where(node)
        mark = (binding.action, text)
        if mark in rows:
            row = rows[mark]
            rows[mark] = HelpRow(f"{row.key} / {key}", row.name, row.does)
        else:
            rows[mark] = HelpRow(key, binding.description, text)
    return tuple(rows.values())


def _where(node: type[DOMNode] | DOMNode) -> str:
    cls = node if isinstance(node, type) else type(node)
    place = getattr(cls, "HELP_WHERE", "")
    return f" ({place})" if place else ""


def current_section(app: App[None]) -> HelpSection:
    """The keys that work on the screen shown now (not the app-wide ones)."""
    screen = app.screen
    items = [
        (active.node, active.binding)
        for active in screen.active_bindings.values()
        if active.node is not app and active.enabled
    ]
    return HelpSection(f"Here: {help_name(screen)}", _rows(app, items, set()))


def everywhere_section(app: App[None]) -> HelpSection:
    """The keys that work on every screen."""
    items: list[tuple[type[DOMNode] | DOMNode, Binding]] = [(app, b) for b in _bindings(type(app))]
    return HelpSection("Everywhere", _rows(app, items, set()))


def screen_section(app: App[None], screen: type[DOMNode], parts: list[type[DOMNode]]) -> HelpSection:
    """Every key of a screen that is not shown now, from its class and its parts'."""
    items: list[tuple[type[DOMNode] | DOMNode, Binding]] = []
    for cls in (screen, *parts):
        items += [(cls, b) for b in _bindings(cls)]
    return HelpSection(help_name(screen), _rows(app, items, set()))


def help_sections(app: App[None]) -> list[HelpSection]:
    """This screen's keys, the app-wide ones, then every other screen's."""
    from agent_ir.tui.screens.agent_detail import AgentDetailScreen
    from agent_ir.tui.screens.agent_list import AgentListScreen
    from agent_ir.tui.screens.incident import IncidentScreen
    from agent_ir.tui.screens.plan import PlanScreen
    from agent_ir.tui.screens.run import RunScreen
    from agent_ir.tui.widgets.agent_table import AgentTable
    from agent_ir.tui.widgets.incident_table import IncidentTable

    screens: list[tuple[type[DOMNode], list[type[DOMNode]]]] = [
        (AgentListScreen, [AgentTable]),
        (AgentDetailScreen, [IncidentTable]),
        (PlanScreen, []),
        (RunScreen, []),
        (IncidentScreen, []),
    ]
    here = type(app.screen)
    others = [screen_section(app, s, parts) for s, parts in screens if s is not here]
    return [current_section(app), everywhere_section(app), *others]
