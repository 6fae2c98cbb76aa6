"""Receivers the lab runs so evidence delivery can be watched end to end over real sockets.

:class:`WebhookReceiver` takes agent-ir's signed webhook posts: it checks the HMAC over
``"<timestamp>.<body>"``, keeps each ``Idempotency-Key`` once (a repeat is answered 409 and
counted), and records the events. Setting ``fail_with`` to an HTTP status makes it refuse
everything, to show that a sink outage neither stops containment nor loses events.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass(slots=True)
class Received:
    """Everything a receiver accepted, and what it turned away."""

    deliveries: dict[str, dict[str, Any]] = field(default_factory=dict)
    repeats: int = 0
    rejected: int = 0

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every accepted event, in arrival order."""
        return [e for d in self.deliveries.values() for e in d.get("events", [])]


class WebhookReceiver:
    """An HTTPS endpoint on loopback that verifies and records webhook deliveries."""

    def __init__(self, secret: bytes, context: ssl.SSLContext) -> None:
        self.secret = secret
        self.received = Received()
        self.fail_with: int | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where to post."""
        return f"https://127.0.0.1:{self._server.server_address[1]}/events"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def accept(self, headers: dict[str, str], body: bytes) -> int:
        """The status to answer one post with; records it when accepted."""
        with self._lock:
            if self.fail_with is not None:
                return self.fail_with
            stamp = headers.get("x-agent-ir-timestamp", "")
            want = hmac.new(self.secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(headers.get("x-agent-ir-signature", ""), f"sha256={want}"):
                self.received.rejected += 1
                return 401
            key = headers.get("idempotency-key", "")
            if not key:
                return 400
            if key in self.received.deliveries:
                self.received.repeats += 1
                return 409
            self.received.deliveries[key] = json.loads(body)
            return 202


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            code = receiver.accept(headers, body)
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests and the tabletop read ``received`` instead."""

    return Handler
