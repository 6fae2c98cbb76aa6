"""Run ``agent-ir`` in this process, the way a user would run the command, but fast.

Each call gets fresh stdout/stderr buffers, runs ``main()`` under the hang guard, and
checks what every command must hold whatever the input: no traceback and no raw control
character on either stream. Use a subprocess only where the process itself matters.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent_ir.cli.main import main
from agent_ir.textsafe import has_raw_controls
from tests.hangguard import bounded


@dataclass
class Outcome:
    """One finished command."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class _Capture(io.StringIO):
    def isatty(self) -> bool:
        return False


def run(args: Sequence[str], *, stdin: str = "", guard_s: float = 120.0) -> Outcome:
    """Run ``agent-ir ARGS`` in-process; assert no traceback and no raw control characters."""
    out, err = _Capture(), _Capture()
    saved = sys.stdout, sys.stderr, sys.stdin
    sys.stdout, sys.stderr, sys.stdin = out, err, io.StringIO(stdin)
    try:
        code = bounded(lambda: main(list(args)), guard_s=guard_s)
    except SystemExit as exc:  # argparse on --help / --version
        code = int(exc.code or 0)
    finally:
        sys.stdout, sys.stderr, sys.stdin = saved
    result = Outcome(int(code), out.getvalue(), err.getvalue())
    assert "Traceback" not in result.err, result.err
    assert not has_raw_controls(result.out), result.out[:2000]
    assert not has_raw_controls(result.err), result.err[:2000]
    return result
