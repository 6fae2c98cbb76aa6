"""Journals and provider JSON are parsed within bounds: a hostile line is damage, not a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_ir import boundedjson
from agent_ir.engine import journal as jr
from tests.inproc import run


def test_depth_is_measured_outside_strings() -> None:
    assert boundedjson.nesting_depth(b'{"a": [1, {"b": "[[[[{{{"}]}') == 3
    assert boundedjson.nesting_depth(b'"\\"[[["') == 0
    assert boundedjson.loads('{"a": [1]}') == {"a": [1]}
    with pytest.raises(ValueError, match="nested"):
        boundedjson.loads(b"[" * 200_000)
    with pytest.raises(ValueError, match="bytes"):
        boundedjson.loads(b" " * 100, max_bytes=10)


def _journal(directory: Path, incident: str) -> Path:
    journal = jr.Journal.create(directory, incident, {"agent": "a", "playbook": "p"})
    journal.append("note", {"text": "hello"})
    journal.close()
    return journal.path


def test_a_deeply_nested_line_fails_only_its_journal(tmp_path: Path) -> None:
    good = _journal(tmp_path, "IR-20250101-120000-aaaa")
    bad = _journal(tmp_path, "IR-20250101-120000-beef")
    with bad.open("ab") as handle:
        handle.write(b"[" * 200_000 + b"\n")
    reports = {r.incident: r for r in jr.verify_all(tmp_path)}
    assert reports[good.stem].ok
    assert not reports[bad.stem].ok
    config = tmp_path / "config.yaml"
    config.write_text(f"name: t\njournal_dir: {tmp_path}\n")
    result = run(["--config", str(config), "journal", "verify"])
    assert result.code == 9, result.err
    assert good.stem in result.out and bad.stem in result.out
