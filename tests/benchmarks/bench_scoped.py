"""Agent-scoped planning against whole-estate planning, and a revoke end to end against
its critical path (the step execution), on one generated world, in one run.

* plan: ``plan_for`` of one agent reading only its closure, against reading the estate
  first (``whole_estate=True``); wall time and requests, each on a fresh engine.
* revoke: the whole ``agent-ir revoke`` command (process start, discovery, plan, journal,
  apply, verify) against the in-process step execution of the same plan.
* first cut: when the lab received the revoke's first write (from its request log), and
  when the command ended with everything verified, against the critical-path bound: per
  provider, sign-in + finding the agent's identity + reading its credentials, then one
  write and one read-back per phase the plan has there; the longest such chain times latency.

``--skip-estate`` leaves out the whole-estate plan (at 10,000 agents it takes minutes);
``--cli-only`` measures the revoke command alone (phases counted from its JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from labproc import AGENT_IR, faults, lab_process

from agent_ir.data import playbook_dir
from agent_ir.engine.incident import Who, execute, plan_for
from agent_ir.engine.inventory import Engine
from agent_ir.lab.generator import generate_yaml
from agent_ir.playbook.loader import load_playbook
from agent_ir.playbook.model import Playbook
from agent_ir.settings import Settings, load_settings

PLAYBOOK = playbook_dir() / "contain-agent.yaml"
PROVIDERS = ("aws", "entra", "gcp", "okta")


def _reset(config: Path) -> None:
    """Re-seed every emulator of the running lab."""
    settings = yaml.safe_load(config.read_text())
    ca = config.parent / "ca.pem"
    for url in settings.get("lab_control", {}).values():
        httpx.post(url + "/reset", verify=str(ca), timeout=120).raise_for_status()


async def _plans(
    config: Path, journal: Path, agent: str | None, skip_estate: bool
) -> tuple[str, dict[str, float]]:
    settings = load_settings(config).model_copy(update={"journal_dir": journal})
    playbook = load_playbook(PLAYBOOK)
    figures: dict[str, float] = {}
    if agent is not None and skip_estate:
        figures.update(full_s=float("nan"), full_requests=float("nan"))
        figures.update(agents=float("nan"), identities=float("nan"))
    else:
        agent = await _estate(settings, playbook, agent, figures)
    scoped = Engine(settings)
    try:
        start = time.perf_counter()
        sinv = await scoped.agent_inventory(agent)
        plan = await plan_for(scoped, agent, playbook, {})
        figures["scoped_s"] = time.perf_counter() - start
        figures["scoped_requests"] = sum(d.requests for d in sinv.discoveries.values())
        figures["steps"] = len(plan.steps)
        figures["chain"] = max(_chain(p, s) for p, s in _phases(plan.to_json()).items())
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


SIGN_IN = {"aws": 2, "entra": 1, "gcp": 1, "okta": 1}
"""Dependent calls before a provider answers anything: AWS GetCallerIdentity + AssumeRole
into the agent's account; a token request elsewhere."""


def _phases(plan: dict[str, object]) -> dict[str, int]:
    """How many containment phases the plan has on each provider."""
    steps = plan["steps"]
    assert isinstance(steps, list)
    phases: dict[str, set[int]] = {}
    for step in steps:
        phases.setdefault(step["provider"], set()).add(step["phase"])
    return {p: len(s) for p, s in phases.items()}


def _chain_of_run(output: str) -> float:
    """The critical path from a revoke's JSON: phases are its distinct steps per provider."""
    try:
        steps = json.loads(output)["steps"]
    except (ValueError, KeyError):
        return float("nan")
    phases: dict[str, set[str]] = {}
    for step in steps:
        phases.setdefault(step["provider"], set()).add(str(step["id"]).split(".")[0])
    return float(max((_chain(p, len(s)) for p, s in phases.items()), default=0))


def _chain(provider: str, phases: int) -> int:
    """The shortest chain of dependent calls a revoke needs on ``provider``."""
    return SIGN_IN.get(provider, 1) + 2 + 2 * phases


def _first_write(config: Path) -> float | None:
    """When (wall clock) any emulator received its first write since the log was cleared."""
    settings = yaml.safe_load(config.read_text())
    ca = ssl.create_default_context(cafile=str(config.parent / "ca.pem"))
    first: float | None = None
    for url in settings.get("lab_control", {}).values():
        logged = httpx.get(url + "/requests", verify=ca, timeout=120).json()["requests"]
        for entry in logged:
            if entry["writes"] and (first is None or entry["at"] < first):
                first = entry["at"]
    return first


def _print_before_first(config: Path, first: float | None) -> None:
    """Requests each emulator received before the first write (the read before the cut),
    and how many of them listed one application's federated credentials."""
    settings = yaml.safe_load(config.read_text())
    ca = ssl.create_default_context(cafile=str(config.parent / "ca.pem"))
    counts = []
    for provider, url in settings.get("lab_control", {}).items():
        logged = httpx.get(url + "/requests", verify=ca, timeout=120).json()["requests"]
        before = [e for e in logged if first is None or e["at"] < first]
        fics = sum(1 for e in before if str(e["path"]).endswith("/federatedIdentityCredentials"))
        extra = f" ({fics} federated-credential listings)" if provider == "entra" else ""
        counts.append(f"{provider} {len(before)}{extra}")
    print("requests before the first write: " + ", ".join(counts))


