"""Restore refuses to undo what is no longer its to undo, through the console script."""

from __future__ import annotations

from typing import Any


def _revoke(cli: Any) -> str:
    run = cli("--lab", "revoke", "invoice-agent", "--reason", "test", "--yes", "--output", "json")
    assert run.code == 0, run.err
    data = run.json()
    assert data["verdict"].startswith("contained-until ")
    assert all({"path", "reason", "until"} <= set(r) for r in data["residual"])
    incident: str = data["incident"]
    return incident


def _restore(cli: Any, incident: str, *extra: str) -> Any:
    return cli("--lab", "restore", incident, "--yes", "--output", "json", *extra)


def test_revoke_restore_revoke_then_restoring_the_first_again_is_refused(cli) -> None:
    first = _revoke(cli)
    undo = _restore(cli, first)
    assert undo.code == 0, undo.err
    data = undo.json()
    assert data["restore_of"] == first and data["verdict"] == "open"
    assert any(w.startswith("revives ") for w in data["warnings"])
    assert any("kept: the AWSRevokeOlderSessions" in w for w in data["warnings"])
    assert all(
        s["target_label"].split()[0] in ("re-enable", "re-attach", "re-create")
        for s in data["steps"]
    ), data["steps"]
    second = _revoke(cli)

    refused = _restore(cli, first)
    assert refused.code == 8
    assert f"already restored by {undo.json()['incident']}" in refused.err
    assert f"superseded by {second}" in refused.err and "--force" in refused.err

    forced = _restore(cli, first, "--force")
    assert forced.code in (0, 6), forced.err
    shown = cli("--lab", "journal", "show", forced.json()["incident"], "--output", "json")
    notes = [r for r in shown.json()["records"] if r["kind"] == "note"]
    assert any(n["text"].startswith("forced restore: ") for n in notes), notes
    verdicts = [r for r in shown.json()["records"] if r["kind"] == "verdict"]
    assert verdicts and verdicts[0]["verdict"] == "open"


def test_a_restore_of_an_incident_superseded_by_a_newer_one_is_refused(cli) -> None:
    first = _revoke(cli)
    second = _revoke(cli)
    refused = _restore(cli, first)
    assert refused.code == 8 and f"superseded by {second}" in refused.err
    assert "already restored" not in refused.err
    assert _restore(cli, second).code == 0
    # the newer containment undone first, the older one may be undone too (newest first)
    assert _restore(cli, first).code == 0
