"""Receivers the lab runs so evidence delivery can be watched end to end over real sockets.

:class:`SetReceiver` is a Shared Signals receiver taking pushed Security Event Tokens
(RFC 8935): it verifies each token's signature with the transmitter's public key, its
``typ`` (``secevent+jwt``), issuer and audience, keeps each ``jti`` once, and answers 202,
or 400 with an RFC 8935 error code (``invalid_key``, ``invalid_issuer``,
``invalid_audience``, ``invalid_request``).

:class:`WebhookReceiver` takes agent-ir's signed webhook posts: it checks the HMAC over
``"<timestamp>.<body>"``, keeps each ``Idempotency-Key`` once (a repeat is answered 409 and
counted), and records the events. Setting ``fail_with`` to an HTTP status makes it refuse
everything, to show that a sink outage neither stops containment nor loses events.

:class:`HecReceiver` speaks enough of Splunk's HTTP Event Collector: ``Authorization:
Splunk <token>`` (401 code 2 without, 403 code 4 when wrong), a GUID in
``X-Splunk-Request-Channel`` (400 code 10 / 11), concatenated JSON event objects on
``/services/collector/event`` answered ``{"text": "Success", "code": 0, "ackId": N}``, and
``/services/collector/ack`` answering ``{"acks": {"N": true}}`` for what it holds. Like a
Splunk index it keeps every event it is sent, repeats included, and ``fail_with`` (500 or
503) refuses everything; ``hold_acks`` leaves every ack false (indexing never confirmed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import threading
import uuid
from abc import ABC, abstractmethod
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


class _Loopback(ABC):
    """An HTTPS server on loopback that hands every POST to the subclass's ``accept``."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def _base(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @abstractmethod
    def accept(self, headers: dict[str, str], body: bytes) -> int | tuple[int, dict[str, Any]]:
        """The status (and JSON body) to answer one post with."""

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class WebhookReceiver(_Loopback):
    """An HTTPS endpoint on loopback that verifies and records webhook deliveries."""

    def __init__(self, secret: bytes, context: ssl.SSLContext) -> None:
        self.secret = secret
        self.received = Received()
        self.fail_with: int | None = None
        super().__init__(context)

    @property
    def url(self) -> str:
        """Where to post."""
        return f"{self._base}/events"

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


_HEC_FAILURES = {500: (8, "Internal server error"), 503: (9, "Server is busy")}
_HecAnswer = tuple[int, dict[str, Any]]


