"""``agent-ir journal export`` through the console script, on a journal of a real lab run."""

from __future__ import annotations

import json

from tests.evidence.test_ocsf_export import assert_valid


def test_export_of_a_lab_revoke_is_valid_ocsf_ndjson_and_markdown(cli) -> None:
    run = cli("--lab", "revoke", "invoice-agent", "--reason", "exfil", "--yes", "--output", "json")
    assert run.code in (0, 3), run.err
    incident = run.json()["incident"]
    ocsf = cli("--lab", "journal", "export", incident, "--format", "ocsf")
    assert ocsf.code == 0, ocsf.err
    events = json.loads(ocsf.out)
    assert {e["class_uid"] for e in events} >= {7001, 3001}
    for event in events:
        assert_valid(event)
    ndjson = cli("--lab", "journal", "export", incident, "--format", "ndjson")
    assert [json.loads(line) for line in ndjson.out.splitlines()] == events
    md = cli("--lab", "journal", "export", incident, "--format", "md")
    assert md.out.startswith(f"# Incident {incident}") and "exfil" in md.out
    assert "Chain head: seq" in md.out


def test_export_of_an_unknown_incident_is_not_found(cli) -> None:
    run = cli("--lab", "journal", "export", "IR-20250101-000000-0000")
    assert run.code == 4 and "no incident" in run.err
