"""Peak memory of the inventory at 10,000, 30,000 and 100,000 identities.

Two measures, each in a fresh child process so one size does not inherit another's heap:

* ``model``: the in-process inventory (identities with their credentials, grants and
  edges, correlated into agents, graph built, every agent assessed) built from generated
  data shaped as the AWS adapter produces it, with no lab: what agent-ir itself holds.
  The baseline is the same process after its imports, before any identity exists.
* ``--lab N``: ``agent-ir inventory --output json`` against a lab serving a generated AWS
  world of N agents (N ≈ identities / 1.3), the whole command's peak RSS.

Target (issue 13): 100,000 identities within 400 MB RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

SIZES = (10_000, 30_000, 100_000)


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_model(identities: int) -> dict[str, float]:
    """Build the inventory of ``identities`` generated AWS-shaped principals; figures."""
    import random
    from datetime import UTC, datetime, timedelta

    from agent_ir.engine.inventory import build_inventory
    from agent_ir.model import Credential, Edge, EdgeKind, Grant, Identity
    from agent_ir.providers.base import Discovery
    from agent_ir.settings import Settings

    baseline = _rss_mib()
    rng = random.Random(7)
    now = datetime.now(UTC)
    accounts = ["100111111111", "100222222222"]
    discovery = Discovery(provider="aws")
    for n in range(identities):
        account = accounts[n % 2]
        role = n % 4 == 3
        name = f"agent-{n // 4 * 3 + n % 4:06d}" + ("-exec" if role else "")
        arn = f"arn:aws:iam::{account}:{'role' if role else 'user'}/{name}"
        keys = tuple(
            Credential(
                id=f"AKIA{rng.getrandbits(64):016X}",
                kind="access-key",
                status="active",
                created=now - timedelta(days=rng.randint(0, 500)),
                last_used=now - timedelta(days=rng.randint(0, 60)),
            )
            for _ in range(0 if role else rng.choice((1, 1, 2)))
        )
        agent = name.removesuffix("-exec")
        discovery.identities.append(
            Identity(
                provider="aws",
                kind="iam-role" if role else "iam-user",
                id=arn,
                name=name,
                account=account,
                credentials=keys,
                tags=(("agent-ir:agent", agent), ("agent-ir:owner", f"owner{n % 200:03d}@corp")),
                owner=f"owner{n % 200:03d}@corp",
                agent=agent,
            )
        )
        service = rng.choice(("s3", "sqs", "kms", "logs"))
        discovery.grants.append(
            Grant("aws", arn, f"{service}:Get*", "inline-policy", None, "work", "work")
        )
        if role:
            user = arn.replace(":role/", ":user/").removesuffix("-exec")
            discovery.edges.append(
                Edge(user, arn, EdgeKind.ASSUME_ROLE, f"trust policy of {name} names {user}")
            )
    built = _rss_mib()
    inventory = build_inventory({"aws": discovery}, {}, Settings(), now)
    return {
        "identities": float(len(inventory.identities)),
        "agents": float(len(inventory.agents)),
        "baseline_mib": baseline,
        "discovered_mib": built,
        "peak_mib": _rss_mib(),
    }


def _child(identities: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(identities)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def _lab(agents: int) -> None:
    from labproc import AGENT_IR, lab_process, timed

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        world = work / "world.yaml"
        with open(world, "w") as handle:
            subprocess.run([AGENT_IR, "lab", "generate", "--agents", str(agents)], stdout=handle)
        with lab_process(world, work) as config:
            env = {**os.environ, "XDG_STATE_HOME": str(work / "state")}
            run = timed([AGENT_IR, "--config", str(config), "inventory", "--output", "json"], env)
            found = len(json.loads(run.out)["identities"]) if run.code in (0, 6) else 0
    print(
        f"inventory command on a lab of {agents} agents: {found} identities, "
        f"exit {run.code}, {run.seconds:.1f}s, peak RSS {run.max_rss_mib:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--lab", type=int, nargs="*", default=[], help="agents per lab run")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(build_model(args.child)))
        return
    for size in args.sizes:
        f = _child(size)
        held = f["peak_mib"] - f["baseline_mib"]
        print(
            f"model {f['identities']:>7.0f} identities ({f['agents']:.0f} agents): "
            f"peak RSS {f['peak_mib']:6.0f} MiB (after imports {f['baseline_mib']:.0f} MiB, "
            f"discovered {f['discovered_mib']:.0f} MiB); "
            f"{held * 1024 / f['identities']:.2f} KiB per identity held"
        )
    for agents in args.lab:
        _lab(agents)


if __name__ == "__main__":
    main()
