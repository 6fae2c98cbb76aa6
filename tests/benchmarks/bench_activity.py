"""The activity timeline of one agent with 10,000 events at 20 ms a request: wall time
against the page-fetch bound (pages fetched x latency, as if fetched one after another),
and the peak memory of the read.

The events are seeded into the lab's CloudTrail (half by the agent's own user, half
through its chain of roles into the second account); only the AWS reader exists on this
branch, so all 10,000 are AWS events. CloudTrail pages hold 50 events, so the bound is
about 200 pages. Run: ``.venv/bin/python tests/benchmarks/bench_activity.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

import yaml

from agent_ir.activity.model import ActivityWindow
from agent_ir.activity.timeline import Timeline, build_timeline
from agent_ir.data import default_world
from agent_ir.engine.inventory import Engine
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world_text

USER = "arn:aws:iam::111111111111:user/invoice-agent"
CHAIN = [
    "arn:aws:iam::111111111111:role/invoice-processor",
    "arn:aws:iam::222222222222:role/finance-data-reader",
]


def world_text(events: int, latency_ms: float) -> str:
    """The default world with its activity replaced by ``events`` calls and AWS latency."""
    data = yaml.safe_load(default_world().read_text())
    half = events // 2
    data["activity"] = [
        {
            "provider": "aws",
            "identity": USER,
            "via": CHAIN,
            "session": "bench",
            "actions": ["kms:Decrypt", "glue:GetTable"],
            "resources": [
                "arn:aws:kms:us-east-1:222222222222:key/finance",
                "arn:aws:glue:us-east-1:222222222222:table/finance/ledger",
            ],
            "count": events - half,
            "past_days": 1,
            "hours": [0, 24],
        },
        {
            "provider": "aws",
            "identity": USER,
            "actions": ["s3:ListBuckets"],
            "count": half,
            "past_days": 1,
        },
    ]
    data.setdefault("faults", {})["aws"] = {"latency_ms": latency_ms}
    return yaml.safe_dump(data, sort_keys=False)


async def read(lab: Lab, limit: int, trace: bool) -> tuple[Timeline, float, int]:
    """One timeline read on a fresh engine: the timeline, its wall time, its peak bytes
    (tracemalloc slows Python down, so the wall time is taken from a run without it)."""
    engine = Engine(lab.settings)
    now = datetime.now(UTC)
    window = ActivityWindow(now - timedelta(days=2), now + timedelta(minutes=1), limit)
    await engine.agent_inventory("invoice-agent")  # discovery is not what is measured
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        timeline = await build_timeline(engine, "invoice-agent", window, ["aws"])
    finally:
        wall = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        tracemalloc.stop()
        await engine.aclose()
    return timeline, wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    world = load_world_text(world_text(args.events, args.latency_ms), "bench-activity.yaml")
    with Lab(world) as lab:
        timeline, wall, _ = asyncio.run(read(lab, args.events + 1000, trace=False))
        _, traced_wall, peak = asyncio.run(read(lab, args.events + 1000, trace=True))
    status = timeline.statuses[0]
    bound = status.requests * args.latency_ms / 1000
    print(f"events read          {len(timeline.events)} (seeded {args.events} + role chains)")
    print(f"requests (pages)     {status.requests}")
    print(f"page-fetch bound     {bound:.2f} s  ({status.requests} x {args.latency_ms:g} ms)")
    print(f"wall time            {wall:.2f} s  ({wall / bound:.2f} x the bound)")
    print(f"per event            {wall / max(1, len(timeline.events)) * 1e6:.0f} us")
    print(f"peak traced memory   {peak / 1e6:.1f} MB (the read, lab page serialisation included;")
    print(f"                     that run took {traced_wall:.2f} s under tracemalloc)")
    print("note                 the lab runs in this process: its serving shares the GIL")
    print(f"state                {status.state} {status.reason}".rstrip())


if __name__ == "__main__":
    main()
