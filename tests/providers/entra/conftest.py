"""An Entra-only lab for the whole module (no AWS: moto is process-global), reset after
every test that changes it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent_ir.engine.inventory import Engine
from agent_ir.lab.entra import EntraEmulator
from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import World, load_world_text
from agent_ir.providers.entra.config import EntraSettings
from tests.providers.entra.entra_helpers import WORLD


@pytest.fixture(scope="session")
def entra_world() -> World:
    """The module's world: an Entra section only."""
    return load_world_text(WORLD, "tests/providers/entra/conftest.py")


@pytest.fixture(scope="session")
def entra_lab(entra_world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The running Entra-only lab."""
    with Lab(entra_world, tmp_path_factory.mktemp("entra-lab")) as running:
        yield running


@pytest.fixture
def lab(entra_lab: Lab) -> Iterator[Lab]:
    """The lab, reset to the world as seeded (faults and limits too) after the test."""
    yield entra_lab
    entra_lab.reset()


@pytest.fixture
def emulator(lab: Lab) -> EntraEmulator:
    """The Entra emulator object (lab-only API: agents' secrets, outside tokens)."""
    found = lab.emulators["entra"]
    assert isinstance(found, EntraEmulator)
    return found


@pytest.fixture
def settings(lab: Lab) -> EntraSettings:
    """The ``providers.entra`` section the lab wrote (retrying quickly, for tests)."""
    section = lab.settings.providers.entra
    assert section is not None
    return section.model_copy(update={"retry_backoff_s": 0.02})


@pytest.fixture
def engine(lab: Lab, tmp_path: Path) -> Engine:
    """An engine on the lab journaling into the test's folder."""
    entra = lab.settings.providers.entra
    assert entra is not None
    quick = entra.model_copy(update={"retry_backoff_s": 0.02})
    providers = lab.settings.providers.model_copy(update={"entra": quick})
    return Engine(
        lab.settings.model_copy(
            update={"journal_dir": tmp_path / "journal", "providers": providers}
        )
    )


@pytest.fixture
def faults(lab: Lab) -> Callable[..., None]:
    """``faults(error_rate=…, …)`` sets the Entra emulator's fault injection."""

    def apply(**values: Any) -> None:
        lab.faults["entra"].update(FaultSpec(**values))

    return apply
