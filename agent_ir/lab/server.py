"""The HTTPS server every provider emulator runs on, with fault injection in front of it.

An emulator is an *app*: a callable taking a :class:`LabRequest` and returning a
:class:`LabResponse`. :class:`EmulatorServer` serves it on an ephemeral loopback port over
TLS (HTTP/1.1 keep-alive, one daemon thread per connection) and, before the app sees a
request, draws its fate from the emulator's :class:`~agent_ir.lab.faults.FaultState`:

* latency: the request waits ``latency_ms`` (+ jitter) first;
* ``error`` / ``throttle``: the emulator's :class:`FaultShapes` answer in the provider's shape;
* ``reset``: the TCP connection is aborted with a real RST and no answer;
* ``timeout``: the request hangs ``timeout_s``, then the connection is dropped unanswered;
* ``malformed``: a 200 whose body no client can read (see ``FaultSpec.malformed``).

Paths under ``/_lab/`` are the control plane and never suffer faults::

    GET  /_lab/health   200 {"status": "ok", "provider": ...}
    GET  /_lab/faults   the FaultSpec in force, with request and fault counts
    PUT  /_lab/faults   replace the FaultSpec (invalid → 400 with every problem)
    POST /_lab/reset    restore the emulator's seeded state (when it supports that)
    GET  /_lab/requests the request log (see :mod:`agent_ir.lab.requestlog`)
    DELETE /_lab/requests  forget the logged requests
"""

from __future__ import annotations

import gc
import json
import logging
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any
from urllib.parse import parse_qs

from pydantic import ValidationError

from agent_ir.errors import AgentIRError, LabError
from agent_ir.lab.faults import Fault, FaultSpec, FaultState
from agent_ir.lab.requestlog import RequestLog
from agent_ir.lab.tls import LabTLS
from agent_ir.lab.work import counting

CONTROL_PREFIX = "/_lab"
MAX_BODY_BYTES = 32 * 1024 * 1024
_POLL_INTERVAL_S = 0.05
_HANDSHAKE_TIMEOUT_S = 10.0
_IDLE_TIMEOUT_S = 120.0
_DRAIN_TIMEOUT_S = 2.0

log = logging.getLogger(__name__)

_HEAP = {"frozen": False}


def freeze_heap() -> None:
    """In a process that only serves the lab (``lab serve``): keep the seeded world out of
    the garbage collector's full passes, now and after every reset. At ten thousand agents
    the four emulators hold over a million tracked objects, and one full pass over them
    took 2.2 s on a loaded machine (measured in process), stalling every emulator's
    answers mid-request, as no provider does."""
    _HEAP["frozen"] = True
    settle_heap()


def settle_heap() -> None:
    """After the seeded state changed wholesale: collect what the old state left (it was
    frozen with it) and freeze the new one (only once :func:`freeze_heap` was called)."""
    if _HEAP["frozen"]:
        gc.unfreeze()
        gc.collect()
        gc.freeze()


