"""Group commit: several records written with one fsync keep the chain, the order and the
redaction of one-by-one appends, and a payload that cannot be journaled fails alone."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent_ir.engine import journal as jr
from agent_ir.engine.executor import Executor
from agent_ir.errors import JournalError

INCIDENT = "IR-20260101-000000-abcd"


def _clock() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


def test_append_many_chains_in_order_with_one_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with jr.Journal.create(tmp_path, INCIDENT, {"x": 1}, clock=_clock) as journal:
        syncs: list[int] = []
        real = os.fsync

        def fsync(fd: int) -> None:
            syncs.append(fd)
            real(fd)

        monkeypatch.setattr(os, "fsync", fsync)
        out = journal.append_many(
            [
                ("note", {"text": "one"}),
                ("note", {"seq": 5}),  # sets an envelope field: refused, alone
                ("note", {"text": "two"}),
            ]
        )
        file_syncs = [fd for fd in syncs if fd == journal._fd]
    assert isinstance(out[1], JournalError)
    assert [r.payload["text"] for r in out if isinstance(r, jr.Record)] == ["one", "two"]
    assert len(file_syncs) == 1
    records = jr.Journal.read(jr.incident_path(tmp_path, INCIDENT))
    assert [r.payload.get("text") for r in records[1:]] == ["one", "two"]
    assert jr.verify(jr.incident_path(tmp_path, INCIDENT)).ok


def test_executor_commits_concurrent_records_together(tmp_path: Path) -> None:
    with jr.Journal.create(tmp_path, INCIDENT, {"x": 1}, clock=_clock) as journal:
        groups: list[int] = []
        original = journal.append_many

        def counted(items: Any) -> Any:
            groups.append(len(items))
            return original(items)

        journal.append_many = counted  # type: ignore[method-assign]
        executor = Executor({}, journal, _clock)

        async def many() -> None:
            await asyncio.gather(*(executor._write("note", {"text": str(n)}) for n in range(50)))

        asyncio.run(many())
    records = jr.Journal.read(jr.incident_path(tmp_path, INCIDENT))
    assert [r.payload["text"] for r in records[1:]] == [str(n) for n in range(50)]
    assert sum(groups) == 50 and len(groups) < 50