def _print_breakdown(
    config: Path, wall_start: float, first: float | None, latency_ms: float
) -> None:
    """Per provider, when its first and last request before the cut arrived (seconds from
    the command's start) and its rounds: requests arriving within half the injected latency
    of the previous one are taken as sent together, so the rounds are its dependent calls."""
    settings = yaml.safe_load(config.read_text())
    ca = ssl.create_default_context(cafile=str(config.parent / "ca.pem"))
    gap = max(latency_ms / 2000, 0.005)
    for provider, url in settings.get("lab_control", {}).items():
        logged = httpx.get(url + "/requests", verify=ca, timeout=120).json()["requests"]
        written = sorted(e["at"] for e in logged if e["writes"])
        if written:
            print(
                f"{provider}: first write at {written[0] - wall_start:.2f}s, "
                f"last at {written[-1] - wall_start:.2f}s ({len(written)} writes)"
            )
        before = [e for e in logged if first is None or e["at"] < first]
        if not before:
            continue
        rounds: list[list[dict[str, Any]]] = []
        for entry in sorted(before, key=lambda e: e["at"]):
            if rounds and entry["at"] - rounds[-1][-1]["at"] < gap:
                rounds[-1].append(entry)
            else:
                rounds.append([entry])
        print(
            f"{provider}: {len(before)} requests from {before[0]['at'] - wall_start:.2f}s "
            f"to {before[-1]['at'] - wall_start:.2f}s in {len(rounds)} rounds"
        )
        for group in rounds:
            what = ", ".join(
                sorted({(e["action"] or f"{e['method']} {e['path']}")[:70] for e in group})
            )
            took = max(
                (e.get("answered", 0) - e["at"] - latency_ms / 1000 for e in group), default=0
            )
            lab = f"lab {took:5.2f}s" if took > 0 else "lab   -  "
            print(f"    {group[0]['at'] - wall_start:6.2f}s  x{len(group):<3} {lab}  {what[:150]}")
    if first is not None:
        print(f"first write at {first - wall_start:.2f}s")


def _clear_logs(config: Path) -> None:
    settings = yaml.safe_load(config.read_text())
    ca = ssl.create_default_context(cafile=str(config.parent / "ca.pem"))
    for url in settings.get("lab_control", {}).values():
        httpx.delete(url + "/requests", verify=ca, timeout=120).raise_for_status()


async def _estate(
    settings: Settings, playbook: Playbook, agent: str | None, figures: dict[str, float]
) -> str:
    """Plan after a whole-estate inventory; choose the agent when none is given."""
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
    return agent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--providers", default=",".join(PROVIDERS))
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument(
        "--py-spy", type=Path, metavar="FILE", help="profile the revoke (collapsed stacks)"
    )
    parser.add_argument("--agent", default=None, help="default: the widest agent")
    parser.add_argument("--skip-estate", action="store_true", help="needs --agent")
    parser.add_argument("--cli-only", action="store_true", help="needs --agent")
    parser.add_argument(
        "--breakdown", action="store_true", help="print each provider's requests before the cut"
    )
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
            f: dict[str, float] = {}
            if args.cli_only and args.agent:
                agent = args.agent
            else:
                agent, f = asyncio.run(
                    _plans(config, work / "journal", args.agent, args.skip_estate)
                )
                _reset(config)
            _clear_logs(config)
            env = {**os.environ, "XDG_STATE_HOME": str(work / "state")}
            wall_start = time.time()
            start = time.perf_counter()
            command = [AGENT_IR, "--config", str(config), "revoke", agent]
            if args.py_spy:
                spy = str(Path(sys.executable).parent / "py-spy")
                command = [spy, "record", "-r", "200", "-t", "--gil", "--format", "raw", "-o"]
                command += [str(args.py_spy), "--", AGENT_IR, "--config", str(config)]
                command += ["revoke", agent]
            done = subprocess.run(
                [*command, "--reason", "benchmark", "--yes", "--output", "json"],
                env=env,
                check=False,
                capture_output=True,
                text=True,
            )
            cli_s = time.perf_counter() - start
            if "chain" not in f:
                f["chain"] = _chain_of_run(done.stdout)
            first = _first_write(config)
            first_cut_s = float("nan") if first is None else first - wall_start
            _print_before_first(config, first)
            if args.breakdown:
                _print_breakdown(config, wall_start, first, args.latency_ms)
    if args.cli_only:
        _print_cut(args.latency_ms, f["chain"], first_cut_s, cli_s, done.returncode)
        return
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
    _print_cut(args.latency_ms, f["chain"], first_cut_s, cli_s, done.returncode)


def _print_cut(
    latency_ms: float, chain: float, first_cut_s: float, cli_s: float, code: float
) -> None:
    bound = chain * latency_ms / 1000

    def ratio(seconds: float) -> str:
        return f"{seconds / bound:.1f}x" if bound else "n/a (no latency)"

    print(
        f"time to first cut: {first_cut_s:.2f}s   time to all verified: {cli_s:.2f}s "
        f"(exit {code:.0f})   critical-path bound: {bound:.2f}s ({chain:.0f} dependent calls x "
        f"{latency_ms:g} ms)   ratios to the bound: first cut {ratio(first_cut_s)}, "
        f"all verified {ratio(cli_s)}"
    )
    print(json.dumps({"first_cut_s": first_cut_s, "all_verified_s": cli_s, "bound_s": bound}))


if __name__ == "__main__":
    main()
