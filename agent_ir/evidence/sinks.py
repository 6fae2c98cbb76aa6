"""Sinks: where the journal's OCSF events go as a run happens (a file, an HTTPS webhook,
a Splunk HTTP Event Collector).

The journal is the queue. Each sink keeps, in ``<journal dir>/sinks/<name>.json``, how far
it has delivered each incident (the last record's seq); whatever lies beyond is pending
and is delivered, in order, on the next attempt. Nothing is lost to a crash: the journal
is on disk before a sink hears of it, and the cursor moves only after the sink accepted.
A crash between the two re-sends one record, so every delivery carries an idempotency key
(``<incident>:<seq>:<hash>``): the webhook sends it as ``Idempotency-Key``, the file sink
skips keys it already holds, and Splunk gets it in each event's
``unmapped.agent_ir.delivery`` (HEC itself has no idempotency key; a search can dedupe).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import ssl
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from agent_ir.engine import journal as jr
from agent_ir.errors import DeliveryError, JournalError
from agent_ir.settings import (
    FileSinkSettings,
    SinkSettings,
    SplunkHecSinkSettings,
    WebhookSinkSettings,
)

STATE_DIR = "sinks"



def trust(ca_bundle: Path | None) -> ssl.SSLContext:
    """The TLS trust for a sink or receiver: the system's, or the configured CA bundle."""
    return ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)

class Sink(Protocol):
    """One destination; ``send`` raises DeliveryError when it did not take the batch."""

    name: str

    def send(self, key: str, incident: str, seq: int, events: list[dict[str, Any]]) -> None:
        """Deliver the events of one journal record, at most once per ``key``."""


@dataclass(slots=True)
class SinkStatus:
    """What one sink still has to deliver, and why the last attempt failed."""

    name: str
    type: str
    pending: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape of ``journal sinks``."""
        return {
            "name": self.name,
            "type": self.type,
            "pending_records": sum(self.pending.values()),
            "pending": self.pending,
            "last_error": self.last_error,
        }


class FileSink:
    """Appends NDJSON to a file, skipping events whose key the file already holds."""

    def __init__(self, settings: FileSinkSettings) -> None:
        self.name = settings.name
        self.path = settings.path

    def send(self, key: str, incident: str, seq: int, events: list[dict[str, Any]]) -> None:
        """Append each event with its delivery key in ``unmapped.agent_ir.delivery``."""
        if key in self._keys():
            return
        lines = "".join(json.dumps(_keyed(e, key), sort_keys=True) + "\n" for e in events)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, lines.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise DeliveryError(
                f"sink {self.name}: cannot write {self.path}: {exc.strerror}"
            ) from exc

    def _keys(self) -> set[str]:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return set()
        except OSError as exc:
            raise DeliveryError(
                f"sink {self.name}: cannot read {self.path}: {exc.strerror}"
            ) from exc
        keys = set()
        for line in text.splitlines():
            try:
                keys.add(json.loads(line)["unmapped"]["agent_ir"]["delivery"])
            except (ValueError, KeyError, TypeError):
                continue
        return keys


class WebhookSink:
    """POSTs ``{"incident", "seq", "events"}`` as JSON over HTTPS.

    Headers: ``Idempotency-Key``; ``X-Agent-IR-Timestamp`` (unix seconds) and
    ``X-Agent-IR-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``.
    Any 2xx, or 409 (already received), counts as delivered.
    """

    def __init__(self, settings: WebhookSinkSettings) -> None:
        self.name = settings.name
        self.settings = settings

    def send(self, key: str, incident: str, seq: int, events: list[dict[str, Any]]) -> None:
        """Sign and post one record's events."""
        import httpx

        body = json.dumps({"incident": incident, "seq": seq, "events": events}, sort_keys=True)
        stamp = str(int(time.time()))
        mac = hmac.new(self._secret(), f"{stamp}.{body}".encode(), hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "X-Agent-IR-Timestamp": stamp,
            "X-Agent-IR-Signature": f"sha256={mac}",
        }
        verify = trust(self.settings.ca_bundle)
        try:
            with httpx.Client(verify=verify, timeout=self.settings.timeout_s) as client:
                response = client.post(self.settings.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"sink {self.name}: {type(exc).__name__}: {exc}") from exc
        if not (response.is_success or response.status_code == 409):
            raise DeliveryError(f"sink {self.name}: HTTP {response.status_code}")

    def _secret(self) -> bytes:
        return read_secret(
            self.settings.hmac_secret_env, self.settings.hmac_secret_file, f"sink {self.name}"
        )


