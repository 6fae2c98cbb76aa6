"""The lab's request log: what each emulator was asked, in order, for tests and benchmarks.

A test that must show a scoped read never touched an identity outside an agent's closure
counts requests, not seconds; a benchmark's time to first cut is when the first write
arrived. Both read this log through the control plane (``GET /_lab/requests``).

Only what names a resource is kept: method, path, query and the parameters of a form body
(AWS's Query protocol puts ``Action`` and ``UserName`` there), the answer's status (0 when
none was sent: a reset or a timeout) and a digest of the body, so that a benchmark can
count lost or repeated writes without the body. JSON bodies are not kept, and form
parameters that may carry a secret are dropped, so the log is safe to print.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

CAPACITY = 200_000
"""How many requests are kept (the oldest go first): enough for a 10,000-agent inventory."""

_SECRET_WORDS = ("secret", "password", "assertion", "token", "credential")
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_READ_ACTION_PREFIXES = ("Get", "List", "Describe", "Simulate", "Generate", "Assume")
_READ_POST_SUFFIXES = (":getIamPolicy", ":testIamPermissions", "/token", ":search", "/getByIds")


@dataclass(slots=True)
class LoggedRequest:
    """One request as the log keeps it."""

    at: float
    """Wall-clock arrival (``time.time()``), comparable with another process's clock."""
    method: str
    path: str
    query: str
    params: tuple[tuple[str, str], ...]
    digest: str = ""
    """The first 16 hex digits of the body's SHA-256 (never the body: it may hold a secret)."""
    status: int = field(default=0)
    """The answer's HTTP status, set when it is sent (0: none was sent)."""
    work: int = field(default=0)
    """Entities of the emulator's store the answer touched (see :mod:`agent_ir.lab.work`)."""
    answered: float = field(default=0.0)
    """Wall clock when the emulator had its answer (0: none): with ``at`` and the injected
    latency, how long the emulator itself took, so benchmarks can tell its time apart."""

    @property
    def action(self) -> str:
        """AWS's Query-protocol action (``Action=...``), or empty."""
        return next((v for k, v in self.params if k == "Action"), "")

    @property
    def writes(self) -> bool:
        """Whether the request changes state: a write method that is not a read in disguise
        (AWS's Query protocol POSTs its reads; GCP's getIamPolicy, Graph's getByIds and token
        calls are POSTs). Signing in (a token, an STS AssumeRole) is not a write."""
        if self.method not in _WRITE_METHODS:
            return False
        if self.action:
            return not self.action.startswith(_READ_ACTION_PREFIXES)
        return not self.path.endswith(_READ_POST_SUFFIXES)

    def to_json(self) -> dict[str, Any]:
        """The shape ``GET /_lab/requests`` answers with."""
        return {
            "at": self.at,
            "t": self.at,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "params": dict(self.params),
            "action": self.action,
            "writes": self.writes,
            "status": self.status,
            "digest": self.digest,
            "work": self.work,
            "answered": self.answered,
        }


def form_params(body: bytes, content_type: str | None) -> tuple[tuple[str, str], ...]:
    """A form body's parameters, without any that may carry a secret."""
    if not body or not (content_type or "").startswith("application/x-www-form-urlencoded"):
        return ()
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return tuple((k, v) for k, v in pairs if not any(w in k.lower() for w in _SECRET_WORDS))


class RequestLog:
    """A bounded, thread-safe log of the requests one emulator served."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._lock = threading.Lock()
        self._entries: deque[LoggedRequest] = deque(maxlen=capacity)

    def record(
        self, method: str, path: str, query: str, body: bytes, content_type: str | None
    ) -> LoggedRequest:
        """Keep one arriving request; the caller sets its ``status`` when it answers."""
        digest = hashlib.sha256(body).hexdigest()[:16] if body else ""
        params = form_params(body, content_type)
        entry = LoggedRequest(time.time(), method, path, query, params, digest)
        with self._lock:
            self._entries.append(entry)
        return entry

    def entries(self) -> list[LoggedRequest]:
        """Every kept request, oldest first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every request (a test's starting line)."""
        with self._lock:
            self._entries.clear()
