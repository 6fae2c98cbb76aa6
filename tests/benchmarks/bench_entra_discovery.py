"""Entra discovery of generated tenants at injected latency, against two lower bounds.

For each size, a lab serving only a generated ``entra`` section runs in its own process;
the adapter discovers it in this process twice: with no injected latency (the baseline:
emulator and client cost alone) and with ``--latency-ms`` per request.

* **page-fetch bound**: Graph pages one collection after another (``@odata.nextLink``), so
  the first phase costs as many round trips as the longest collection has pages; the
  per-identity reads of the second phase (federated credentials, sponsors, who holds each
  API's roles, users) can run ``max_concurrency`` at a time; sign-in adds two round trips.
* **rate-limit bound**: Graph lets one app spend its read budget (3,500 RU per 10 s in a
  tenant under 50 users) at once, then refills it at a tenth of that per second, so
  discovery needs at least ``(RU used - budget) / (budget / 10)`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[2]))
from labproc import faults, lab_process

from agent_ir.lab.entra_generate import generate_entra_yaml
from agent_ir.providers.base import ProviderContext
from agent_ir.providers.entra.adapter import EntraProvider
from agent_ir.settings import load_settings

BUDGET_RU_PER_10S = 3500


async def discover(config: Path) -> tuple[float, EntraProvider, int]:
    settings = load_settings(config).providers.entra
    assert settings is not None
    adapter = EntraProvider.from_settings(settings, ProviderContext())
    try:
        start = time.perf_counter()
        found = await adapter.discover()
        return time.perf_counter() - start, adapter, len(found.identities)
    finally:
        await adapter.aclose()


def page_bound(adapter: EntraProvider, latency_s: float, identities: int) -> float:
    snap = adapter.snapshot
    firsts = [
        len(snap.service_principals) / 999,
        len(snap.agents) / 100,
        len(snap.applications) / 999,
        len(snap.grants) / 999,
        len(snap.role_assignments) / 999,
    ]
    phase1 = max(math.ceil(p) for p in firsts) + 1  # + the sign-in report and organization
    resources = [s for s in snap.service_principals.values() if s.get("appRoles")]
    held = {}
    for a in snap.assignments.values():
        held[a["resourceId"]] = held.get(a["resourceId"], 0) + 1
    phase2_calls = sum(max(1, math.ceil(held.get(r["id"], 0) / 100)) for r in resources)
    phase2_calls += len(snap.fics) + len(snap.sponsors) + math.ceil(len(snap.users) / 1000)
    phase2 = math.ceil(phase2_calls / adapter.settings.max_concurrency)
    return latency_s * (2 + phase1 + phase2)


def measure(identities: int, latency_ms: float, work: Path) -> None:
    world = work / f"entra-{identities}.yaml"
    world.write_text(generate_entra_yaml(identities))
    with lab_process(world, work) as config:
        base_s, base, count = asyncio.run(discover(config))
        requests, units, base_throttled = (
            base.graph.requests,
            base.graph.resource_units,
            base.graph.throttled,
        )
        faults(config, "entra", latency_ms=latency_ms)
        slow_s, slow, _ = asyncio.run(discover(config))
    bound = page_bound(slow, latency_ms / 1000, identities)
    rate = max(0.0, (slow.graph.resource_units - BUDGET_RU_PER_10S) / (BUDGET_RU_PER_10S / 10))
    floor = max(bound, rate)
    print(
        f"{count:>6} identities  {requests:>5} requests  {units:>6} RU  "
        f"no latency {base_s:6.2f}s ({base_throttled} throttled)  at {latency_ms:g} ms {slow_s:6.2f}s "
        f"({slow.graph.throttled} throttled)  page bound {bound:6.2f}s  "
        f"rate-limit bound {rate:6.2f}s  wall/max(bounds) {slow_s / floor:5.2f}"
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
