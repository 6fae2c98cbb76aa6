"""A revoke on the lab with signing configured: `journal verify` passes, then fails once the
journal is rewritten and re-hashed on disk."""

from __future__ import annotations

import uuid
from pathlib import Path

import yaml

from agent_ir.engine import journal as jr
from agent_ir.exit_codes import ExitCode
from tests.evidence.keys import forge, write_keys


def evidence_config(lab, tmp_path: Path, evidence: dict) -> Path:
    """The lab's configuration plus a private journal and an evidence section."""
    config = yaml.safe_load(lab.config_path.read_text())
    config["journal_dir"] = str(tmp_path / "journal")
    config["evidence"] = evidence
    path = lab.config_path.with_name(f"evidence-{uuid.uuid4().hex[:8]}.yaml")
    path.write_text(yaml.safe_dump(config))
    return path


def test_verify_catches_a_rehashed_journal_after_a_signed_revoke(cli, fresh_lab, tmp_path) -> None:
    private, public = write_keys(tmp_path)
    signing = {"private_key_file": str(private), "public_key_file": str(public)}
    config = str(evidence_config(fresh_lab, tmp_path, {"signing": signing}))
    run = cli(
        "--config", config, "revoke", "invoice-agent", "--reason", "exfil", "--yes", "-o", "json"
    )
    assert run.code in (0, 3), run.err
    assert not [w for w in run.json()["warnings"] if "signed" in w]
    ok = cli("--config", config, "journal", "verify")
    assert ok.code == 0, ok.out + ok.err
    assert "signatures (key ed25519:" in ok.out and ": ok" in ok.out

    incident = run.json()["incident"]
    forge(jr.incident_path(tmp_path / "journal", incident), {"why": "routine rotation"})
    bad = cli("--config", config, "journal", "verify")
    assert bad.code == ExitCode.JOURNAL
    assert "rewritten" in bad.out
    # Without a public key configured the chain alone cannot tell.
    plain = str(evidence_config(fresh_lab, tmp_path, {}))
    assert cli("--config", plain, "journal", "verify").code == 0
