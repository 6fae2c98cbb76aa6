"""A revoke that cuts first reads nothing outside the agent's closure either: its direct
lookups by name and the whole read that follows, counted from the lab's request log on a
generated world of all four providers (see ``test_scoped_requests`` for what a touch is)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_ir.data import playbook_dir
from agent_ir.engine import journal as jr
from agent_ir.engine.firstcut import cut_first
from agent_ir.engine.incident import Who, journal_dir
from agent_ir.engine.inventory import Engine
from agent_ir.lab.generator import generate_yaml
from agent_ir.playbook.loader import load_playbook
from agent_ir.settings import load_settings
from tests.engine.helpers import FAST
from tests.engine.test_scoped_discovery import _serve
from tests.engine.test_scoped_requests import (
    PROVIDERS,
    _clear,
    _closure,
    _logged,
    _touched,
    _widest,
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("cut-first-requests")
    world = directory / "world.yaml"
    world.write_text(generate_yaml(60, 2, 11, PROVIDERS))
    yield from _serve(world, directory)


async def test_a_revoke_that_cuts_first_reads_nothing_outside_the_closure(
    lab: Path, tmp_path: Path
) -> None:
    playbook = load_playbook(playbook_dir() / "contain-agent.yaml")
    agent = (await _widest(lab))[0]
    closure, names = await _closure(lab, agent)
    settings = load_settings(lab).model_copy(update={"journal_dir": tmp_path / "journal"})
    engine = Engine(settings)
    _clear(lab)
    try:
        outcome = await cut_first(
            engine, agent, playbook, {}, Who("t", "test"), lambda _p: lambda _s: True, tuning=FAST
        )
    finally:
        await engine.aclose()
    logged = _logged(lab)

    records = jr.Journal.read(jr.incident_path(journal_dir(engine), outcome.incident))
    assert records[0].payload["plan"].get("growing"), "the revoke did not cut first"
    assert outcome.exit_code == 0, outcome.to_json()
    touched = _touched(logged, names)
    assert {ident for _, _, ident in touched} & closure, agent
    outside = sorted({t for t in touched if t[2] not in closure})
    assert outside == [], f"{agent}: {len(outside)} requests outside: {outside[:10]}"
