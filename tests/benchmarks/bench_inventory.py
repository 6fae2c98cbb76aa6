"""Inventory of generated worlds at injected latency, against the page-fetch lower bound.

For each world size the same lab is measured twice in this run: with no injected latency
(the baseline: emulator cost alone) and with ``--latency-ms`` per request. The lower bound
is what perfect concurrency could do: ceil(requests / concurrency) round trips, plus the
chain of calls that must happen one after another before the fan-out can start. The
emulator's share is the lab process's CPU time during the no-latency run over its wall time.

``--providers`` measures one generated world per provider. Rate limits and budgets the lab
emulates (Graph's resource units, Okta's per-minute buckets, IAM's read quota, on both
sides) are lifted for the run: with them, the inventory's wall time is spent waiting for
a window to reopen, and the emulator's share would say nothing about its cost.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path

import yaml

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
            [
                *(AGENT_IR, "lab", "generate", "--agents", str(agents), "--accounts", "2"),
                *("--providers", provider),
            ],
            stdout=handle,
            check=True,
        )
    _lift_world_limits(world, provider)
    with lab_process(world, work) as config:
        config = _lift_client_limits(config, provider)
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


def _lift_world_limits(world: Path, provider: str) -> None:
    """Turn off the rate limits the lab emulates for ``provider`` in the world file."""
    data = yaml.safe_load(world.read_text())
    section = data.get(provider) or {}
    if provider == "entra":
        section.setdefault("limits", {})["throttling"] = False
    elif provider == "okta":
        section["rate_limit"] = {"limit": 1_000_000}
    world.write_text(yaml.safe_dump(data, sort_keys=False))


def _lift_client_limits(config: Path, provider: str) -> Path:
    """The lab's config with the adapter's own pacing lifted (GCP paces its IAM reads)."""
    if provider != "gcp":
        return config
    data = yaml.safe_load(config.read_text())
    data["providers"]["gcp"]["reads_per_minute"] = 1_000_000
    out = config.with_name("lab-unlimited.yaml")
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    LAB_PIDS[out] = LAB_PIDS[config]
    return out


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
