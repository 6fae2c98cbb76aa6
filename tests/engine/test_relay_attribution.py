"""Attribution on the four-provider world (``relay_world.yaml``; the lab runs in a
subprocess): the API token the agent's own Okta service user created is the agent's, and
that user is never a human; the cross-account chain is found even when a name-inferred
identity lives in the account it leads to; ``show -o json`` carries every edge of the
delegation graph, each with its own reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOP2 = "arn:aws:iam::444444444444:role/relay-hop2"
HOP3 = "arn:aws:iam::555555555555:role/relay-hop3"


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("relay-show")
    env = {**os.environ, "XDG_STATE_HOME": str(tmp), "TMPDIR": str(tmp)}
    run = subprocess.run(
        [sys.executable, "-m", "tests.engine.relay_lab", "--show"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    data: dict[str, Any] = json.loads(run.stdout)
    return data


def test_the_service_users_api_token_belongs_to_the_agent(shown: dict[str, Any]) -> None:
    mine = {(i["kind"], i["name"]) for i in shown["identities"]}
    assert ("api-token", "relay-sync") in mine
    assert ("service-user", "svc-relay@corp.test") in mine
    # Carol's token is hers, not the agent's
    assert ("api-token", "carol-terraform") not in mine


def test_a_service_user_is_never_labelled_human(shown: dict[str, Any]) -> None:
    sources = {e["from"] for e in shown["edges"]}
    assert "human:svc-relay@corp.test" not in sources
    user = next(i["id"] for i in shown["identities"] if i["kind"] == "service-user")
    made = [e for e in shown["edges"] if e["from"] == user and e["kind"] == "owner"]
    assert made and "service user svc-relay@corp.test" in made[0]["reason"]
    assert "human:carol@corp.test" in sources


def test_the_chain_finding_ignores_name_inferred_identities(shown: dict[str, Any]) -> None:
    findings = shown["view"]["findings"]
    inferred = [f for f in findings if f["code"] == "inferred-identity"]
    assert inferred and "relay-agent-cache" in inferred[0]["message"]
    chains = {f["identity"] for f in findings if f["code"] == "cross-account-chain"}
    # relay-agent-cache lives in 444444444444, yet the hop into relay-hop2 is still flagged
    assert {HOP2, HOP3} <= chains


def test_show_json_carries_every_edge_each_with_its_own_reason(shown: dict[str, Any]) -> None:
    edges = shown["view"]["edges"]
    pairs = [(e["from"], e["to"], e["kind"]) for e in edges]
    # hop2 → hop3 lies on no shortest path (hop1 assumes hop3 directly), yet it is shown
    assert (HOP2, HOP3, "assume-role") in pairs
    assert ("arn:aws:iam::333333333333:role/relay-hop1", HOP3, "assume-role") in pairs
    # two bindings on vault-reader: two edges, two reasons
    vault = [e for e in edges if e["to"].startswith("vault-reader@")]
    assert len({e["reason"] for e in vault}) == 2
    assert all(e["reason"] for e in edges)
    assert len({(e["from"], e["to"], e["kind"], e["reason"]) for e in edges}) == len(edges)
