"""The incident journal: one append-only, hash-chained JSONL file per incident.

``<dir>/<incident>.jsonl`` holds one canonical JSON object per line (sorted keys, compact
separators, ASCII); ``<dir>/<incident>.head`` holds ``{"hash", "seq"}`` of the last record,
so records cut from the tail are noticed. A record::

    {"seq": 0, "ts": "2025-01-31T12:00:00.000000Z", "kind": "incident-start", "prev": "",
     ...payload fields..., "hash": "<sha256 hex of the canonical JSON without hash>"}

``prev`` is the hash of the record before ("" for the first). Kinds and their payloads:

- ``incident-start``: incident, who {os_user, responder}, why, playbook, agent, plan_hash,
  plan, restore_of (an incident id or null), lab (bool)
- ``intent``: step, provider, action, target; durable before the provider is called
- ``snapshot``: step, data;  ``result``: step, status, error, detail;  ``note``: text
- ``repair``: dropped_bytes, reason (a torn tail left by a crash was cut)
- ``plan``: plan_hash, plan: the whole plan of a run that cut first (its start record
  holds the first cut, marked ``growing``); it supersedes the start's (:func:`plan_of`)
- ``incident-end``: status (complete, partial, failed), counts (steps per status),
  providers ({name: "answered" | "unavailable: why"})

Every payload passes through :func:`redact` first: no secret value is ever written.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from agent_ir import boundedjson
from agent_ir.errors import JournalError, NotFoundError
from agent_ir.redact import redact

INCIDENT_ID = re.compile(r"IR-\d{8}-\d{6}-[0-9a-f]{4}")
ENVELOPE = ("seq", "ts", "kind", "prev", "hash")


class Kind(StrEnum):
    """The record kinds the engine writes; :meth:`Journal.append` accepts any other too."""

    START = "incident-start"
    INTENT = "intent"
    SNAPSHOT = "snapshot"
    RESULT = "result"
    NOTE = "note"
    REPAIR = "repair"
    PLAN = "plan"
    """The whole plan, once a run that cut first (from its start record's first-cut plan)
    has read the rest of the agent's closure; it supersedes the start record's plan."""
    END = "incident-end"


@dataclass(frozen=True, slots=True)
class Record:
    """One journal line: the envelope fields and the kind's payload."""

    seq: int
    ts: str
    kind: str
    prev: str
    hash: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What :func:`verify` found; every problem names its line."""

    incident: str
    records: int
    ok: bool
    problems: list[str]


@dataclass(frozen=True, slots=True)
class IncidentSummary:
    """One line of :func:`list_incidents`; status is "unreadable" without a start record."""

    id: str
    started: datetime | None
    agent: str | None
    playbook: str | None
    status: str
    restore_of: str | None


def new_incident_id(now: datetime) -> str:
    """A fresh id ``IR-YYYYMMDD-HHMMSS-xxxx`` from ``now`` in UTC (naive means UTC)."""
    moment = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    return f"IR-{moment:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def incident_path(directory: Path | str, incident_id: str) -> Path:
    """The journal file of an incident; NotFoundError if the id is not one."""
    if not INCIDENT_ID.fullmatch(incident_id):
        raise NotFoundError(f"{incident_id!r} is not an incident id (IR-YYYYMMDD-HHMMSS-xxxx)")
    return Path(directory) / f"{incident_id}.jsonl"


def incident_start(
    *,
    os_user: str,
    responder: str,
    why: str,
    playbook: str,
    agent: str,
    plan_hash: str,
    plan: Any,
    restore_of: str | None = None,
    lab: bool = False,
) -> dict[str, Any]:
    """The payload of an ``incident-start`` record (the incident id is added on create)."""
    return {
        "who": {"os_user": os_user, "responder": responder},
        "why": why,
        "playbook": playbook,
        "agent": agent,
        "plan_hash": plan_hash,
        "plan": plan,
        "restore_of": restore_of,
        "lab": lab,
    }


def plan_of(records: list[Record]) -> dict[str, Any]:
    """The plan an incident ran: the last whole-plan record, else its start record's plan
    (a run that cut first journals its first cut at the start and the whole plan later)."""
    for record in reversed(records):
        if record.kind == Kind.PLAN and isinstance(record.payload.get("plan"), dict):
            plan: dict[str, Any] = record.payload["plan"]
            return plan
    if records and records[0].kind == Kind.START:
        start_plan = records[0].payload.get("plan")
        if isinstance(start_plan, dict):
            return start_plan
    return {}


def _canonical(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _digest(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(body).encode("ascii")).hexdigest()


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Journal:
    """An incident's journal, open for appending under an exclusive lock.

    Build one with :meth:`create` or :meth:`open`; use it as a context manager. Every
    failure is a :class:`JournalError`; an unknown incident is a :class:`NotFoundError`.
    """

    def __init__(
        self, path: Path, fd: int, records: list[Record], clock: Callable[[], datetime]
    ) -> None:
        self.path = path
        self.incident = path.stem
        self._fd: int | None = fd
        self._records = records
        self._clock = clock
        self._broken = False
        self._lock = threading.Lock()  # providers' steps may append from several threads

    @classmethod
    def create(
        cls,
        directory: Path | str,
        incident_id: str,
        start_payload: Mapping[str, Any],
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> Self:
        """Start a new incident's journal with its ``incident-start`` record."""
        path = incident_path(directory, incident_id)
        if start_payload.get("incident", incident_id) != incident_id:
            raise JournalError(f"start payload names another incident than {incident_id}")
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"cannot create {path.parent}: {exc.strerror}") from exc
        line, record = _encode(Kind.START, {**start_payload, "incident": incident_id}, None, clock)
        _publish_first(path, line)
        fd = _open_locked(path, os.O_RDWR)
        journal = cls(path, fd, [record], clock)
        try:
            journal._write_head()
        except JournalError:
            journal.close()
            raise
        return journal

    @classmethod
    def open(
        cls,
        directory: Path | str,
        incident_id: str,
        *,
        clock: Callable[[], datetime] = _utcnow,
        force: bool = False,
    ) -> Self:
        """Reopen an incident to append (resume); a torn tail is cut and a repair recorded.

        ``force`` appends to a journal that fails verification (the caller notes why)."""
        path = incident_path(directory, incident_id)
        fd = _open_locked(path, os.O_RDWR)
        try:
            if force:
                data = _read(path)
                scan = _scan(data, path.stem)
            else:
                data, scan = _checked_scan(path)
            if not scan.records:
                raise JournalError(f"journal {path} holds no complete record")
            problem, behind = _head_check(path, scan.records, scan.lines)
            if problem and not behind and not force:
                raise JournalError(f"journal {path}: {problem}")
            journal = cls(path, fd, scan.records, clock)
            if scan.torn_at is not None:
                try:
                    os.ftruncate(fd, scan.torn_at)
                    os.fsync(fd)
                except OSError as exc:
                    raise JournalError(f"cannot repair journal {path}: {exc.strerror}") from exc
                dropped = len(data) - scan.torn_at
                journal.append(Kind.REPAIR, {"dropped_bytes": dropped, "reason": "torn tail"})
            elif behind or (problem and force):
                journal._write_head()
        except BaseException:
            os.close(fd)
            raise
        return journal

    @staticmethod
    def read(path: Path | str) -> list[Record]:
        """Every complete record of a journal file, checked; a torn tail is left out.

        Raises JournalError if a complete line is damaged or the chain is broken. The head
        file is not consulted (a writer may be between its two writes); :func:`verify` does.
        """
        return _checked_scan(Path(path))[1].records

    def records(self) -> list[Record]:
        """Every record of this incident, oldest first."""
        return list(self._records)

    def append(self, kind: str, payload: Mapping[str, Any]) -> Record:
        """Redact, write, flush and fsync one record, then update the head file."""
        with self._lock:
            if self._fd is None:
                raise JournalError(f"journal of {self.incident} is closed")
            if self._broken:
                raise JournalError(
                    f"a write to {self.path} failed; open the incident again to repair"
                )
            last = self._records[-1] if self._records else None
            line, record = _encode(kind, payload, last, self._clock)
            try:
                _write_all(self._fd, line)
                os.fsync(self._fd)
            except OSError as exc:
                self._broken = True
                raise JournalError(f"cannot write journal {self.path}: {exc.strerror}") from exc
            self._records.append(record)
            self._write_head()
            return record

    def append_many(
        self, items: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[Record | JournalError]:
        """Redact and write several records, chained in order, with one flush, one fsync
        and one head update for all of them (a run's concurrent steps commit together;
        each record is on disk when this returns, as with :meth:`append`). A payload that
        cannot be journaled gets its error in its place; the others are written."""
        with self._lock:
            if self._fd is None:
                raise JournalError(f"journal of {self.incident} is closed")
            if self._broken:
                raise JournalError(
                    f"a write to {self.path} failed; open the incident again to repair"
                )
            last = self._records[-1] if self._records else None
            lines: list[bytes] = []
            records: list[Record] = []
            out: list[Record | JournalError] = []
            for kind, payload in items:
                try:
                    line, record = _encode(kind, payload, last, self._clock)
                except JournalError as exc:
                    out.append(exc)
                    continue
                lines.append(line)
                records.append(record)
                out.append(record)
                last = record
            if not records:
                return out
            try:
                _write_all(self._fd, b"".join(lines))
                os.fsync(self._fd)
            except OSError as exc:
                self._broken = True
                raise JournalError(f"cannot write journal {self.path}: {exc.strerror}") from exc
            self._records.extend(records)
            self._write_head()
            return out

    def intent(self, step: str, provider: str, action: str, target: Any) -> Record:
        """Record a step about to run; it is on disk when this returns, before the call."""
        return self.append(
            Kind.INTENT, {"step": step, "provider": provider, "action": action, "target": target}
        )

    def snapshot(self, step: str, data: Any) -> Record:
        """Record the state a step changes, for restore."""
        return self.append(Kind.SNAPSHOT, {"step": step, "data": data})

    def result(
        self, step: str, status: str, *, error: str | None = None, detail: Any = None
    ) -> Record:
        """Record how a step ended (verified, applied-unverified, already, skipped, failed)."""
        return self.append(
            Kind.RESULT, {"step": step, "status": status, "error": error, "detail": detail}
        )

    def note(self, text: str) -> Record:
        """Record a free note."""
        return self.append(Kind.NOTE, {"text": text})

    def end(
        self,
        status: str,
        counts: Mapping[str, int],
        *,
        providers: Mapping[str, str] | None = None,
    ) -> Record:
        """Record the end of the incident with its outcome, step counts per status and,
        when given, whether each provider answered ("answered" / "unavailable: why")."""
        payload: dict[str, Any] = {"status": status, "counts": dict(counts)}
        if providers is not None:
            payload["providers"] = dict(providers)
        return self.append(Kind.END, payload)

    def close(self) -> None:
        """Release the lock and the file; closing twice is harmless."""
        with self._lock:
            if self._fd is not None:
                fd, self._fd = self._fd, None
                os.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _write_head(self) -> None:
        last = self._records[-1]
        head = self.path.with_suffix(".head")
        data = (_canonical({"seq": last.seq, "hash": last.hash}) + "\n").encode()
        try:
            # A fresh private temp file (O_EXCL, never a path someone planted), then rename.
            fd, tmp = tempfile.mkstemp(prefix=f".{head.name}.", suffix=".tmp", dir=head.parent)
            try:
                try:
                    _write_all(fd, data)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.replace(tmp, head)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
            _fsync_dir(self.path.parent)
        except OSError as exc:
            raise JournalError(f"cannot write head file {head}: {exc.strerror}") from exc


def _encode(
    kind: str,
    payload: Mapping[str, Any],
    last: Record | None,
    clock: Callable[[], datetime],
) -> tuple[bytes, Record]:
    """Redact a payload and chain it after ``last``: the line to write and its record."""
    clash = sorted(set(payload) & set(ENVELOPE))
    if not kind or clash:
        raise JournalError(f"a record needs a kind and its payload may not set {ENVELOPE}")
    try:
        clean: dict[str, Any] = redact(dict(payload))
    except TypeError as exc:
        raise JournalError(f"payload cannot be journaled: {exc}") from None
    ts = clock().astimezone(UTC).isoformat(timespec="microseconds")
    body = {
        **clean,
        "seq": last.seq + 1 if last else 0,
        "ts": ts.replace("+00:00", "Z"),
        "kind": str(kind),
        "prev": last.hash if last else "",
    }
    try:
        digest = _digest(body)
    except (TypeError, ValueError) as exc:
        raise JournalError(f"the {kind} payload is not plain JSON: {exc}") from exc
    line = _canonical({**body, "hash": digest}) + "\n"
    record = Record(body["seq"], body["ts"], body["kind"], body["prev"], digest, clean)
    return line.encode("ascii"), record


def _publish_first(path: Path, line: bytes) -> None:
    """Create a journal holding its first record, whole or not at all: the line is written
    and synced in a private temp file, then linked to its name (never over an existing
    one), so a crash at any moment leaves either no journal or a complete first line."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise JournalError(f"cannot create a journal in {path.parent}: {exc.strerror}") from exc
    try:
        try:
            _write_all(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, path)
    except FileExistsError as exc:
        raise JournalError(f"incident {path.stem} already exists in {path.parent}") from exc
    except OSError as exc:
        raise JournalError(f"cannot create journal {path}: {exc.strerror}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_dir(path.parent)


def verify(path: Path | str) -> VerifyReport:
    """Check a journal file: every hash, seq, prev link, the tail and the head file."""
    path = Path(path)
    data = _read(path)
    scan = _scan(data, path.stem)
    problems = list(scan.problems)
    if scan.torn_at is not None:
        problems.append(
            f"line {scan.lines + 1}: torn tail of {len(data) - scan.torn_at} bytes "
            "from an interrupted write; open the incident to repair it"
        )
    if not scan.records and not problems:
        problems.append("line 1: the journal holds no record")
    problem, _ = _head_check(path, scan.records, scan.lines)
    if problem:
        problems.append(problem)
    return VerifyReport(path.stem, len(scan.records), not problems, problems)


def read_unchecked(path: Path | str) -> list[Record]:
    """Every record that parses, without checking the chain (for ``--force`` only)."""
    path = Path(path)
    return _scan(_read(path), path.stem).records


def verify_all(directory: Path | str) -> list[VerifyReport]:
    """Verify every incident in a directory, oldest id first; a lone head file is reported."""
    directory = Path(directory)
    stems = {p.stem for p in directory.glob("*.jsonl")} | {p.stem for p in directory.glob("*.head")}
    reports = []
    for incident in sorted(s for s in stems if INCIDENT_ID.fullmatch(s)):
        path = directory / f"{incident}.jsonl"
        if path.exists():
            reports.append(_verify_one(path))
        else:
            problem = "line 1: the journal file is gone but its head file remains"
            reports.append(VerifyReport(incident, 0, False, [problem]))
    return reports


def _verify_one(path: Path) -> VerifyReport:
    """Verify one file; a file that cannot even be read is reported, never raised, so one
    damaged incident never stops the verification of the others."""
    try:
        return verify(path)
    except (JournalError, NotFoundError) as exc:
        return VerifyReport(path.stem, 0, False, [f"line 1: {exc.message}"])
    except RecursionError:
        return VerifyReport(path.stem, 0, False, ["a line is nested too deeply to read"])


def list_incidents(directory: Path | str) -> list[IncidentSummary]:
    """A summary of every incident in a directory, newest first."""
    summaries = []
    for path in Path(directory).glob("*.jsonl"):
        if not INCIDENT_ID.fullmatch(path.stem):
            continue
        try:
            records = _scan(_read(path), path.stem).records
        except (JournalError, NotFoundError, RecursionError):
            records = []
        first = records[0].payload if records and records[0].kind == Kind.START else None
        if first is None:
            summaries.append(IncidentSummary(path.stem, None, None, None, "unreadable", None))
            continue
        ends = [r for r in records if r.kind == Kind.END]
        status = str(ends[-1].payload.get("status", "ended")) if ends else "unfinished"
        summaries.append(
            IncidentSummary(
                path.stem,
                _parse_ts(records[0].ts),
                _text(first.get("agent")),
                _text(first.get("playbook")),
                status,
                _text(first.get("restore_of")),
            )
        )
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(summaries, key=lambda s: (s.started or oldest, s.id), reverse=True)


@dataclass(slots=True)
class _Scan:
    records: list[Record]
    problems: list[str]
    lines: int
    torn_at: int | None


def _scan(data: bytes, incident: str) -> _Scan:
    """Parse and check every complete line; a last line without newline or JSON is torn."""
    end = data.rfind(b"\n") + 1
    lines = data[:end].split(b"\n")[:-1]
    torn_at = end if end < len(data) else None
    if torn_at is None and lines and _parse(lines[-1]) is None:
        torn_at = end - len(lines.pop()) - 1
    records: list[Record] = []
    problems: list[str] = []
    for number, raw in enumerate(lines, start=1):
        obj = _parse(raw)
        if obj is None:
            problems.append(f"line {number}: not a JSON object")
            continue
        seq, texts = obj.get("seq"), [obj.get(k) for k in ("ts", "kind", "prev", "hash")]
        if type(seq) is not int or not all(isinstance(t, str) for t in texts):
            problems.append(f"line {number}: missing or malformed seq, ts, kind, prev or hash")
            continue
        ts, kind, prev, digest = (str(t) for t in texts)
        payload = {k: v for k, v in obj.items() if k not in ENVELOPE}
        record = Record(seq, ts, kind, prev, digest, payload)
        problems += _check(number, raw, obj, record, records[-1] if records else None, incident)
        records.append(record)
    return _Scan(records, problems, len(lines), torn_at)


def _check(
    number: int, raw: bytes, obj: dict[str, Any], record: Record, prev: Record | None, incident: str
) -> list[str]:
    found = []
    try:
        digest = _digest({k: v for k, v in obj.items() if k != "hash"})
        canonical = _canonical(obj).encode("ascii") == raw
    except ValueError:
        digest, canonical = "", False
    if digest != record.hash:
        found.append(f"line {number}: hash mismatch: the record was edited")
    elif not canonical:
        found.append(f"line {number}: not in canonical form: the line was edited")
    want = prev.seq + 1 if prev else 0
    if record.seq != want:
        found.append(
            f"line {number}: seq {record.seq} where {want} was expected: "
            "a record was deleted, inserted or moved"
        )
    if record.prev != (prev.hash if prev else ""):
        found.append(f"line {number}: prev does not match the hash of the record before it")
    if prev is None and (record.kind != Kind.START or record.payload.get("incident") != incident):
        found.append(f"line {number}: the first record is not the incident-start of {incident}")
    if _parse_ts(record.ts) is None:
        found.append(f"line {number}: ts {record.ts!r} is not an ISO-8601 time")
    return found


def _head_check(path: Path, records: list[Record], line: int) -> tuple[str | None, bool]:
    """Compare the head file with the last record: (problem, whether only one record behind)."""
    head_path = path.with_suffix(".head")
    if not records:
        return None, False
    try:
        head = boundedjson.loads(head_path.read_bytes())
        seq, digest = head["seq"], head["hash"]
    except FileNotFoundError:
        missing = f"line {line}: the head file {head_path.name} is missing"
        if len(records) == 1:
            return missing + " (a crash before its update)", True
        return missing, False
    except OSError as exc:
        raise JournalError(f"cannot read head file {head_path}: {exc.strerror}") from exc
    except (ValueError, KeyError, TypeError):
        return f"line {line}: the head file {head_path.name} is unreadable", False
    last = records[-1]
    if (seq, digest) == (last.seq, last.hash):
        return None, False
    if len(records) > 1 and (seq, digest) == (records[-2].seq, records[-2].hash):
        return f"line {line}: the head file is one record behind (a crash before its update)", True
    if isinstance(seq, int) and seq > last.seq:
        return (
            f"line {line}: the journal ends at seq {last.seq} but the head file says {seq}: "
            "records were deleted from the tail"
        ), False
    return f"line {line}: the head file (seq {seq}) does not match the last record", False


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        obj = boundedjson.loads(raw)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def _parse_ts(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise NotFoundError(f"no journal {path}") from exc
    except OSError as exc:
        raise JournalError(f"cannot read journal {path}: {exc.strerror}") from exc


def _checked_scan(path: Path) -> tuple[bytes, _Scan]:
    data = _read(path)
    scan = _scan(data, path.stem)
    if scan.problems:
        raise JournalError(f"journal {path} fails verification:\n  " + "\n  ".join(scan.problems))
    return data, scan


def _open_locked(path: Path, flags: int) -> int:
    """Open a journal file for appending and take its lock, or say why not."""
    try:
        fd = os.open(path, flags | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    except FileExistsError as exc:
        raise JournalError(f"incident {path.stem} already exists in {path.parent}") from exc
    except FileNotFoundError as exc:
        raise NotFoundError(f"no incident {path.stem} in {path.parent}") from exc
    except OSError as exc:
        raise JournalError(f"cannot open journal {path}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        busy = isinstance(exc, BlockingIOError)
        why = "is in use: another writer holds its lock" if busy else "cannot be locked"
        raise JournalError(f"incident {path.stem} {why}") from exc
    return fd


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
