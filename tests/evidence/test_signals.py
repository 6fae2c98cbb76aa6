"""Shared Signals on a real lab revoke: the lab receiver verifies every pushed SET, the
deliveries are journaled, and the subject formats follow SSF."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from agent_ir.engine import journal as jr
from agent_ir.evidence import ocsf
from agent_ir.evidence import signals as ssf
from agent_ir.evidence.anchor import verify_anchors
from agent_ir.exit_codes import ExitCode
from agent_ir.lab.receivers import SetReceiver
from agent_ir.lab.tls import create_lab_tls
from agent_ir.settings import EvidenceSettings, SignalReceiverSettings, SignalsSettings
from tests.evidence.helpers import write_incident
from tests.evidence.keys import write_keys
from tests.evidence.test_ocsf_export import assert_valid
from tests.evidence.test_sinks import engine_with, revoke

ISSUER = "https://agent-ir.corp.test/"
AUDIENCE = "https://idp.corp.test/ssf"


@pytest.fixture
def set_receiver(tmp_path: Path):
    private, public = write_keys(tmp_path, "ssf")
    tls = create_lab_tls(tmp_path)
    with SetReceiver(public.read_bytes(), ISSUER, AUDIENCE, tls.server_context) as running:
        running.private_key = private  # type: ignore[attr-defined]
        running.ca_path = tls.ca_path  # type: ignore[attr-defined]
        yield running


def signals_config(receiver, key: Path, formats=("iss_sub", "complex")) -> SignalsSettings:
    return SignalsSettings(
        issuer=ISSUER,
        signing_key_file=key,
        key_id="agent-ir-1",
        subject_issuers={"aws": "https://signin.aws.amazon.com"},
        receivers=[
            SignalReceiverSettings(
                name=f"idp-{fmt}",
                endpoint=receiver.url,
                audience=AUDIENCE,
                subject_format=fmt,
                ca_bundle=receiver.ca_path,
            )
            for fmt in formats
        ],
    )


async def test_a_revoke_pushes_verified_sets_and_journals_them(
    fresh_lab, tmp_path, set_receiver
) -> None:
    private, public = write_keys(tmp_path, "anchor")
    evidence = EvidenceSettings.model_validate(
        {
            "signing": {"private_key_file": str(private), "public_key_file": str(public)},
            "signals": signals_config(set_receiver, set_receiver.private_key).model_dump(),
        }
    )
    outcome = await revoke(engine_with(fresh_lab, tmp_path, evidence))
    assert outcome.exit_code == ExitCode.OK and outcome.warnings == []
    assert set_receiver.rejected == [] and set_receiver.repeats == 0
    tokens = list(set_receiver.tokens.values())
    types = {t for claims in tokens for t in claims["events"]}
    assert {ssf.SESSION_REVOKED, ssf.CREDENTIAL_CHANGE} <= types
    assert all(
        h["typ"] == "secevent+jwt" and h["kid"] == "agent-ir-1"
        for h in set_receiver.headers.values()
    )
    assert {c["txn"] for c in tokens} == {outcome.incident}
    formats = {c["sub_id"]["format"] for c in tokens}
    assert formats == {"iss_sub", "complex"}
    change = next(c for c in tokens if ssf.CREDENTIAL_CHANGE in c["events"])
    assert change["events"][ssf.CREDENTIAL_CHANGE]["change_type"] == "revoke"
    assert change["events"][ssf.CREDENTIAL_CHANGE]["reason_admin"] == {"en": "sink test"}

    journal = tmp_path / "journal"
    records = jr.Journal.read(jr.incident_path(journal, outcome.incident))
    sent = [r.payload for r in records if r.kind == "signal"]
    assert len(sent) == len(tokens) and {s["status"] for s in sent} == {"delivered"}
    assert {s["jti"] for s in sent} == set(set_receiver.tokens)
    assert jr.verify(jr.incident_path(journal, outcome.incident)).ok
    assert verify_anchors(journal, public).ok  # the signal records are under the signature
    exported = ocsf.events(records)
    for event in exported:
        assert_valid(event)
    assert any("session-revoked to idp-complex: delivered" in e["message"] for e in exported)


def test_a_set_signed_by_another_key_is_refused_and_stays_pending(tmp_path, set_receiver) -> None:
    journal = tmp_path / "journal"
    write_incident(journal)
    other, _ = write_keys(tmp_path, "other")
    state = ssf.transmit(
        signals_config(set_receiver, other, ("opaque",)), journal, "IR-20250301-120000-abcd"
    )
    assert set_receiver.tokens == {}
    assert set(set_receiver.rejected) == {"invalid_key"}
    assert {e["status"] for e in state.values()} == {"pending"}
    assert all("invalid_key" in e["error"] for e in state.values())
    # with the right key the same events go through once, under the same jti
    good = signals_config(set_receiver, set_receiver.private_key, ("opaque",))
    again = ssf.transmit(good, journal, "IR-20250301-120000-abcd")
    assert {e["jti"] for e in again.values()} == set(set_receiver.tokens)
    ssf.transmit(good, journal, "IR-20250301-120000-abcd")
    assert set_receiver.repeats == 0


def test_rsa_keys_sign_rs256(tmp_path, set_receiver) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "rsa.pem"
    pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    receiver = SignalReceiverSettings(name="r", endpoint="https://x.test/", audience=AUDIENCE)
    signal = ssf.Signal("s1", ssf.SESSION_REVOKED, "okta", "0oa1", "agent", "why", 1700000000)
    token = ssf.make_set(signals_config(set_receiver, pem), receiver, "IR-1", signal)
    import jwt

    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    claims = jwt.decode(token, public, algorithms=["RS256"], audience=AUDIENCE)
    assert claims["sub_id"]["format"] == "iss_sub" and "sub" not in claims


@pytest.mark.parametrize(
    ("fmt", "target", "expected"),
    [
        (
            "iss_sub",
            "AKID1",
            {"format": "iss_sub", "iss": "https://signin.aws.amazon.com", "sub": "AKID1"},
        ),
        (
            "email",
            "sa@p.iam.gserviceaccount.com",
            {"format": "email", "email": "sa@p.iam.gserviceaccount.com"},
        ),
        ("opaque", "0oa1", {"format": "opaque", "id": "0oa1"}),
    ],
)
def test_subject_formats(fmt, target, expected) -> None:
    provider = "aws" if fmt == "iss_sub" else "gcp"
    signal = ssf.Signal("s", ssf.SESSION_REVOKED, provider, target, "agent", "why", 0)
    assert ssf.subject(signal, fmt, {"aws": "https://signin.aws.amazon.com"}) == expected


def test_email_falls_back_to_iss_sub_and_complex_names_the_client() -> None:
    signal = ssf.Signal("s", ssf.SESSION_REVOKED, "okta", "0oa1", "agent", "why", 0)
    assert ssf.subject(signal, "email", {})["format"] == "iss_sub"
    complex_ = ssf.subject(signal, "complex", {})
    assert complex_["application"] == {"format": "opaque", "id": "0oa1"}
    assert complex_["user"]["iss"] == "urn:agent-ir:provider:okta"


def test_pending_signals_are_listed_and_flushed_then_journaled(tmp_path, set_receiver) -> None:
    journal = tmp_path / "journal"
    write_incident(journal)
    other, _ = write_keys(tmp_path, "other")
    ssf.transmit(
        signals_config(set_receiver, other, ("opaque",)), journal, "IR-20250301-120000-abcd"
    )
    # keys.aws.1 and sessions.okta.1 changed something; the skipped disable did not
    assert ssf.pending(journal) == {"IR-20250301-120000-abcd": 2}
    good = signals_config(set_receiver, set_receiver.private_key, ("opaque",))
    assert ssf.flush(good, journal) == []
    assert ssf.pending(journal) == {}
    records = jr.Journal.read(jr.incident_path(journal, "IR-20250301-120000-abcd"))
    sent = [r.payload for r in records if r.kind == "signal"]
    assert [(s["step"], s["status"]) for s in sent] == [
        ("keys.aws.1", "delivered"),
        ("sessions.okta.1", "delivered"),
    ]
