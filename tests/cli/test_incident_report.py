"""An incident a manager can read: ``journal show`` summarises by default (``--records``
for the chain), and ``report`` writes Markdown or JSON with who, why, when, what was cut,
the verdict, the residual paths with their expiry, and what undoing it would not give back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def test_journal_show_and_report(cli: Any, tmp_path: Path) -> None:
    run = cli(
        "--lab", "revoke", "invoice-agent", "--reason", "exfiltrating finance data",
        "--responder", "oncall@corp.test", "--yes", "--output", "json",
    )  # fmt: skip
    assert run.code == 0, run.err
    incident = run.json()["incident"]
    residual = run.json()["residual"]
    assert residual, "the default world leaves held tokens until they expire"

    shown = cli("--lab", "journal", "show", incident)
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert lines[0].startswith(f"{incident}  contain-agent on agent invoice-agent")
    assert "  responder oncall@corp.test" in shown.out
    assert "  reason    exfiltrating finance data" in shown.out
    assert "  verdict   contained-until " in shown.out
    assert "  residual  [" in shown.out
    assert "incident-start" not in shown.out

    raw = cli("--lab", "journal", "show", incident, "--records")
    assert raw.code == 0 and "incident-start" in raw.out and "incident-end" in raw.out
    start = next(line for line in raw.out.splitlines() if "incident-start" in line)
    assert len(start) > 300, "records are printed whole, not cut"

    md = cli("--lab", "report", incident)
    assert md.code == 0, md.err
    assert md.out.startswith(f"# Incident {incident}: contain-agent on agent invoice-agent\n")
    assert "- **Verdict:** contained-until " in md.out
    assert "- **Who:** oncall@corp.test" in md.out
    assert "- **Why:** exfiltrating finance data" in md.out
    assert "## What was cut" in md.out and "| verified | aws | disable-credentials |" in md.out
    first = residual[0]
    assert f"- [{first['provider']}] {first['path']}: until {first['until']}" in md.out
    assert "## Restore hazards" in md.out and "IRREVERSIBLE" in md.out

    out = tmp_path / "report.json"
    written = cli("--lab", "report", incident, "--format", "json", "--out", str(out))
    assert written.code == 0 and written.out == ""
    data = json.loads(out.read_text())
    assert data["incident"] == incident and data["responder"] == "oncall@corp.test"
    assert data["verdict"].startswith("contained-until ")
    assert {r["path"] for r in data["residual"]} == {r["path"] for r in residual}
    assert data["restored_by"] == []
    assert all(s["status"] in ("verified", "already", "skipped") for s in data["steps"])

    undo = cli("--lab", "restore", incident, "--yes", "--output", "json")
    assert undo.code == 0, undo.err
    again = cli("--lab", "report", incident, "--format", "json")
    assert again.json()["restored_by"] == [undo.json()["incident"]]


def test_report_on_an_unknown_incident_is_not_found(cli: Any) -> None:
    missing = cli("--lab", "report", "IR-20200101-000000-dead")
    assert missing.code != 0 and "no incident IR-20200101-000000-dead" in missing.err


def test_report_with_the_activity_around_the_incident(cli: Any) -> None:
    run = cli(
        "--lab", "revoke", "invoice-agent", "--reason", "exfiltrating finance data",
        "--responder", "oncall@corp.test", "--yes", "--output", "json",
    )  # fmt: skip
    assert run.code == 0, run.err
    incident = run.json()["incident"]

    md = cli("--lab", "report", incident, "--activity", "3d")
    assert md.code == 0, md.err
    section = md.out.split("## Activity around the incident (providers' audit logs)", 1)[1]
    for provider in ("aws", "entra", "gcp", "okta"):
        assert f"- {provider}: answered (" in section
    before = int(section.split("Before the incident began: ", 1)[1].split(" ", 1)[0])
    assert before > 0, "the seeded overnight reads come before the incident"

    data = cli("--lab", "report", incident, "--format", "json", "--activity", "3d").json()
    activity = data["activity"]
    assert activity["agent"] == "invoice-agent" and not activity["partial"]
    actions = {e["action"] for e in activity["events"]}
    assert "athena:StartQueryExecution" in actions  # the overnight finance reads
    assert "activity" not in cli("--lab", "report", incident, "--format", "json").json()

    bad = cli("--lab", "report", incident, "--activity", "yesterday")
    assert bad.code == 2 and "--activity 'yesterday'" in bad.err