class SplunkHecSink:
    """Posts one record's events to ``/services/collector/event`` as concatenated JSON
    objects, then polls ``/services/collector/ack`` for its ``ackId``.

    HEC's 200 only says the data looked valid; indexer acknowledgement says it was indexed,
    so ``send`` returns (and the cursor moves) only once the ack is true, and raises when it
    is not within ``ack_timeout_s``: the record stays pending and is sent again.
    """

    EVENT_PATH = "/services/collector/event"
    ACK_PATH = "/services/collector/ack"

    def __init__(self, settings: SplunkHecSinkSettings) -> None:
        self.name = settings.name
        self.settings = settings
        self.channel = settings.channel or str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"agent-ir:{settings.name}:{settings.url}")
        )
        self.host = settings.host or socket.gethostname()

    def send(self, key: str, incident: str, seq: int, events: list[dict[str, Any]]) -> None:
        """Post the batch, then wait for Splunk to acknowledge indexing it."""
        import httpx

        body = "".join(json.dumps(self._envelope(e, key), sort_keys=True) for e in events)
        headers = {
            "Authorization": f"Splunk {self._token()}",
            "X-Splunk-Request-Channel": self.channel,
            "Content-Type": "application/json",
        }
        verify = trust(self.settings.ca_bundle)
        base = self.settings.url.rstrip("/")
        try:
            with httpx.Client(verify=verify, timeout=self.settings.timeout_s) as client:
                answer = self._answer(
                    client.post(base + self.EVENT_PATH, content=body, headers=headers)
                )
                ack = answer.get("ackId")
                if not isinstance(ack, int) or isinstance(ack, bool):
                    raise DeliveryError(
                        f"sink {self.name}: no ackId (enable indexer acknowledgement on the token)"
                    )
                self._await_ack(client, base + self.ACK_PATH, headers, ack)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"sink {self.name}: {type(exc).__name__}: {exc}") from exc

    def _envelope(self, event: dict[str, Any], key: str) -> dict[str, Any]:
        """HEC's event object: OCSF ``time`` is epoch milliseconds, HEC's epoch seconds."""
        envelope: dict[str, Any] = {
            "time": event.get("time", time.time() * 1000) / 1000,
            "host": self.host,
            "source": "agent-ir",
            "sourcetype": "ocsf",
            "event": _keyed(event, key),
        }
        if self.settings.index:
            envelope["index"] = self.settings.index
        return envelope

    def _await_ack(self, client: Any, url: str, headers: dict[str, str], ack: int) -> None:
        """Poll until the ack is true; bounded by ``ack_timeout_s``, backing off to 2 s."""
        deadline = time.monotonic() + self.settings.ack_timeout_s
        pause = 0.05
        while True:
            answer = self._answer(client.post(url, json={"acks": [ack]}, headers=headers))
            acks = answer.get("acks")
            if isinstance(acks, dict) and acks.get(str(ack)) is True:
                return
            if time.monotonic() + pause > deadline:
                raise DeliveryError(
                    f"sink {self.name}: ack {ack} not confirmed within "
                    f"{self.settings.ack_timeout_s:g}s"
                )
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    def _answer(self, response: Any) -> dict[str, Any]:
        """HEC's JSON answer on 200; otherwise its ``text`` and ``code`` in the error."""
        try:
            doc = response.json()
        except ValueError:
            doc = None
        doc = doc if isinstance(doc, dict) else {}
        if response.status_code == 200:
            return doc
        detail = ""
        if isinstance(doc.get("text"), str):
            detail = f" {doc['text'][:120]} (code {doc.get('code')})"
        raise DeliveryError(f"sink {self.name}: HTTP {response.status_code}{detail}")

    def _token(self) -> str:
        return read_secret(
            self.settings.token_env, self.settings.token_file, f"sink {self.name}"
        ).decode()


