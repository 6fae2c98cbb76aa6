"""Shared Signals transmitter: Security Event Tokens (RFC 8417) pushed (RFC 8935).

A step that ends sessions or disables credentials or an identity is news for relying
parties and identity providers, which can close what no API call of ours reaches:

==================  ==========================================================  ==========
step                event type                                                   spec
==================  ==========================================================  ==========
revoke-sessions     ``…/caep/event-type/session-revoked``                         CAEP 1.0
disable-credentials ``…/caep/event-type/credential-change`` (change_type revoke)  CAEP 1.0
disable-identity    ``…/risc/event-type/account-disabled`` (reason hijacking)     RISC
==================  ==========================================================  ==========

Only steps that changed something (verified or applied-unverified) are signalled. The
subject is in the receiver's chosen SSF format: ``iss_sub`` (the provider's issuer, the
identity's id), ``email`` (when the identity is an address, else iss_sub), ``opaque``, or
``complex`` (the agent's client as ``application``, with the identity as ``user``).
CAEP has no credential type for an agent's key or secret; ``api_key`` is used, as the
spec's "any other credential type supported mutually" allows.

Each token's ``jti`` is derived from (incident, step, receiver), so a resend after a crash
is the same event; ``txn`` is the incident id. What was sent is kept in
``<journal dir>/signals/<incident>.json`` and journaled as ``signal`` records at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from agent_ir.engine import journal as jr
from agent_ir.errors import ConfigError, DeliveryError
from agent_ir.evidence.sinks import read_secret, trust
from agent_ir.settings import SignalReceiverSettings, SignalsSettings

CAEP = "https://schemas.openid.net/secevent/caep/event-type/"
RISC = "https://schemas.openid.net/secevent/risc/event-type/"
SESSION_REVOKED = CAEP + "session-revoked"
CREDENTIAL_CHANGE = CAEP + "credential-change"
ACCOUNT_DISABLED = RISC + "account-disabled"
EVENT_TYPES = {
    "revoke-sessions": SESSION_REVOKED,
    "disable-credentials": CREDENTIAL_CHANGE,
    "disable-identity": ACCOUNT_DISABLED,
}
STATE_DIR = "signals"
_CHANGED = {"verified", "applied-unverified"}


@dataclass(frozen=True, slots=True)
class Signal:
    """One event to tell receivers about: which step, on what, why and when."""

    step: str
    event_type: str
    provider: str
    target: str
    agent: str
    reason: str
    when: int


def signals_for(records: list[jr.Record]) -> list[Signal]:
    """The signals an incident's records call for, in journal order (undo steps none)."""
    start = records[0].payload if records else {}
    intents = {r.payload.get("step"): r.payload for r in records if r.kind == jr.Kind.INTENT}
    found = []
    for record in records:
        step = str(record.payload.get("step", ""))
        intent = intents.get(step, {})
        event_type = EVENT_TYPES.get(str(intent.get("action")))
        if record.kind != jr.Kind.RESULT or event_type is None or step.startswith("undo."):
            continue
        if record.payload.get("status") not in _CHANGED:
            continue
        found.append(
            Signal(
                step=step,
                event_type=event_type,
                provider=str(intent.get("provider", "")),
                target=str(intent.get("target", "")),
                agent=str(start.get("agent", "")),
                reason=str(start.get("why", "")),
                when=int(datetime.fromisoformat(record.ts).timestamp()),
            )
        )
    return found


def subject(signal: Signal, fmt: str, issuers: dict[str, str]) -> dict[str, Any]:
    """The signal's subject (``sub_id``) in an SSF subject format."""
    iss_sub = {
        "format": "iss_sub",
        "iss": issuers.get(signal.provider, f"urn:agent-ir:provider:{signal.provider}"),
        "sub": signal.target,
    }
    if fmt == "email" and "@" in signal.target:
        return {"format": "email", "email": signal.target}
    if fmt == "opaque":
        return {"format": "opaque", "id": signal.target}
    if fmt == "complex":
        application = {"format": "opaque", "id": signal.target}
        return {"format": "complex", "application": application, "user": iss_sub}
    return iss_sub


def event_body(signal: Signal) -> dict[str, Any]:
    """The event's own claims under its type URI."""
    body: dict[str, Any] = {
        "event_timestamp": signal.when,
        "initiating_entity": "admin",
        "reason_admin": {"en": signal.reason},
    }
    if signal.event_type == CREDENTIAL_CHANGE:
        body |= {"credential_type": "api_key", "change_type": "revoke"}
    if signal.event_type == ACCOUNT_DISABLED:
        body = {"reason": "hijacking"}
    return body


def jti(incident: str, step: str, receiver: str) -> str:
    """The same id for the same event to the same receiver, however often it is sent."""
    return hashlib.sha256(f"{incident}\0{step}\0{receiver}".encode()).hexdigest()[:32]


