"""Engine tests run against the session lab with a private journal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent_ir.engine.inventory import Engine
from agent_ir.lab.runner import Lab


@pytest.fixture
def engine(fresh_lab: Lab, tmp_path: Path) -> Engine:
    """An engine on the lab, journaling into the test's own folder."""
    settings = fresh_lab.settings.model_copy(update={"journal_dir": tmp_path / "journal"})
    return Engine(settings, clock=lambda: _now())


def _now() -> Any:
    from agent_ir.providers.base import utcnow

    return utcnow()