class HecReceiver(_Loopback):
    """An HTTPS Splunk HTTP Event Collector on loopback, with indexer acknowledgement."""

    def __init__(self, token: str, context: ssl.SSLContext) -> None:
        self.token = token
        self.indexed: list[dict[str, Any]] = []
        self.channels: set[str] = set()
        self.acked: dict[str, set[int]] = {}
        self.ack_queries = 0
        self.rejected = 0
        self.fail_with: int | None = None
        self.hold_acks = False
        super().__init__(context)

    @property
    def url(self) -> str:
        """The collector's base URL (the sink appends ``/services/collector/...``)."""
        return self._base

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every indexed OCSF event, in arrival order, repeats included."""
        return [envelope["event"] for envelope in self.indexed]

    def accept(self, headers: dict[str, str], body: bytes) -> _HecAnswer:
        """Route one post by its path (the handler's ``:path`` pseudo-header)."""
        with self._lock:
            refused = self._refuse(headers)
            if refused is not None:
                return refused
            channel = headers["x-splunk-request-channel"]
            path = headers.get(":path", "").split("?")[0]
            if path == "/services/collector/event":
                return self._index(channel, body)
            if path == "/services/collector/ack":
                return self._ack(channel, body)
            return 404, {"text": "The requested URL was not found on this server.", "code": 404}

    def _refuse(self, headers: dict[str, str]) -> _HecAnswer | None:
        if self.fail_with is not None:
            code, text = _HEC_FAILURES.get(self.fail_with, (8, "Internal server error"))
            return self.fail_with, {"text": text, "code": code}
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme != "Splunk" or not token:
            self.rejected += 1
            return 401, {"text": "Token is required", "code": 2}
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            self.rejected += 1
            return 403, {"text": "Invalid token", "code": 4}
        channel = headers.get("x-splunk-request-channel", "")
        if not channel:
            return 400, {"text": "Data channel is missing", "code": 10}
        try:
            uuid.UUID(channel)
        except ValueError:
            return 400, {"text": "Invalid data channel", "code": 11}
        return None

    def _index(self, channel: str, body: bytes) -> _HecAnswer:
        """Parse the concatenated objects; all or nothing, as one ackId."""
        text, decoder, objects, at = body.decode("utf-8", "replace"), json.JSONDecoder(), [], 0
        while at < len(text.rstrip()):
            try:
                doc, at = decoder.raw_decode(text, at)
            except ValueError:
                return 400, {"text": "Invalid data format", "code": 6, "invalid-event-number": 0}
            if not isinstance(doc, dict) or "event" not in doc:
                return 400, {"text": "Event field is required", "code": 12}
            objects.append(doc)
            while at < len(text) and text[at].isspace():
                at += 1
        if not objects:
            return 400, {"text": "No data", "code": 5}
        self.indexed.extend(objects)
        self.channels.add(channel)
        held = self.acked.setdefault(channel, set())
        ack = len(held)
        held.add(ack)
        return 200, {"text": "Success", "code": 0, "ackId": ack}

    def _ack(self, channel: str, body: bytes) -> _HecAnswer:
        """True for every ackId this channel was given (indexing is immediate here)."""
        self.ack_queries += 1
        try:
            wanted = json.loads(body)["acks"]
        except (ValueError, KeyError, TypeError):
            return 400, {"text": "Invalid data format", "code": 6}
        held = set() if self.hold_acks else self.acked.get(channel, set())
        return 200, {"acks": {str(a): a in held for a in wanted if isinstance(a, int)}}


class SetReceiver(_Loopback):
    """An HTTPS push endpoint on loopback that verifies and records Security Event Tokens."""

    def __init__(
        self, public_key_pem: bytes, issuer: str, audience: str, context: ssl.SSLContext
    ) -> None:
        self.public_key_pem = public_key_pem
        self.issuer = issuer
        self.audience = audience
        self.tokens: dict[str, dict[str, Any]] = {}
        self.headers: dict[str, dict[str, Any]] = {}
        self.repeats = 0
        self.rejected: list[str] = []
        super().__init__(context)

    @property
    def url(self) -> str:
        """The push endpoint."""
        return f"{self._base}/ssf/push"

    def accept(self, headers: dict[str, str], body: bytes) -> int | tuple[int, dict[str, str]]:
        """Verify one pushed token; 202, or 400 with the RFC 8935 error."""
        import jwt

        if headers.get("content-type") != "application/secevent+jwt":
            return self._reject("invalid_request", "content type is not application/secevent+jwt")
        token = body.decode("ascii", "replace")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(
                token,
                self.public_key_pem,
                algorithms=["EdDSA", "RS256", "ES256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["iss", "iat", "jti", "aud", "events"]},
            )
        except jwt.InvalidAudienceError:
            return self._reject("invalid_audience", "aud")
        except jwt.InvalidIssuerError:
            return self._reject("invalid_issuer", "iss")
        except jwt.InvalidSignatureError:
            return self._reject("invalid_key", "signature")
        except jwt.PyJWTError as exc:
            return self._reject("invalid_request", type(exc).__name__)
        if header.get("typ") != "secevent+jwt" or "sub" in claims:
            return self._reject("invalid_request", "not a SET (typ, or a sub claim)")
        with self._lock:
            if claims["jti"] in self.tokens:
                self.repeats += 1
            self.tokens[claims["jti"]] = claims
            self.headers[claims["jti"]] = header
        return 202

    def _reject(self, err: str, description: str) -> tuple[int, dict[str, str]]:
        with self._lock:
            self.rejected.append(err)
        return 400, {"err": err, "description": description}


def _handler(receiver: _Loopback) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            headers[":path"] = self.path
            answer = receiver.accept(headers, body)
            code, doc = answer if isinstance(answer, tuple) else (answer, None)
            data = json.dumps(doc).encode() if doc else b""
            self.send_response(code)
            if doc:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests and the tabletop read ``received`` instead."""

    return Handler