def make_set(
    settings: SignalsSettings, receiver: SignalReceiverSettings, incident: str, signal: Signal
) -> str:
    """A signed Security Event Token for one receiver."""
    import jwt

    key, alg = _signing_key(settings.signing_key_file)
    claims = {
        "iss": settings.issuer,
        "aud": receiver.audience,
        "iat": signal.when,
        "jti": jti(incident, signal.step, receiver.name),
        "txn": incident,
        "sub_id": subject(signal, receiver.subject_format, settings.subject_issuers),
        "events": {signal.event_type: event_body(signal)},
    }
    headers = {"typ": "secevent+jwt"} | ({"kid": settings.key_id} if settings.key_id else {})
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


def push(receiver: SignalReceiverSettings, token: str) -> None:
    """Deliver one SET by push (RFC 8935): 202 means accepted."""
    import httpx

    headers = {"Content-Type": "application/secevent+jwt", "Accept": "application/json"}
    if receiver.bearer_token_env or receiver.bearer_token_file:
        secret = read_secret(
            receiver.bearer_token_env, receiver.bearer_token_file, f"receiver {receiver.name}"
        )
        headers["Authorization"] = f"Bearer {secret.decode()}"
    verify = trust(receiver.ca_bundle)
    try:
        with httpx.Client(verify=verify, timeout=receiver.timeout_s) as client:
            response = client.post(receiver.endpoint, content=token, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"receiver {receiver.name}: {type(exc).__name__}") from exc
    if response.status_code not in (200, 202):
        err = _error_code(response.content)
        raise DeliveryError(f"receiver {receiver.name}: HTTP {response.status_code}{err}")


def transmit(settings: SignalsSettings, directory: Path, incident: str) -> dict[str, Any]:
    """Send every signal of the incident not yet accepted by each receiver; the state
    (one entry per receiver and step: event type, jti, status, error)."""
    state = _load(directory, incident)
    path = jr.incident_path(directory, incident)
    records = jr.Journal.read(path) if path.exists() else []
    for signal in signals_for(records):
        for receiver in settings.receivers:
            key = f"{receiver.name}/{signal.step}"
            if state.get(key, {}).get("status") == "delivered":
                continue
            entry: dict[str, Any] = {
                "receiver": receiver.name,
                "step": signal.step,
                "event_type": signal.event_type,
                "subject_format": receiver.subject_format,
                "jti": jti(incident, signal.step, receiver.name),
            }
            try:
                push(receiver, make_set(settings, receiver, incident, signal))
                entry |= {"status": "delivered", "error": None}
            except DeliveryError as exc:
                entry |= {"status": "pending", "error": exc.message}
            state[key] = entry
            _save(directory, incident, state)
    return state


def journal_deliveries(directory: Path, incident: str) -> int:
    """Append a ``signal`` record per delivery not journaled yet; how many were added."""
    state = _load(directory, incident)
    with jr.Journal.open(directory, incident) as journal:
        seen = {
            (r.payload.get("receiver"), r.payload.get("step"), r.payload.get("status"))
            for r in journal.records()
            if r.kind == "signal"
        }
        added = 0
        for entry in state.values():
            if (entry["receiver"], entry["step"], entry["status"]) not in seen:
                journal.append("signal", entry)
                added += 1
    return added


def _signing_key(path: Path) -> tuple[Any, str]:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: cannot load the signals signing key") from exc
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key, "EdDSA"
    if isinstance(key, rsa.RSAPrivateKey):
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key, "ES256"
    raise ConfigError(f"{path}: the signals key must be Ed25519, RSA or EC P-256")


def _error_code(body: bytes) -> str:
    try:
        err = json.loads(body).get("err")
    except (ValueError, AttributeError):
        return ""
    return f" ({err})" if isinstance(err, str) else ""


def _state_path(directory: Path, incident: str) -> Path:
    return directory / STATE_DIR / f"{incident}.json"


def _load(directory: Path, incident: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(_state_path(directory, incident).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"cannot read the signals state of {incident}: {exc}") from exc
    return data


def _save(directory: Path, incident: str, state: dict[str, Any]) -> None:
    path = _state_path(directory, incident)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, sort_keys=True))
    os.replace(tmp, path)


def pending(directory: Path) -> dict[str, int]:
    """Per incident, how many signals some receiver has not accepted yet."""
    out = {}
    for path in sorted((directory / STATE_DIR).glob("*.json")):
        waiting = sum(1 for e in _load(directory, path.stem).values() if e["status"] != "delivered")
        if waiting:
            out[path.stem] = waiting
    return out


def flush(settings: SignalsSettings, directory: Path) -> list[str]:
    """Send what is pending for every incident that has signals, journal the deliveries;
    the errors left."""
    errors = []
    for incident in pending(directory):
        state = transmit(settings, directory, incident)
        journal_deliveries(directory, incident)
        errors += [e["error"] for e in state.values() if e["status"] != "delivered"]
    return errors
