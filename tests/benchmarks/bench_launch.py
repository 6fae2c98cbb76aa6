"""The console's first paint from process launch: ``agent-ir console`` is started in a
pseudo-terminal (as a responder starts it) and timed from just before the process is
spawned until its start-up screen's progress line reaches the terminal; then ``q`` quits
it. The baseline is a bare Textual app painting one line, launched the same way, so the
figure reads against Textual's own floor (interpreter start and Textual's imports).

By default the console is given a configuration that does not parse, so the opening
fails at once in its thread and no lab starts (the first paint does not wait for the
opening either way); ``--lab`` starts the console's own lab instead, and each run then
also waits for that lab to start and stop after ``q``.

Run: .venv/bin/python tests/benchmarks/bench_launch.py [--runs 7] [--lab]
(``PYTHONPATH=DIR`` times the code in DIR, e.g. an older checkout; run it from outside
the checkout then, since ``python -m`` puts the current directory first on the path).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

BOUND_S = 0.3
"""The first paint's bound (issue 15)."""
HANG_GUARD_S = 60.0
SIZE = (24, 100)

BARE = """
from textual.app import App
from textual.widgets import Static
class Bare(App[None]):
    BINDINGS = [("q", "quit", "Quit")]
    def compose(self):
        yield Static("baseline-painted")
Bare().run()
"""


def launch(argv: list[str], markers: tuple[bytes, ...]) -> float:
    """Seconds from spawning ``argv`` in a pseudo-terminal until one of ``markers`` is
    written to it; the process is then sent ``q`` and waited for."""
    primary, secondary = pty.openpty()
    os.set_blocking(primary, False)
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", *SIZE, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(SIZE[1]), "LINES": str(SIZE[0])}
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=secondary, stdout=secondary, stderr=secondary, env=env, close_fds=True
    )
    os.close(secondary)
    seen = b""
    painted: float | None = None
    try:
        while painted is None and time.perf_counter() - start < HANG_GUARD_S:
            ready, _, _ = select.select([primary], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            seen += chunk
            if any(marker in seen for marker in markers):
                painted = time.perf_counter() - start
        if painted is None:
            raise RuntimeError(f"never painted: {seen[-400:]!r}")
        os.write(primary, b"q")
        _drain(primary, proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(primary)
    return painted


def _drain(primary: int, proc: subprocess.Popen[bytes]) -> None:
    """Read the terminal until the process ends (a full pty would block its exit)."""
    deadline = time.perf_counter() + HANG_GUARD_S
    while proc.poll() is None and time.perf_counter() < deadline:
        ready, _, _ = select.select([primary], [], [], 0.2)
        if ready:
            try:
                os.read(primary, 65536)
            except OSError:
                break
    proc.wait(timeout=HANG_GUARD_S)


def series(argv: list[str], markers: tuple[bytes, ...], runs: int) -> list[float]:
    """``runs`` launches' first-paint times (one unmeasured launch first warms the disk
    cache)."""
    launch(argv, markers)
    return [launch(argv, markers) for _ in range(runs)]


def report(name: str, times: list[float]) -> None:
    median = statistics.median(times)
    each = " ".join(f"{t * 1000:.0f}" for t in times)
    print(
        f"{name:<22} median {median * 1000:6.0f} ms  min {min(times) * 1000:5.0f}  "
        f"max {max(times) * 1000:5.0f}  ({median / BOUND_S:.2f}x the 0.3 s bound)  [{each}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--lab", action="store_true", help="start the console's own lab")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bad = Path(tmp) / "config.yaml"
        bad.write_text("providers: [not, a, mapping\n")
        console = [sys.executable, "-m", "agent_ir"]
        if args.lab:
            console += ["--lab", "console"]
            markers: tuple[bytes, ...] = (b"starting lab", b"lab did not start")
        else:
            console += ["--config", str(bad), "console"]
            # the first frame says it reads the configuration, or (when the opening
            # failed before the first frame was drawn) that the console could not open
            markers = (b"reading the configuration", b"could not open")
        report(
            "bare Textual app",
            series([sys.executable, "-c", BARE], (b"baseline-painted",), args.runs),
        )
        report("agent-ir console", series(console, markers, args.runs))


if __name__ == "__main__":
    main()
