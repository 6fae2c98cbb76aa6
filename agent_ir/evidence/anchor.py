"""Signed chain heads: each finished incident's last record, signed with Ed25519.

The hash chain catches an edit, but whoever can write the journal can rewrite it and
recompute every hash. So when an incident ends, its head (incident, seq, hash, record
count) is appended to ``<journal dir>/anchors.jsonl``, one line per anchor, each line
signed with the configured private key and linked to the line before by its SHA-256.
An auditor holding only the public key then catches, in :func:`verify_anchors`:

- a journal rewritten and re-hashed: its head no longer matches the anchored head;
- a removed incident: it is anchored but its journal is gone;
- a swapped key (everything re-signed by another key): signatures fail under the
  configured public key;
- an edited, removed or reordered anchor line: its signature or the link after it fails.

Cutting the last lines off ``anchors.jsonl`` is not visible locally; that needs an
external append-only store (not built yet).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_ir.engine import journal as jr
from agent_ir.errors import ConfigError, JournalError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

ANCHORS = "anchors.jsonl"
ALGORITHM = "Ed25519"


@dataclass(slots=True)
class AnchorReport:
    """What :func:`verify_anchors` found: problems about the anchor file itself, and per
    incident (an incident with an empty list is anchored and matches)."""

    key_id: str
    problems: list[str] = field(default_factory=list)
    incidents: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing at all was found wrong."""
        return not self.problems and not any(self.incidents.values())


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in a PEM file (PKCS#8, unencrypted)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(_read_key(path), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path}: the signing key must be Ed25519")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in a PEM file (SubjectPublicKeyInfo)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(_read_key(path))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path}: the verifying key must be Ed25519")
    return key


def key_id(public: Ed25519PublicKey) -> str:
    """A short, stable name of a public key: its raw bytes' SHA-256, abbreviated."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def anchor(
    directory: Path,
    incident: str,
    private_key_file: Path,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """Sign the incident's current head and append it to the anchor file; the entry."""
    key = load_private_key(private_key_file)
    records = jr.Journal.read(jr.incident_path(directory, incident))
    if not records:
        raise JournalError(f"incident {incident} has no record to anchor")
    head = records[-1]
    path = Path(directory) / ANCHORS
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        lines = _lines(path.read_bytes())
        entry: dict[str, Any] = {
            "n": len(lines),
            "incident": incident,
            "seq": head.seq,
            "hash": head.hash,
            "records": len(records),
            "ts": clock().astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "prev": hashlib.sha256(lines[-1]).hexdigest() if lines else "",
            "alg": ALGORITHM,
            "key_id": key_id(key.public_key()),
        }
        entry["sig"] = _b64(key.sign(_canonical(entry)))
        os.write(fd, _canonical(entry) + b"\n")
        os.fsync(fd)
    except OSError as exc:
        raise JournalError(f"cannot write {path}: {exc.strerror}") from exc
    finally:
        os.close(fd)
    return entry


def verify_anchors(
    directory: Path, public_key_file: Path, incident: str | None = None
) -> AnchorReport:
    """Check the anchor file's signatures and links, then each incident against its anchor
    (only ``incident`` when given)."""
    from cryptography.exceptions import InvalidSignature

    public = load_public_key(public_key_file)
    report = AnchorReport(key_id(public))
    path = Path(directory) / ANCHORS
    raw = path.read_bytes() if path.exists() else b""
    latest: dict[str, dict[str, Any]] = {}
    prev = ""
    for number, line in enumerate(_lines(raw), start=1):
        entry = _parse(line)
        where = f"{ANCHORS} line {number}"
        if entry is None:
            report.problems.append(f"{where}: not an anchor entry")
            prev = hashlib.sha256(line).hexdigest()
            continue
        body = {k: v for k, v in entry.items() if k != "sig"}
        if entry.get("key_id") != report.key_id:
            report.problems.append(
                f"{where}: signed by key {entry.get('key_id')}, not the configured "
                f"{report.key_id}: the anchors were re-signed with another key"
            )
        try:
            public.verify(base64.urlsafe_b64decode(str(entry.get("sig", ""))), _canonical(body))
        except (InvalidSignature, ValueError):
            report.problems.append(f"{where}: the signature does not verify")
        if entry.get("n") != number - 1 or entry.get("prev") != prev:
            report.problems.append(f"{where}: does not follow the line before it")
        prev = hashlib.sha256(line).hexdigest()
        latest[str(entry.get("incident"))] = entry
    wanted = _incidents(Path(directory)) | set(latest)
    for name in sorted(wanted if incident is None else {incident}):
        report.incidents[name] = _check_incident(Path(directory), name, latest.get(name))
    return report


def _check_incident(directory: Path, incident: str, entry: dict[str, Any] | None) -> list[str]:
    """What is wrong between one incident's journal and its latest anchor."""
    path = directory / f"{incident}.jsonl"
    if not path.exists():
        if entry is not None:
            return [f"anchored at seq {entry.get('seq')} but its journal is gone: removed"]
        return []
    try:
        records = jr.Journal.read(path)
    except JournalError:
        return ["its chain is broken, so it cannot match its anchor"]
    if entry is None:
        if any(r.kind == jr.Kind.END for r in records):
            return ["finished but not anchored: its anchor was removed, or it ended unsigned"]
        return []
    seq = entry.get("seq")
    at = next((r for r in records if r.seq == seq), None)
    if at is None or at.hash != entry.get("hash"):
        return [
            f"the record at the anchored seq {seq} does not match the signed head: "
            "the journal was rewritten"
        ]
    if records[-1].seq != at.seq:
        return [f"{records[-1].seq - at.seq} record(s) after the anchored head are unsigned"]
    return []


def _incidents(directory: Path) -> set[str]:
    return {p.stem for p in directory.glob("*.jsonl") if jr.INCIDENT_ID.fullmatch(p.stem)}


def _read_key(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read key file {path}: {exc.strerror}") from exc


def _lines(data: bytes) -> list[bytes]:
    return [line for line in data.split(b"\n") if line.strip()]


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) and "sig" in obj else None


def _canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")