def read_secret(env: str | None, file: Path | None, what: str) -> bytes:
    """A secret from the variable or file the configuration names (never a literal)."""
    if env:
        value = os.environ.get(env)
        if not value:
            raise DeliveryError(f"{what}: the variable {env} is not set")
        return value.encode()
    if file:
        try:
            return file.read_bytes().strip()
        except OSError as exc:
            raise DeliveryError(f"{what}: cannot read {file}: {exc.strerror}") from exc
    raise DeliveryError(f"{what}: no secret configured (an _env or _file setting)")


def make_sink(settings: SinkSettings) -> Sink:
    """The sink a configuration entry describes."""
    if isinstance(settings, FileSinkSettings):
        return FileSink(settings)
    if isinstance(settings, SplunkHecSinkSettings):
        return SplunkHecSink(settings)
    return WebhookSink(settings)


def _keyed(event: dict[str, Any], key: str) -> dict[str, Any]:
    agent_ir = {**event.get("unmapped", {}).get("agent_ir", {}), "delivery": key}
    return {**event, "unmapped": {**event.get("unmapped", {}), "agent_ir": agent_ir}}


class Cursor:
    """A sink's delivered seq per incident, and its last error, in one small JSON file."""

    def __init__(self, directory: Path, name: str) -> None:
        self.path = directory / STATE_DIR / f"{name}.json"
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError) as exc:
            raise JournalError(f"cannot read sink state {self.path}: {exc}") from exc
        self.delivered: dict[str, int] = dict(data.get("delivered", {}))
        self.last_error: str | None = data.get("last_error")

    def save(self) -> None:
        """Write atomically: a crash leaves the old cursor or the new one, never half."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        data = {"delivered": self.delivered, "last_error": self.last_error}
        tmp.write_text(json.dumps(data, sort_keys=True))
        os.replace(tmp, self.path)


def _incidents(directory: Path, only: str | None) -> list[str]:
    if only is not None:
        return [only]
    found = (p.stem for p in directory.glob("*.jsonl") if jr.INCIDENT_ID.fullmatch(p.stem))
    return sorted(found)


def _records(directory: Path, incident: str) -> list[jr.Record]:
    path = jr.incident_path(directory, incident)
    try:
        return jr.Journal.read(path) if path.exists() else []
    except JournalError:
        return []  # a broken chain is not evidence to ship; `journal verify` reports it


def status(sinks: list[SinkSettings], directory: Path) -> list[SinkStatus]:
    """What every configured sink still has to deliver."""
    out = []
    for settings in sinks:
        cursor = Cursor(directory, settings.name)
        state = SinkStatus(settings.name, settings.type, last_error=cursor.last_error)
        for incident in _incidents(directory, None):
            records = _records(directory, incident)
            done = cursor.delivered.get(incident, -1)
            waiting = sum(1 for r in records if r.seq > done)
            if waiting:
                state.pending[incident] = waiting
        out.append(state)
    return out


def deliver(sinks: list[SinkSettings], directory: Path, only: str | None = None) -> list[str]:
    """Deliver everything pending to every sink, in journal order; the errors, one per
    sink that stopped (its remaining records stay pending)."""
    from agent_ir.evidence.ocsf import Mapper

    errors = []
    for settings in sinks:
        sink, cursor = make_sink(settings), Cursor(directory, settings.name)
        try:
            for incident in _incidents(directory, only):
                done = cursor.delivered.get(incident, -1)
                mapper = Mapper()
                for record in _records(directory, incident):
                    events = mapper.map(record)
                    if record.seq <= done:
                        continue
                    if events:
                        key = f"{incident}:{record.seq}:{record.hash[:16]}"
                        sink.send(key, incident, record.seq, events)
                    cursor.delivered[incident] = done = record.seq
                    cursor.last_error = None
                    cursor.save()
        except DeliveryError as exc:
            cursor.last_error = exc.message
            cursor.save()
            errors.append(exc.message)
    return errors
