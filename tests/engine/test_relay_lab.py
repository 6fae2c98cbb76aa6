"""A four-provider world of its own (``relay_world.yaml``): relay-agent chained across AWS
(a three-account role chain), GCP (impersonation, and workload identity federation from a
reachable AWS role), Entra (secret, certificate, federated credential) and Okta (a service
app and a service user that created an API token), with the decoy report-agent beside it.
``revoke`` ends with a verdict, the probe agrees with it path by path, and no decoy is
touched (``relay_lab.py`` runs the lab in a subprocess: moto is process-global)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.engine.test_residual_lab import assert_agrees

ROOT = Path(__file__).resolve().parents[2]


def run_relay(tmp: Path, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Hold, revoke, probe again (the agent and the decoy); the script's JSON."""
    env = {**os.environ, "XDG_STATE_HOME": str(tmp), "TMPDIR": str(tmp)}
    run = subprocess.run(
        [sys.executable, "-m", "tests.engine.relay_lab", json.dumps(params or {})],
        capture_output=True,
        text=True,
        env=env,
        timeout=480,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    data: dict[str, Any] = json.loads(run.stdout)
    return data


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_relay(tmp_path_factory.mktemp("relay"))


@pytest.fixture(scope="module")
def relay_reachable(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_relay(tmp_path_factory.mktemp("relay-reach"), {"reach": "reachable"})


def _works(results: list[dict[str, Any]], text: str) -> list[bool]:
    return [r["works"] for r in results if text in r["path"]]


def test_the_probe_holds_paths_in_all_four_providers(relay: dict[str, Any]) -> None:
    before = relay["before"]
    assert {r["provider"] for r in before if r["works"]} == {"aws", "entra", "gcp", "okta"}
    assert all(r["works"] for r in before), [r for r in before if not r["works"]]
    # the chain: three accounts, and federation from the reachable role relay-hop2
    hop3 = _works(before, "assume relay-hop3")
    assert hop3 and all(hop3)
    assert _works(before, "AWS role relay-hop2 → workload identity pool") == [True]
    assert _works(before, "federated credential aws-relay-hop3") == [True]
    held = {(h["provider"], h["name"]) for h in relay["held"]}
    assert {("gcp", "vault-reader"), ("gcp", "ledger-writer"), ("entra", "relay-agent")} <= held
    assert ("okta", "relay-agent") in held


def test_revoke_ends_with_a_verdict_the_probe_agrees_with(relay: dict[str, Any]) -> None:
    assert relay["run"]["verdict"].split()[0] in ("contained", "contained-until")
    assert_agrees(relay)
    assert relay["plan"]["verdict"].split()[0] == relay["run"]["verdict"].split()[0]


def test_no_decoy_is_touched_and_every_decoy_path_still_works(relay: dict[str, Any]) -> None:
    decoy = relay["decoy"]
    assert not set(decoy["ids"]) & set(relay["touched"])
    assert decoy["before"] and all(r["works"] for r in decoy["before"])
    assert all(r["works"] for r in decoy["after"]), [r for r in decoy["after"] if not r["works"]]


def test_federation_from_a_reachable_role_is_cut(relay: dict[str, Any]) -> None:
    # a held session of relay-hop2 (not the agent's role) still signs GetCallerIdentity;
    # only removing the pool principal's binding on ledger-writer closes the exchange
    assert _works(relay["after"], "AWS role relay-hop2 → workload identity pool") == [False]
    steps = [s for s in relay["plan"]["steps"] if s["action"] == "cut-federation"]
    assert any("ledger-writer" in s["target"] for s in steps), steps
    assert not any("relay-hop2 → federation" in r["path"] for r in relay["run"]["residual"])


def test_the_service_users_api_token_stops_working(relay: dict[str, Any]) -> None:
    assert _works(relay["before"], "API token relay-sync") == [True]
    assert _works(relay["after"], "API token relay-sync") == [False]


def test_reach_reachable_disables_impersonation_targets_and_ends_their_tokens(
    relay: dict[str, Any], relay_reachable: dict[str, Any]
) -> None:
    # by default the tokens minted for reachable accounts outlive the revoke (declared)
    gcp_default = [h for h in relay["held"] if h["provider"] == "gcp"]
    assert gcp_default and all(h["works"] for h in gcp_default)
    # with reach: reachable, the accounts are disabled and their live tokens refused
    gcp = [h for h in relay_reachable["held"] if h["provider"] == "gcp"]
    assert gcp and not any(h["works"] for h in gcp), gcp
    assert not any(r["provider"] == "gcp" for r in relay_reachable["run"]["residual"])
    assert_agrees(relay_reachable)
    assert not set(relay_reachable["decoy"]["ids"]) & set(relay_reachable["touched"])


def test_the_plan_names_the_other_principals_a_step_affects(relay: dict[str, Any]) -> None:
    # Dana (a human) assumes relay-hop2 too: ending its older sessions ends hers
    steps = relay["plan"]["steps"]
    hop2 = [
        s
        for s in steps
        if s["action"] == "revoke-sessions" and s["identity"].endswith(":role/relay-hop2")
    ]
    assert hop2 and any("also affects" in h and "dana" in h for h in hop2[0]["hazards"])
    # the agent's own role has no one else behind it: no collateral named
    hop1 = [s for s in steps if s["identity"].endswith(":role/relay-hop1")]
    assert hop1 and not any("also affects" in h for s in hop1 for h in s["hazards"])


@pytest.fixture(scope="module")
def relay_cut_first(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same, with the revoke cutting first (as ``revoke --yes`` runs it)."""
    return run_relay(tmp_path_factory.mktemp("relay-cut-first"), {"_cut_first": True})


def test_a_revoke_that_cuts_first_agrees_with_the_probe_and_spares_the_decoy(
    relay_cut_first: dict[str, Any],
) -> None:
    assert relay_cut_first["plan"]["cut_first"] and relay_cut_first["run"]["status"] == "complete"
    assert relay_cut_first["run"]["verdict"].split()[0] in ("contained", "contained-until")
    assert_agrees(relay_cut_first)
    decoy = relay_cut_first["decoy"]
    assert not set(decoy["ids"]) & set(relay_cut_first["touched"])
    assert all(r["works"] for r in decoy["after"]), [r for r in decoy["after"] if not r["works"]]
    assert _works(relay_cut_first["after"], "API token relay-sync") == [False]
