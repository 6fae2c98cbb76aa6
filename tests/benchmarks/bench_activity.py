"""The activity timeline of one agent with 10,000 events at 20 ms a request: wall time
against the page-fetch bound (pages fetched x latency, as if fetched one after another),
and the peak memory of the read.

The events are spread over the four providers' audit logs: CloudTrail (the agent's own
user, and its chain of roles into the second account), Entra sign-ins, Cloud Audit Logs
(through the impersonated finance-reader) and the Okta System Log. The providers are read
concurrently and each one's pages one after another, so the bound is the slowest
provider's pages x the latency. Run: ``.venv/bin/python tests/benchmarks/bench_activity.py``.
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


PROVIDERS = ("aws", "entra", "gcp", "okta")


def world_text(events: int, latency_ms: float) -> str:
    """The default world with its activity replaced by ``events`` calls over the four
    providers, and ``latency_ms`` on every provider."""
    data = yaml.safe_load(default_world().read_text())
    share = events // 4
    half = share // 2
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
            "count": share - half,
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
        {
            "provider": "entra",
            "identity": "invoice-agent",
            "actions": ["signIn"],
            "resources": ["Microsoft Graph"],
            "count": share,
            "past_days": 1,
        },
        {
            "provider": "gcp",
            "identity": "invoice-agent@corp-prod.iam.gserviceaccount.com",
            "via": ["finance-reader@corp-prod.iam.gserviceaccount.com"],
            "actions": ["storage.objects.get"],
            "resources": ["projects/_/buckets/finance-ledgers/objects/2026/ledger-02.csv"],
            "count": share,
            "past_days": 1,
        },
        {
            "provider": "okta",
            "identity": "invoice-agent",
            "actions": ["app.oauth2.as.token.grant.access_token"],
            "resources": ["Okta API"],
            "count": events - 3 * share,
            "past_days": 1,
        },
    ]
    data["faults"] = {p: {"latency_ms": latency_ms} for p in PROVIDERS}
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
        timeline = await build_timeline(engine, "invoice-agent", window)
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
    print(f"events read          {len(timeline.events)} (seeded {args.events} + role chains)")
    slowest = 0.0
    for status in timeline.statuses:
        pages = status.requests * args.latency_ms / 1000
        slowest = max(slowest, pages)
        print(
            f"  {status.provider:<6} {status.state:<11} {status.events:>6} events "
            f"{status.requests:>5} requests  {pages:.2f} s of pages {status.reason}".rstrip()
        )
    total = sum(s.requests for s in timeline.statuses)
    print(
        f"page-fetch bound     {slowest:.2f} s  (the slowest provider's pages x {args.latency_ms:g} ms;"
    )
    print(
        f"                     all {total} requests one after another: {total * args.latency_ms / 1000:.2f} s)"
    )
    print(f"wall time            {wall:.2f} s  ({wall / max(slowest, 1e-9):.2f} x the bound)")
    print(f"per event            {wall / max(1, len(timeline.events)) * 1e6:.0f} us")
    print(f"peak traced memory   {peak / 1e6:.1f} MB (the read, lab page serialisation included;")
    print(f"                     that run took {traced_wall:.2f} s under tracemalloc)")
    print("note                 the lab runs in this process: its serving shares the GIL")


if __name__ == "__main__":
    main()
