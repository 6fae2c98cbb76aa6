"""The README's key table is checked against the bindings: every key it names is bound
on some screen of the console, and every key a main screen shows in its footer is in
the table."""

from __future__ import annotations

import re
from pathlib import Path

from textual.binding import Binding
from textual.dom import DOMNode

from agent_ir.tui.activity import ActivityPane
from agent_ir.tui.app import AgentIRApp
from agent_ir.tui.screens.agent_detail import AgentDetailScreen
from agent_ir.tui.screens.agent_list import AgentListScreen
from agent_ir.tui.screens.incident import IncidentScreen
from agent_ir.tui.screens.plan import PlanScreen
from agent_ir.tui.screens.run import RunScreen
from agent_ir.tui.widgets.agent_table import AgentTable
from agent_ir.tui.widgets.incident_table import IncidentTable

README = Path(__file__).resolve().parents[2] / "README.md"
NAMES = {"slash": "/", "question_mark": "?", "colon": ":"}
CLASSES: tuple[type[DOMNode], ...] = (
    AgentIRApp,
    AgentListScreen,
    AgentTable,
    AgentDetailScreen,
    ActivityPane,
    IncidentTable,
    PlanScreen,
    RunScreen,
    IncidentScreen,
)


def _bindings() -> list[Binding]:
    found = []
    for cls in CLASSES:
        found += [b for b in cls.BINDINGS if isinstance(b, Binding)]
    return found


def _bound() -> set[str]:
    return {NAMES.get(k, k) for b in _bindings() for k in b.key.split(",")}


def _readme_keys() -> set[str]:
    text = README.read_text(encoding="utf-8")
    table = text.split("| key | does |", 1)[1].split("\n\n", 1)[0]
    keys: set[str] = set()
    for line in table.splitlines()[2:]:
        first = line.split("|")[1]
        for low, high in re.findall(r"`(\d)`\u2013`(\d)`", first):
            keys |= {str(n) for n in range(int(low), int(high) + 1)}
        keys |= set(re.findall(r"`([^`]+)`", first))
    return keys


def test_every_key_in_the_readme_is_bound() -> None:
    keys = _readme_keys()
    assert {"y", "o", "x", "?", ":", "/", "3"} <= keys
    assert keys - _bound() == set()


def test_every_footer_key_of_a_main_screen_is_in_the_readme() -> None:
    shown = {NAMES.get(b.key, b.key) for b in _bindings() if b.show}
    missing = shown - _readme_keys() - {"ctrl+q", "ctrl+r"}  # quit and reload: said in the footer
    assert missing == set()
