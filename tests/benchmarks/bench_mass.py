"""P3: mass containment under the lab's enforced rate limits.

``agent-ir revoke --select 'name=*'`` over a generated world (AWS, GCP, Okta; Entra with
``--providers``), GCP's project quota and Okta's per-family bucket set low enough to bind.
Prints the wall time of the revoke against the rate-limit bound (each provider's successful
writes from the lab's request log divided by its write limit; the slowest provider), their
ratio, and the lost / repeated write counts from the same log.

Where the time goes: process start (to the first request the lab sees), the estate read and
the plan's live reads (the command's own stderr lines), execution (first intent to the last
write the lab answered) and verification (last write to the last result in the journal),
with the lab's reads and writes per provider before, during and after execution.
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
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "engine"))
from labproc import AGENT_IR, lab_process
from test_mass import _requests, repeated, writes

from agent_ir.lab.generator import generate_world_data
from agent_ir.lab.okta_http import bucket_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--providers", default="aws,gcp,okta")
    parser.add_argument("--gcp-writes-per-minute", type=int, default=600)
    parser.add_argument("--okta-per-minute", type=int, default=600)
    parser.add_argument("--outcome", type=Path, help="write the revoke's JSON outcome here")
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
            epoch = time.time()
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
            if args.outcome:
                args.outcome.write_text(run.stdout)
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
            log = _requests(config)
            found = writes(log)
            records = _journal(work / "state", outcome.get("incident", ""))
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
    unhappy = Counter(
        (s["provider"], s["status"], (s.get("error") or " ".join(s.get("notes") or []))[:80])
        for s in outcome.get("steps", [])
        if s["status"] not in ("verified", "already")
    )
    for (provider, status, why), n in unhappy.most_common(5):
        print(f"  {n} {provider} {status}: {why}")
    print(f"writes per provider (lab log): {dict(per)}")
    print(
        "rate-limit bound per provider: "
        + ", ".join(f"{p} {b:.1f}s" for p, b in sorted(bounds.items()))
    )
    print(f"wall {wall:.1f}s  bound {bound:.1f}s  bound/wall {bound / wall:.2f}")
    if "okta" in limits and log.get("okta"):
        # Okta counts reads too, per endpoint family: the run's own requests bound it as well.
        families = Counter(bucket_of(e["path"]) for e in log["okta"])
        family, count = families.most_common(1)[0]
        print(
            f"okta's busiest family {family}: {count} requests, reads included "
            f"→ {count / limits['okta']:.1f}s at its limit"
        )
    print(f"lost (steps not verified/already): {lost}  repeated writes: {repeated(found)}")
    print("breakdown:")
    for line in breakdown(epoch, wall, run.stderr, records, log):
        print("  " + line)


def _journal(state: Path, incident: str) -> list[dict[str, Any]]:
    """The incident's journal records (empty when the run made none)."""
    if not incident:
        return []
    for path in state.rglob(f"{incident}.jsonl"):
        if path.is_file():
            return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return []


def _epoch(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def breakdown(
    epoch: float,
    wall: float,
    stderr: str,
    records: list[dict[str, Any]],
    log: dict[str, list[dict[str, Any]]],
) -> list[str]:
    """Where the wall time went (seconds from the command's start)."""
    out: list[str] = []
    stamps = sorted(e["t"] for entries in log.values() for e in entries if e["t"] >= epoch)
    if stamps:
        out.append(f"process start to first request: {stamps[0] - epoch:.1f}s")
    out += [line for line in stderr.splitlines() if line.startswith(("estate read", "planned"))]
    intents = [_epoch(r["ts"]) for r in records if r["kind"] == "intent"]
    results = [_epoch(r["ts"]) for r in records if r["kind"] == "result"]
    if not intents or not results:
        return out
    first = min(intents)
    written = {(w[0], w[2], w[4]) for w in writes(log)}
    write_times = [
        e["t"]
        for p, entries in log.items()
        for e in entries
        if e["t"] >= first and (p, e["path"], e["digest"]) in written
    ]
    last_write = max(write_times, default=first)
    out.append(f"plan ready (first intent) at {first - epoch:.1f}s")
    out.append(f"execution (first intent to last write): {last_write - first:.1f}s")
    out.append(f"verification tail (last write to last result): {max(results) - last_write:.1f}s")
    out.append(f"exit after last result: {epoch + wall - max(results):.1f}s")
    for provider, entries in sorted(log.items()):
        mine = [e for e in entries if e["t"] >= epoch]
        before = sum(1 for e in mine if e["t"] < first)
        during = len(mine) - before
        throttled = sum(1 for e in mine if e["status"] == 429)
        spans = [e["t"] for e in mine if (provider, e["path"], e["digest"]) in written]
        span = (
            f", writes from {min(spans) - epoch:.1f}s to {max(spans) - epoch:.1f}s" if spans else ""
        )
        out.append(
            f"{provider}: {len(mine)} requests ({before} before the first intent, {during} "
            f"after; {throttled} answered 429{span})"
        )
        if provider == "okta":
            for when, part in (
                ("before", [e for e in mine if e["t"] < first]),
                ("after", [e for e in mine if e["t"] >= first]),
            ):
                families = Counter(bucket_of(e["path"]) for e in part)
                out.append(
                    f"  okta requests per rate-limit family {when} the first intent: {dict(families)}"
                )
    return out


if __name__ == "__main__":
    main()
