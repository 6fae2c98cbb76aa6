"""Inventory of generated worlds at injected latency, against the page-fetch lower bound.

For each world size the same lab is measured twice in this run: with no injected latency
(the baseline: emulator cost alone) and with ``--latency-ms`` per request. The lower bound
is what perfect concurrency could do: ceil(requests / concurrency) round trips, plus the
chain of calls that must happen one after another before the fan-out can start. The
emulator's share is the lab process's CPU time during the no-latency run over its wall time.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from labproc import AGENT_IR, LAB_PIDS, cpu_seconds, faults, lab_process, timed

# sign in, assume into other accounts, one authorization-details page, policy + version
SEQUENTIAL_CHAIN = 5
CONCURRENCY = 16  # AwsSettings.max_concurrency default


def measure(agents: int, latency_ms: float, work: Path, provider: str = "aws") -> None:
    world = work / f"world-{provider}-{agents}.yaml"
    with open(world, "w") as handle:
        from subprocess import run

        run(
            [AGENT_IR, "lab", "generate", "--agents", str(agents), "--accounts", "2"]
            + ["--providers", provider],
            stdout=handle,
            check=True,
        )
    with lab_process(world, work) as config:
        env = {**os.environ, "XDG_STATE_HOME": str(work / "state")}
        cmd = [AGENT_IR, "--config", str(config), "inventory", "--output", "json"]
        before = faults(config, provider)["requests"]
        lab_cpu = cpu_seconds(LAB_PIDS[config])
        base = timed(cmd, env)
        lab_cpu = cpu_seconds(LAB_PIDS[config]) - lab_cpu
        requests = faults(config, provider)["requests"] - before
        faults(config, provider, latency_ms=latency_ms)
        slow = timed(cmd, env)
    bound = latency_ms / 1000 * (SEQUENTIAL_CHAIN + math.ceil(requests / CONCURRENCY))
    added = slow.seconds - base.seconds
    print(
        f"{provider:>5} {agents:>6} agents  {requests:>6} requests  "
        f"no latency {base.seconds:6.2f}s  at {latency_ms:g} ms {slow.seconds:6.2f}s  "
        f"lower bound {bound:6.2f}s  wall/bound {slow.seconds / bound:5.2f}  "
        f"latency cost/bound {added / bound:5.2f}  peak RSS {slow.max_rss_mib:6.0f} MiB  "
        f"emulator CPU {lab_cpu:5.2f}s = {lab_cpu / base.seconds:4.0%} of no-latency wall"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument(
        "--providers",
        nargs="+",
        default=["aws"],
        choices=["aws", "entra", "gcp", "okta"],
        help="one world (and one figure) per provider",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for provider in args.providers:
            for n in args.agents:
                measure(n, args.latency_ms, Path(tmp), provider)


if __name__ == "__main__":
    main()
