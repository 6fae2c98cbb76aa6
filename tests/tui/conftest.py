"""Console tests run against the session lab through the one app factory.

The clock is the lab's own "now", so every age on screen is the world's; incident ids
are made deterministic so snapshots hold across runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from agent_ir.engine import journal as jr
from agent_ir.engine.executor import Tuning
from agent_ir.factory import make_app
from agent_ir.lab.runner import Lab
from agent_ir.settings import Settings
from agent_ir.tui.app import AgentIRApp

FAST = Tuning(backoff_s=0.05, max_backoff_s=0.2, verify_interval_s=0.02)
AppFactory = Callable[..., AgentIRApp]


@pytest.fixture
def tui_settings(fresh_lab: Lab, tmp_path: Path) -> Settings:
    """The lab's settings with a journal of the test's own."""
    return fresh_lab.settings.model_copy(update={"journal_dir": tmp_path / "journal"})


@pytest.fixture
def fixed_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Incident ids from a counter (the date and time in a real id would change daily)."""
    counter = itertools.count(1)

    def new_incident_id(now: datetime) -> str:
        return f"IR-20250101-120000-{next(counter):04x}"

    monkeypatch.setattr(jr, "new_incident_id", new_incident_id)


@pytest.fixture
def console(
    tui_settings: Settings, fresh_lab: Lab, tmp_path: Path, fixed_ids: None
) -> Iterator[AppFactory]:
    """Build the console the way the CLI does, on the lab, with a fixed clock."""

    def build(**overrides: object) -> AgentIRApp:
        settings = tui_settings
        if overrides.pop("read_only", False):
            settings = settings.model_copy(update={"read_only": True})
        options: dict[str, object] = {
            "clock": lambda: fresh_lab.now,
            "tuning": FAST,
            "responder": "responder@corp.test",
            "playbook_dirs": (tmp_path / "playbooks",),
        }
        options.update(overrides)
        return make_app(settings, **options)  # type: ignore[arg-type]

    yield build
