"""GCP discovery of generated worlds at injected latency, against two lower bounds.

For each size the same lab (``agent-ir lab serve`` in its own process) is measured four
times in this run, with and without ``--latency-ms`` per request, each under the adapter's
default client-side rate limit and with that limit lifted. The runs without latency are
the baselines (emulator, process and CPU cost alone).

* page-fetch bound: what perfect concurrency could do, ceil(requests / concurrency) round
  trips plus the calls that must happen one after another (token, then the longest chain
  of service-account list pages, then the per-account fan-out);
* rate-limit bound: IAM v1 allows 6,000 reads a minute per project, so ``requests`` reads
  need at least (requests - burst) / 100 seconds whatever the latency.
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
sys.path.insert(0, str(Path(__file__).parents[2]))
from labproc import AGENT_IR, faults, lab_process, timed

from agent_ir.lab.gcp_generate import PER_PROJECT, generate_gcp_world_yaml
from agent_ir.providers.gcp.config import GcpSettings

DEFAULTS = GcpSettings(projects=["x"])
READS_PER_S = DEFAULTS.reads_per_minute / 60
BURST = DEFAULTS.max_concurrency * 2  # the adapter's read bucket


def _unlimited(config: Path) -> Path:
    data = yaml.safe_load(config.read_text())
    data["providers"]["gcp"]["reads_per_minute"] = 1_000_000
    out = config.with_name("lab-unlimited.yaml")
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def measure(identities: int, latency_ms: float, work: Path) -> None:
    world = work / f"gcp-{identities}.yaml"
    world.write_text(generate_gcp_world_yaml(identities))
    per_project = min(identities, PER_PROJECT)
    chain = 1 + math.ceil(per_project / 100) + 1
    with lab_process(world, work) as config:
        env = {**os.environ, "XDG_STATE_HOME": str(work / "state")}
        cmd = [AGENT_IR, "--config", str(config), "inventory", "--output", "json"]
        lifted = [AGENT_IR, "--config", str(_unlimited(config)), "inventory", "--output", "json"]
        before = faults(config, "gcp")["requests"]
        base_free = timed(lifted, env)
        requests = faults(config, "gcp")["requests"] - before
        base = timed(cmd, env)
        faults(config, "gcp", latency_ms=latency_ms)
        slow = timed(cmd, env)
        free = timed(lifted, env)
    concurrency = DEFAULTS.max_concurrency
    page_bound = latency_ms / 1000 * (chain + math.ceil(requests / concurrency))
    rate_bound = max(0, requests - BURST) / READS_PER_S
    bound = max(page_bound, rate_bound)
    for code in (base_free.code, base.code, slow.code, free.code):
        if code != 0:
            raise SystemExit(f"inventory failed with exit code {code}")
    print(
        f"{identities:>6} service accounts  {requests:>6} requests\n"
        f"        no latency, limit lifted         {base_free.seconds:7.2f}s   (CPU and process baseline)\n"
        f"        no latency, 6000/min limit       {base.seconds:7.2f}s   "
        f"rate bound {rate_bound:.2f}s   wall/bound {base.seconds / rate_bound:5.2f}\n"
        f"        {latency_ms:g} ms, 6000/min limit          {slow.seconds:7.2f}s   "
        f"bound max(page {page_bound:.2f}s, rate {rate_bound:.2f}s) = {bound:.2f}s   "
        f"wall/bound {slow.seconds / bound:5.2f}\n"
        f"        {latency_ms:g} ms, limit lifted            {free.seconds:7.2f}s   "
        f"page bound {page_bound:.2f}s   wall/page bound {free.seconds / page_bound:5.2f}   "
        f"latency cost {free.seconds - base_free.seconds:.2f}s "
        f"(cost/page bound {(free.seconds - base_free.seconds) / page_bound:4.2f})\n"
        f"        peak RSS {slow.max_rss_mib:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--identities", type=int, nargs="+", default=[1000, 3000])
    parser.add_argument("--latency-ms", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.identities:
            measure(n, args.latency_ms, Path(tmp))


if __name__ == "__main__":
    main()
