"""The bad-input corpus (cases in ``corpus.py``): each gets the README's exit code, a located
message where promised, no traceback, no raw control character and no hang."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.hostile.corpus import Case, all_cases
from tests.inproc import run

CASES = all_cases()


def test_the_corpus_holds_at_least_500_distinct_cases() -> None:
    ids = [case.id for case in CASES]
    assert len(set(ids)) == len(ids), [i for i, n in Counter(ids).items() if n > 1]
    assert len(CASES) >= 500, Counter(case.id.split("/")[0] for case in CASES)


def _prepare(case: Case, directory: Path) -> Path | None:
    first: Path | None = None
    for name, content in case.files:
        path = directory / name
        path.write_bytes(content.replace(b"{d}", str(directory).encode()))
        first = first or path
    if case.special == "fifo" and first is not None:
        first.unlink()
        os.mkfifo(first)
    elif case.special == "dir" and first is not None:
        first.unlink()
        first.mkdir()
    if case.setup is not None:
        case.setup(directory)
    return first


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, state_dir: Path) -> None:
    directory = tmp_path / "case"
    directory.mkdir()
    first = _prepare(case, directory)
    argv = [a.replace("{f}", str(first)).replace("{d}", str(directory)) for a in case.argv]
    result = run(argv)
    assert result.code == case.code, f"exit {result.code}\n{result.out}\n{result.err}"
    assert result.err.strip(), "a refusal must say why on stderr"
    if case.located == "line":
        wanted = re.escape(str(first)) + (rf":{case.line}\b" if case.line else r":\d+")
        assert re.search(wanted, result.err), result.err
    elif case.located == "file":
        assert str(first) in result.err, result.err
    if case.fragment:
        assert case.fragment in result.out + result.err, result.err
