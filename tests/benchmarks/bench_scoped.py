"""Agent-scoped planning against whole-estate planning, and a revoke end to end against
its critical path (the step execution), on one generated world, in one run.

* plan: ``plan_for`` of one agent reading only its closure, against reading the estate
  first (``whole_estate=True``); wall time and requests, each on a fresh engine.
* revoke: the whole ``agent-ir revoke`` command (process start, discovery, plan, journal,
  apply, verify) against the in-process step execution of the same plan.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from labproc import AGENT_IR, faults, lab_process

from agent_ir.data import playbook_dir
from agent_ir.engine.incident import Who, execute, plan_for
from agent_ir.engine.inventory import Engine
from agent_ir.lab.generator import generate_yaml
from agent_ir.playbook.loader import load_playbook
from agent_ir.settings import load_settings

PLAYBOOK = playbook_dir() / "contain-agent.yaml"
PROVIDERS = ("aws", "entra", "gcp", "okta")


def _reset(config: Path) -> None:
    """Re-seed every emulator of the running lab."""
    settings = yaml.safe_load(config.read_text())
    ca = config.parent / "ca.pem"
    for url in settings.get("lab_control", {}).values():
        httpx.post(url + "/reset", verify=str(ca), timeout=120).raise_for_status()


async def _plans(config: Path, journal: Path, agent: str | None) -> tuple[str, dict[str, float]]:
    settings = load_settings(config).model_copy(update={"journal_dir": journal})
    playbook = load_playbook(PLAYBOOK)
    figures: dict[str, float] = {}
    full = Engine(settings)
    try:
        start = time.perf_counter()
        inv = await full.inventory()
        if agent is None:
            # The agent spanning the most providers, then reaching the most identities.
            best = max(
                inv.agents,
                key=lambda a: (
                    len(a.providers),
                    len(inv.graph.reach(i.id for i in a.identities)),
                    a.name,
                ),
            )
            agent = best.name
        await plan_for(full, agent, playbook, {}, whole_estate=True)
        figures["full_s"] = time.perf_counter() - start
        figures["full_requests"] = sum(d.requests for d in inv.discoveries.values())
        figures["agents"] = len(inv.agents)
        figures["identities"] = len(inv.identities)
    finally:
        await full.aclose()
    scoped = Engine(settings)
    try:
        start = time.perf_counter()
        sinv = await scoped.agent_inventory(agent)
        plan = await plan_for(scoped, agent, playbook, {})
        figures["scoped_s"] = time.perf_counter() - start
        figures["scoped_requests"] = sum(d.requests for d in sinv.discoveries.values())
        figures["steps"] = len(plan.steps)
        # The revoke in process: scoped plan, then the steps alone.
        started = time.perf_counter()
        plan = await plan_for(scoped, agent, playbook, {})
        planned = time.perf_counter()
        outcome = await execute(scoped, plan, Who("bench", "benchmark"))
        done = time.perf_counter()
        figures["inproc_revoke_s"] = done - started
        figures["inproc_steps_s"] = done - planned
        figures["exit"] = int(outcome.exit_code)
    finally:
        await scoped.aclose()
    return agent, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--providers", default=",".join(PROVIDERS))
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--agent", default=None, help="default: the widest agent")
    args = parser.parse_args()
    providers = tuple(p for p in args.providers.split(",") if p)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        world = work / "world.yaml"
        world.write_text(generate_yaml(args.agents, 2, 7, providers))
        with lab_process(world, work) as config:
            if args.latency_ms:
                for provider in providers:
                    faults(config, provider, latency_ms=args.latency_ms)
            agent, f = asyncio.run(_plans(config, work / "journal", args.agent))
            _reset(config)
            env = {**os.environ, "XDG_STATE_HOME": str(work / "state")}
            start = time.perf_counter()
            command = [AGENT_IR, "--config", str(config), "revoke", agent]
            subprocess.run(
                [*command, "--reason", "benchmark", "--yes"],
                env=env,
                check=False,
                capture_output=True,
            )
            cli_s = time.perf_counter() - start
    print(
        f"world: {args.agents} agents requested in {', '.join(providers)} "
        f"({f['agents']:.0f} agents, {f['identities']:.0f} identities); agent {agent}; "
        f"latency {args.latency_ms:g} ms"
    )
    print(
        f"plan, whole estate: {f['full_s']:.2f}s, {f['full_requests']:.0f} requests   "
        f"scoped: {f['scoped_s']:.2f}s, {f['scoped_requests']:.0f} requests   "
        f"ratio full/scoped: {f['full_s'] / f['scoped_s']:.1f}x time, "
        f"{f['full_requests'] / max(1, f['scoped_requests']):.1f}x requests"
    )
    print(
        f"revoke in process ({f['steps']:.0f} steps, exit {f['exit']:.0f}): "
        f"{f['inproc_revoke_s']:.2f}s, of which steps {f['inproc_steps_s']:.2f}s   "
        f"ratio {f['inproc_revoke_s'] / f['inproc_steps_s']:.2f}"
    )
    print(
        f"revoke command end to end: {cli_s:.2f}s   "
        f"ratio to the steps: {cli_s / f['inproc_steps_s']:.2f}"
    )


if __name__ == "__main__":
    main()
