"""P3: mass containment under the lab's enforced rate limits.

``agent-ir revoke --select 'name=*'`` over a generated world (AWS, GCP, Okta; Entra with
``--providers``), GCP's project quota and Okta's per-family bucket set low enough to bind.
Prints the wall time of the revoke against the rate-limit bound (each provider's successful
writes from the lab's request log divided by its write limit; the slowest provider), their
ratio, and the lost / repeated write counts from the same log.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "engine"))
from labproc import AGENT_IR, lab_process
from test_mass import _requests, repeated, writes

from agent_ir.lab.generator import generate_world_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--providers", default="aws,gcp,okta")
    parser.add_argument("--gcp-writes-per-minute", type=int, default=600)
    parser.add_argument("--okta-per-minute", type=int, default=600)
    args = parser.parse_args()
    providers = tuple(p for p in args.providers.split(",") if p)
    data = generate_world_data(args.agents, 2, 7, providers)
    limits: dict[str, float] = {}
    if "gcp" in data:
        data["gcp"]["quota"] = {"writes_per_minute": args.gcp_writes_per_minute}
        limits["gcp"] = args.gcp_writes_per_minute / 60
    if "okta" in data:
        data["okta"]["rate_limit"] = {"limit": args.okta_per_minute, "window_s": 60}
        limits["okta"] = args.okta_per_minute / 60
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        world = work / "world.yaml"
        world.write_text(yaml.safe_dump(data, sort_keys=False))
        with lab_process(world, work) as config:
            env = {**os.environ, "XDG_STATE_HOME": str(work / "state")}
            start = time.perf_counter()
            run = subprocess.run(
                [
                    AGENT_IR,
                    "--config",
                    str(config),
                    "revoke",
                    "--select",
                    "name=*",
                    "--max-agents",
                    str(10 * args.agents),
                    "--reason",
                    "P3",
                    "--yes",
                    "--output",
                    "json",
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            wall = time.perf_counter() - start
            outcome = json.loads(run.stdout) if run.stdout.strip() else {}
            verify = subprocess.run(
                [
                    AGENT_IR,
                    "--config",
                    str(config),
                    "journal",
                    "verify",
                    outcome.get("incident", "-"),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            found = writes(_requests(config))
    per = Counter(w[0] for w in found)
    bounds = {p: per[p] / rate for p, rate in limits.items() if per[p]}
    bound = max(bounds.values(), default=0.0)
    statuses = Counter(s["status"] for s in outcome.get("steps", []))
    lost = sum(n for s, n in statuses.items() if s not in ("verified", "already"))
    print(
        f"agents selected: {len(outcome.get('agents', []))}  exit {run.returncode}  "
        f"journal verify exit {verify.returncode}"
    )
    print(f"steps: {dict(statuses)}")
    print(f"writes per provider (lab log): {dict(per)}")
    print(
        "rate-limit bound per provider: "
        + ", ".join(f"{p} {b:.1f}s" for p, b in sorted(bounds.items()))
    )
    print(f"wall {wall:.1f}s  bound {bound:.1f}s  bound/wall {bound / wall:.2f}")
    print(f"lost (steps not verified/already): {lost}  repeated writes: {repeated(found)}")


if __name__ == "__main__":
    main()
