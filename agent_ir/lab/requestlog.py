"""What an emulator was asked: a bounded log of requests, for counting lost or repeated writes.

Each entry keeps the method, the path, the AWS-style ``Action`` of a form body (IAM and
STS send every call as a POST), the answer's status, when it was answered (``t``, epoch
seconds, for a benchmark's breakdown of a run) and a digest of the body (never the body: it
may carry a secret). ``GET /_lab/requests`` returns it; a reset empties it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from typing import Any
from urllib.parse import parse_qs

MAX_ENTRIES = 500_000


class RequestLog:
    """A thread-safe, bounded log of the requests an emulator answered."""

    def __init__(self, limit: int = MAX_ENTRIES) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def record(self, method: str, path: str, body: bytes, status: int) -> None:
        """Add one answered request."""
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "status": status,
            "t": time.time(),
            "digest": hashlib.sha256(body).hexdigest()[:16] if body else "",
        }
        if method == "POST" and (body[:7] == b"Action=" or b"&Action=" in body[:4096]):
            action = parse_qs(body[:4096].decode("latin-1")).get("Action")
            if action:
                entry["action"] = action[0]
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        """Every entry, oldest first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget everything (on reset)."""
        with self._lock:
            self._entries.clear()
