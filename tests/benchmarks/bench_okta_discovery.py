"""Okta discovery of generated orgs at injected latency, against two lower bounds.

Each run starts an Okta-only lab in this process on a generated ``okta`` section (see
``agent_ir.lab.okta_generator``) and runs the adapter's discovery, wanting the details of
every identity, once without latency (the baseline: emulator and CPU cost) and once with
``--latency-ms`` per request.

* page-fetch bound: what perfect concurrency could do: ceil(requests / concurrency) round
  trips, plus the calls that must come one after another (token, org, the longest chain of
  list pages, then an app's details and its consents);
* rate-limit bound: Okta's ``X-Rate-Limit-Limit`` is per endpoint family per minute, so
  the busiest bucket's requests need at least (requests - limit) / limit minutes.

The first table lifts the emulator's limit out of the way; the second enforces a limit
(with windows shortened by ``--window-s``, the same requests per second as per minute)
and shows discovery waiting for each reset rather than hammering (429 counts).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2]))

from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.okta import OktaEmulator
from agent_ir.lab.okta_generator import generate_okta
from agent_ir.lab.runner import Lab
from agent_ir.lab.world import load_world_text
from agent_ir.providers.base import ProviderContext
from agent_ir.providers.okta.adapter import OktaProvider


@dataclass
class Run:
    """One discovery."""

    seconds: float
    requests: int
    identities: int
    throttled: int
    early: int
    buckets: dict[str, int]
    limit: int


async def discover(lab: Lab) -> Run:
    emulator = lab.emulators["okta"]
    assert isinstance(emulator, OktaEmulator)
    settings = lab.settings.providers.okta
    assert settings is not None
    before = emulator.limiter.report()
    adapter = OktaProvider(settings, ProviderContext())
    start = time.perf_counter()
    try:
        found = await adapter.discover()
    finally:
        await adapter.aclose()
    seconds = time.perf_counter() - start
    after = emulator.limiter.report()
    buckets = {
        name: data["requests"] - before["buckets"].get(name, {}).get("requests", 0)
        for name, data in after["buckets"].items()
    }
    return Run(
        seconds,
        found.requests,
        len(found.identities),
        after["throttled"] - before["throttled"],
        after["early_retries"] - before["early_retries"],
        buckets,
        adapter.client.gate.limit_per_window() or after["limit"],
    )


def page_bound(run: Run, apps: int, tokens: int, agents: int, latency_s: float) -> float:
    pages = max(math.ceil(n / 200) for n in (apps + 1, tokens or 1, agents or 1))
    chain = 2 + pages + 2
    return latency_s * (chain + math.ceil(run.requests / 8))


def rate_bound(run: Run, limit: int, window_s: float) -> float:
    busiest = max(run.buckets.values())
    return max(0, busiest - limit) / limit * window_s


def world(apps: int, tokens: int, agents: int, users: int, limit: int, window_s: int) -> str:
    section = generate_okta(apps, tokens, agents, users, rate_limit=limit)
    section = section.replace("window_s: 60", f"window_s: {window_s}")
    return f"version: 1\nname: okta-bench\n{section}"


def lifted(apps: int, tokens: int, agents: int, users: int, latency_ms: float) -> None:
    text = world(apps, tokens, agents, users, limit=1_000_000, window_s=60)
    with tempfile.TemporaryDirectory() as tmp, Lab(load_world_text(text), Path(tmp)) as lab:
        base = asyncio.run(discover(lab))
        lab.faults["okta"].update(FaultSpec(latency_ms=latency_ms))
        slow = asyncio.run(discover(lab))
    okta_limit = 1200
    bound = page_bound(slow, apps, tokens, agents, latency_ms / 1000)
    print(
        f"{slow.identities:>6} identities {slow.requests:>6} requests  "
        f"no latency {base.seconds:6.2f}s  at {latency_ms:g} ms {slow.seconds:6.2f}s  "
        f"page-fetch bound {bound:6.2f}s  wall/bound {slow.seconds / bound:5.2f}  "
        f"rate-limit bound at {okta_limit}/min {rate_bound(slow, okta_limit, 60):7.1f}s "
        f"(busiest bucket {max(slow.buckets, key=slow.buckets.__getitem__)}: "
        f"{max(slow.buckets.values())} requests)"
    )


def limited(apps: int, limit: int, window_s: int, latency_ms: float) -> None:
    text = world(apps, apps // 5, apps // 10, max(50, apps // 2), limit=limit, window_s=window_s)
    with tempfile.TemporaryDirectory() as tmp, Lab(load_world_text(text), Path(tmp)) as lab:
        lab.faults["okta"].update(FaultSpec(latency_ms=latency_ms))
        run = asyncio.run(discover(lab))
    pages = page_bound(run, apps, apps // 5, apps // 10, latency_ms / 1000)
    rate = rate_bound(run, limit, window_s)
    print(
        f"{run.identities:>6} identities {run.requests:>6} requests  limit {limit} per "
        f"{window_s}s ({limit * 60 // window_s}/min)  wall {run.seconds:6.2f}s  "
        f"rate-limit bound {rate:6.2f}s  page-fetch bound {pages:5.2f}s  "
        f"wall/max(bounds) {run.seconds / max(rate, pages):5.2f}  "
        f"429s {run.throttled}  early retries {run.early}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apps", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--limited-apps", type=int, default=200)
    parser.add_argument("--limit", type=int, default=100, help="requests per window")
    parser.add_argument("--window-s", type=int, default=5)
    args = parser.parse_args()
    import okta.client  # noqa: F401  (imported once here, so no run pays the 1-2 s import)

    print("limits lifted:")
    for apps in args.apps:
        lifted(apps, apps // 4, apps // 10, apps // 2, args.latency_ms)
    print("limits enforced:")
    limited(args.limited_apps, args.limit, args.window_s, args.latency_ms)


if __name__ == "__main__":
    main()