@dataclass(frozen=True, slots=True)
class LabRequest:
    """One HTTP request as an emulator sees it.

    ``path`` is the request path exactly as sent (still percent-encoded, without the query);
    ``query`` is the raw query string; ``headers`` keeps every header in order.
    """

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str, default: str | None = None) -> str | None:
        """The value of a header (case-insensitive; repeated headers joined by commas)."""
        wanted = name.lower()
        values = [value for key, value in self.headers if key.lower() == wanted]
        return ", ".join(values) if values else default

    @property
    def query_params(self) -> dict[str, list[str]]:
        """The query string parsed into lists of values."""
        return parse_qs(self.query, keep_blank_values=True)

    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` when it is not)."""
        return json.loads(self.body or b"null")


@dataclass(slots=True)
class LabResponse:
    """One HTTP response from an emulator; the server adds ``Content-Length`` itself."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def from_json(
        cls, status: int, payload: Any, headers: list[tuple[str, str]] | None = None
    ) -> LabResponse:
        """A JSON response."""
        return cls.from_text(status, json.dumps(payload), "application/json", headers)

    @classmethod
    def from_text(
        cls,
        status: int,
        text: str,
        content_type: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> LabResponse:
        """A text response (UTF-8) with the given content type."""
        return cls(status, [("Content-Type", content_type), *(headers or [])], text.encode())


LabApp = Callable[[LabRequest], LabResponse]
"""An emulator: takes a request, returns a response."""


@dataclass(frozen=True, slots=True)
class FaultShapes:
    """How one provider answers when it fails: a 5xx and a throttle, each in its own shape."""

    error: Callable[[LabRequest], LabResponse]
    throttle: Callable[[LabRequest, FaultSpec], LabResponse]


def _generic_error(request: LabRequest) -> LabResponse:
    return LabResponse.from_json(503, {"error": "service unavailable (lab fault)"})


def _generic_throttle(request: LabRequest, spec: FaultSpec) -> LabResponse:
    retry_after = str(max(0, round(spec.retry_after_s)))
    return LabResponse.from_json(
        429, {"error": "too many requests (lab fault)"}, [("Retry-After", retry_after)]
    )


GENERIC_SHAPES = FaultShapes(error=_generic_error, throttle=_generic_throttle)
"""Provider-neutral JSON fault answers, for emulators without shapes of their own."""


class EmulatorServer:
    """Serves one emulator app over TLS on ``127.0.0.1`` with fault injection in front."""

    def __init__(
        self,
        provider: str,
        app: LabApp,
        tls: LabTLS,
        *,
        shapes: FaultShapes = GENERIC_SHAPES,
        faults: FaultSpec | None = None,
        on_reset: Callable[[], None] | None = None,
    ) -> None:
        self.provider = provider
        self.app = app
        self.shapes = shapes
        self.faults = FaultState(faults)
        self.requests = RequestLog()
        self.on_reset = on_reset
        self._tls = tls
        self._stopping = threading.Event()
        self._httpd: _LabHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (only once started)."""
        if self._httpd is None:
            raise LabError(f"the {self.provider} emulator is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:PORT``."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def control_url(self) -> str:
        """The control plane's base URL: ``https://127.0.0.1:PORT/_lab``."""
        return self.base_url + CONTROL_PREFIX

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._httpd is not None

    def start(self) -> None:
        """Bind an ephemeral loopback port and serve in a daemon thread."""
        if self._httpd is not None:
            raise LabError(f"the {self.provider} emulator is already running")
        self._stopping.clear()
        try:
            httpd = _LabHTTPServer(("127.0.0.1", 0), self, self._tls.server_context)
        except OSError as exc:
            raise LabError(f"cannot listen for the {self.provider} emulator: {exc}") from exc
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL_S},
            name=f"lab-{self.provider}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving: end hanging faults, close idle keep-alive connections, free the port."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections(_DRAIN_TIMEOUT_S)
        thread.join()
        self._httpd = self._thread = None

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True as soon as the server is stopping."""
        return self._stopping.wait(seconds) if seconds > 0 else self._stopping.is_set()

    def control(self, request: LabRequest) -> LabResponse:
        """Answer a ``/_lab/...`` control request."""
        route = request.path[len(CONTROL_PREFIX) :]
        if route == "/health":
            if request.method != "GET":
                return _not_allowed("GET")
            return LabResponse.from_json(200, {"status": "ok", "provider": self.provider})
        if route == "/faults":
            if request.method == "PUT":
                return self._put_faults(request)
            if request.method != "GET":
                return _not_allowed("GET, PUT")
            return LabResponse.from_json(200, self.fault_report())
        if route == "/requests":
            return self._requests(request)
        if route == "/reset" and self.on_reset is not None:
            if request.method != "POST":
                return _not_allowed("POST")
            self.requests.clear()
            try:
                self.on_reset()
            except AgentIRError as exc:
                log.error("resetting the %s emulator failed: %s", self.provider, exc.message)
                return LabResponse.from_json(500, {"error": exc.message})
            settle_heap()
            return LabResponse.from_json(200, {"status": "reset", "provider": self.provider})
        return LabResponse.from_json(404, {"error": f"no control endpoint {request.path}"})

    def fault_report(self) -> dict[str, Any]:
        """The fault settings in force with how many requests met each fate."""
        counts = dict(self.faults.counts)
        return {
            "provider": self.provider,
            "spec": self.faults.spec.model_dump(mode="json"),
            "requests": self.faults.requests,
            "counts": {fault.value: counts.get(fault, 0) for fault in Fault},
        }

    def _requests(self, request: LabRequest) -> LabResponse:
        if request.method == "DELETE":
            self.requests.clear()
            return LabResponse.from_json(200, {"requests": []})
        if request.method != "GET":
            return _not_allowed("GET, DELETE")
        entries = [e.to_json() for e in self.requests.entries()]
        return LabResponse.from_json(200, {"provider": self.provider, "requests": entries})

    def _put_faults(self, request: LabRequest) -> LabResponse:
        try:
            spec = FaultSpec.model_validate_json(request.body)
        except ValidationError as exc:
            problems = [
                {"where": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
                for error in exc.errors(include_url=False)
            ]
            return LabResponse.from_json(400, {"error": "invalid fault spec", "problems": problems})
        self.faults.update(spec)
        return LabResponse.from_json(200, self.fault_report())


def _not_allowed(allow: str) -> LabResponse:
    return LabResponse.from_json(405, {"error": "method not allowed"}, [("Allow", allow)])


def is_control_path(path: str) -> bool:
    """True for the control plane's paths, which bypass fault injection."""
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


class _Connection:
    """One accepted TCP connection, kept so the server can wake or abort it from outside."""

    def __init__(self, raw: socket.socket) -> None:
        # A duplicate descriptor of the same socket: shutting it down wakes a handler
        # blocked reading the TLS socket, from another thread, without touching TLS state.
        self._handle = raw.dup()

    def wake(self) -> None:
        """End any blocking read or write on this connection (used when stopping)."""
        try:
            self._handle.shutdown(socket.SHUT_RDWR)
        except OSError as exc:
            log.debug("connection already gone while waking it: %s", exc)

    def arm_reset(self) -> None:
        """Make the final close of this connection send an RST instead of a FIN."""
        self._handle.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def close(self) -> None:
        """Release the duplicate descriptor."""
        self._handle.close()


class _LabHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], lab: EmulatorServer, context: ssl.SSLContext
    ) -> None:
        self.lab = lab
        self.context = context
        self._connections: set[_Connection] = set()
        self._local = threading.local()
        self._closing = False
        self._drained = threading.Condition()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup the lab never needs.
        TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def finish_request(self, request: Any, client_address: Any) -> None:
        # Runs in the connection's own thread, so a slow TLS handshake blocks nobody else.
        connection = _Connection(request)
        with self._drained:
            if self._closing:
                connection.close()
                return
            self._connections.add(connection)
        try:
            request.settimeout(_HANDSHAKE_TIMEOUT_S)
            try:
                tls = self.context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                log.debug("TLS handshake with %s failed: %s", client_address, exc)
                return
            self._local.connection = connection
            try:
                _Handler(tls, client_address, self)
            finally:
                self._local.connection = None
                tls.close()
        finally:
            connection.close()
            with self._drained:
                self._connections.discard(connection)
                self._drained.notify_all()

    def current_connection(self) -> _Connection:
        """The connection the calling handler thread serves."""
        connection: _Connection = self._local.connection
        return connection

    def close_connections(self, timeout_s: float) -> None:
        """Wake every open connection and wait (bounded) for their handlers to finish."""
        with self._drained:
            self._closing = True
            for connection in self._connections:
                connection.wake()
            if not self._drained.wait_for(lambda: not self._connections, timeout_s):
                log.warning("%d lab connection(s) still busy at stop", len(self._connections))

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("lab connection from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = _IDLE_TIMEOUT_S
    server_version = "agent-ir-lab"
    server: _LabHTTPServer

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except _BadBody as exc:
            self.close_connection = True
            self._write(LabResponse.from_json(exc.status, {"error": exc.message}))
            return
        path, _, query = self.path.partition("?")
        request = LabRequest(self.command, path, query, tuple(self.headers.items()), body)
        response = self._respond(request)
        if response is None:
            self.close_connection = True
        else:
            self._write(response)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

    def _respond(self, request: LabRequest) -> LabResponse | None:
        lab = self.server.lab
        if is_control_path(request.path):
            return lab.control(request)
        logged = lab.requests.record(
            request.method,
            request.path,
            request.query,
            request.body,
            request.header("content-type"),
        )
        decision = lab.faults.decide(request.path)
        if lab.wait(decision.delay_s):
            return None
        spec = lab.faults.spec
        if decision.fault is Fault.RESET:
            self.server.current_connection().arm_reset()
            return None
        if decision.fault is Fault.TIMEOUT:
            lab.wait(spec.timeout_s)
            return None
        if decision.fault is Fault.THROTTLE:
            throttled = lab.shapes.throttle(request, spec)
            logged.status = throttled.status
            return throttled
        if decision.fault is Fault.ERROR:
            answer = lab.shapes.error(request)
            logged.status = answer.status
            return answer
        try:
            with counting() as tally:
                response = lab.app(request)
            logged.work = tally.touched
            logged.answered = time.time()
        except Exception:
            log.exception(
                "the %s emulator failed on %s %s", lab.provider, request.method, request.path
            )
            return lab.shapes.error(request)
        logged.status = response.status
        if decision.fault is Fault.MALFORMED:
            return malformed(response, spec.malformed)
        return response

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw_length = self.headers.get("Content-Length")
        if not raw_length:
            return b""
        try:
            length = int(raw_length)
        except ValueError:
            raise _BadBody(400, "invalid Content-Length") from None
        if length < 0 or length > MAX_BODY_BYTES:
            raise _BadBody(413, "request body too large")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadBody(400, "invalid chunk size") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailer fields carry nothing the lab uses
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                raise _BadBody(413, "request body too large")
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _write(self, response: LabResponse) -> None:
        self.log_request(response.status)
        self.send_response_only(response.status)
        given = {name.lower() for name, _ in response.headers}
        if "server" not in given:
            self.send_header("Server", self.version_string())
        if "date" not in given:
            self.send_header("Date", self.date_time_string())
        for name, value in response.headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)


def malformed(response: LabResponse, kind: str) -> LabResponse:
    """The real answer spoiled as ``kind`` says (see ``FaultSpec.malformed``), sent as a 200
    so that the client's parser, not its status handling, meets it."""
    content_type = next(
        (v for k, v in response.headers if k.lower() == "content-type"), "application/json"
    )
    if kind == "truncated":
        return LabResponse(
            200, [("Content-Type", content_type)], response.body[: len(response.body) // 2]
        )
    if kind == "html":
        page = "<html><body><h1>502 Bad Gateway</h1><p>upstream maintenance</p></body></html>"
        return LabResponse.from_text(200, page, "text/html")
    if kind == "garbage":
        return LabResponse(200, [("Content-Type", content_type)], b"\x00\xff{<not json or xml]")
    if kind == "deep":
        return LabResponse(200, [("Content-Type", content_type)], b"[" * 100_000)
    return LabResponse(200, [("Content-Type", content_type)], b"x" * (8 * 1024 * 1024))


class _BadBody(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
