"""The default world's Entra side, through the console
script (in a subprocess: it starts the AWS emulator as well)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agent_ir.data import world_dir

ROOT = Path(__file__).parents[3]
WORLDS = world_dir()
SCRIPT = Path(sys.executable).parent / "agent-ir"


def test_show_invoice_agent_spans_aws_and_entra_with_alices_consent(tmp_path: Path) -> None:
    world = WORLDS / "default.yaml"
    env = {
        "PATH": "/usr/bin:/bin",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "HOME": str(tmp_path),
    }
    run = subprocess.run(
        [str(SCRIPT), "--world", str(world), "show", "invoice-agent", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    view = json.loads(run.stdout)
    assert {"aws", "entra"} <= set(view["providers"])
    entra = {i["kind"]: i for i in view["identities"] if i["provider"] == "entra"}
    assert set(entra) == {"agent-identity", "agent-blueprint"}
    assert [c["kind"] for c in entra["agent-blueprint"]["credentials"]] == [
        "client-secret",
        "federated-credential",
    ]
    grants = {g["grant"]: g for g in view["grants"] if g["provider"] == "entra"}
    assert grants["Files.ReadWrite.All (Microsoft Graph)"]["risk"] == "wildcard"
    assert "Mail.Read (Microsoft Graph)" in grants and "Invoices.ReadWrite (finance-api)" in grants
    edges = {(e["from"], e["kind"]) for e in view["edges"]}
    assert ("human:alice@corp.test", "consent") in edges
    assert ("arn:aws:iam::111111111111:role/invoice-processor", "federation") in edges
    text = subprocess.run(
        [str(SCRIPT), "--world", str(world), "show", "invoice-agent"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    ).stdout
    assert (
        "consent: alice@corp.test consented to Mail.Read, Files.ReadWrite.All on Microsoft Graph"
        in text
    )
