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


class SetReceiver:
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
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The push endpoint."""
        return f"https://127.0.0.1:{self._server.server_address[1]}/ssf/push"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

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


def _handler(receiver: WebhookReceiver | SetReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
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
