"""`journal sinks` through the console script: pending while the webhook is down, delivered
by `--flush` once it is back; the webhook secret never reaches the output."""

from __future__ import annotations

from tests.evidence.test_anchor_cli import evidence_config
from tests.evidence.test_sinks import SECRET


def test_pending_then_flushed(receiver, cli, fresh_lab, tmp_path) -> None:
    sink = {
        "type": "webhook",
        "name": "soc",
        "url": receiver.url,
        "hmac_secret_env": "AGENT_IR_TEST_WEBHOOK_SECRET",
        "ca_bundle": str(receiver.ca_path),
    }
    config = str(evidence_config(fresh_lab, tmp_path, {"sinks": [sink]}))
    receiver.fail_with = 503
    run = cli(
        "--config", config, "revoke", "invoice-agent", "--reason", "exfil", "--yes", "-o", "json"
    )
    assert run.code == 0, run.err
    incident = run.json()["incident"]
    pending = cli("--config", config, "journal", "sinks", "-o", "json").json()["sinks"][0]
    assert pending["pending"][incident] > 0 and pending["last_error"] == "sink soc: HTTP 503"
    still = cli("--config", config, "journal", "sinks", "--flush")
    assert still.code == 5 and "HTTP 503" in still.err

    receiver.fail_with = None
    flushed = cli("--config", config, "journal", "sinks", "--flush", "-o", "json")
    assert flushed.code == 0, flushed.err
    assert flushed.json()["sinks"][0]["pending_records"] == 0
    assert receiver.received.events and receiver.received.repeats == 0
    for out in (run, still, flushed):
        assert SECRET not in out.out + out.err
