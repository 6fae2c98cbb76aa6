"""The journal as OCSF 1.5.0: every event valid against the pinned schema, mapped as documented."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agent_ir.engine import journal as jr
from agent_ir.evidence import ocsf
from tests.evidence.helpers import SNAPSHOT_ONLY, STEPS, write_incident

SCHEMAS = Path(__file__).resolve().parent.parent / "fixtures" / f"ocsf-{ocsf.OCSF_VERSION}"
CLASS_FILES = {
    7001: "remediation_activity",
    3001: "account_change",
    3004: "entity_management",
    3005: "user_access",
}


@cache
def _validator(class_uid: int) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{CLASS_FILES[class_uid]}.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def assert_valid(event: dict[str, Any]) -> None:
    """Validate one event against the pinned OCSF JSON Schema of its class."""
    errors = sorted(_validator(event["class_uid"]).iter_errors(event), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    path = write_incident(tmp_path_factory.mktemp("journal"))
    return ocsf.events(jr.Journal.read(path))


def test_every_event_is_valid_against_the_pinned_schema(exported) -> None:
    assert exported
    for event in exported:
        assert event["metadata"]["version"] == "1.5.0"
        assert_valid(event)


def test_the_schema_check_can_fail() -> None:
    with pytest.raises(AssertionError):
        assert_valid({"class_uid": 3001, "activity_id": 5, "bogus": 1})


def test_run_start_steps_and_end_are_remediation_activity(exported) -> None:
    runs = [e for e in exported if e["class_uid"] == 7001]
    assert runs[0]["status"] == "Started" and runs[-1]["status_id"] == 4  # partial
    steps = {
        e["unmapped"]["agent_ir"]["step"]: e for e in runs if "step" in e["unmapped"]["agent_ir"]
    }
    assert set(steps) == {s[0] for s in STEPS}
    assert steps["keys.aws.1"]["activity_name"] == "Evict"
    assert steps["sessions.okta.1"]["activity_id"] == 2
    assert steps["deny.aws.1"]["activity_name"] == "Isolate"
    assert steps["grants.gcp.1"]["status_id"] == 2
    assert steps["cut.entra.1"]["status_id"] == 4
    assert any(e["activity_id"] == 99 and "operator note" in e["message"] for e in runs)


def test_changes_map_to_iam_classes_with_actor_agent_reason_and_chain(exported) -> None:
    changes = {e["unmapped"]["agent_ir"]["step"]: e for e in exported if e["class_uid"] != 7001}
    # already and skipped steps changed nothing: no change event.
    assert set(changes) == {
        "keys.aws.1",
        "sessions.okta.1",
        "deny.aws.1",
        "grants.gcp.1",
        "cut.entra.1",
    }
    assert changes["deny.aws.1"]["class_uid"] == 3001 and changes["deny.aws.1"]["activity_id"] == 7
    assert changes["keys.aws.1"]["class_uid"] == 3004 and changes["keys.aws.1"]["activity_id"] == 11
    assert (
        changes["grants.gcp.1"]["class_uid"] == 3005 and changes["grants.gcp.1"]["status_id"] == 2
    )
    for event in changes.values():
        assert event["actor"]["user"]["name"] == "ana@corp.test"
        meta = event["unmapped"]["agent_ir"]
        assert meta["reason"] == "agent exfiltrating invoices"
        assert meta["plan_hash"].startswith("sha256:")
        assert [link["kind"] for link in meta["journal"]] == ["intent", "snapshot", "result"]
        assert event["metadata"]["correlation_uid"] == "IR-20250301-120000-abcd"
    user = changes["deny.aws.1"]["user"]
    assert user["type"] == "AI Agent" and user["display_name"] == "invoice-agent"


def test_the_chain_in_events_matches_the_journal(tmp_path: Path) -> None:
    records = jr.Journal.read(write_incident(tmp_path))
    hashes = {r.hash for r in records}
    linked = {
        link["hash"] for e in ocsf.events(records) for link in e["unmapped"]["agent_ir"]["journal"]
    }
    assert linked == hashes  # every record is carried by some event


def test_undo_steps_are_restore_and_reverse_the_change(tmp_path: Path) -> None:
    steps = [("undo.deny.aws.1", "aws", "deny-all", "arn:aws:iam::1:user/a", "verified")]
    path = write_incident(
        tmp_path, "IR-20250301-130000-beef", restore_of="IR-20250301-120000-abcd", steps=steps
    )
    events = ocsf.events(jr.Journal.read(path))
    for event in events:
        assert_valid(event)
    assert {e["activity_id"] for e in events if e["class_uid"] == 7001} >= {3}
    change = next(e for e in events if e["class_uid"] == 3001)
    assert change["activity_id"] == 8  # detach policy


def test_snapshot_data_never_reaches_an_event(exported) -> None:
    assert SNAPSHOT_ONLY not in json.dumps(exported)
