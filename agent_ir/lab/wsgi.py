"""Run a WSGI application in-process on a :class:`LabRequest`: no second server, no second port.

The lab's HTTPS server owns the socket; an emulator built on a WSGI framework (moto's Flask
apps) is simply called with an environ made from the request, as a WSGI server would.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from agent_ir.lab.server import LabRequest, LabResponse

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WsgiBridge:
    """Turns a WSGI application into a lab app: ``bridge(request, port) -> LabResponse``."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, request: LabRequest, port: int = 0) -> LabResponse:
        """Run ``request`` through the application (``port`` is the one the client used)."""
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [(status, headers)]
            return _discard

        chunks = self.app(wsgi_environ(request, port), start_response)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        status, headers = started[0]
        return LabResponse(int(status.split(" ", 1)[0]), list(headers), body)


def wsgi_environ(request: LabRequest, port: int) -> dict[str, Any]:
    """The PEP 3333 environ a WSGI server would build for ``request`` on ``port``."""
    raw_uri = request.path + ("?" + request.query if request.query else "")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(request.path).decode("latin-1"),
        "QUERY_STRING": request.query,
        "REQUEST_URI": raw_uri,
        "RAW_URI": raw_uri,
        "CONTENT_TYPE": request.header("Content-Type", "") or "",
        "CONTENT_LENGTH": str(len(request.body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in request.headers:
        if "_" in name:
            continue  # as werkzeug does: X_Foo must not pass for X-Foo
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            continue
        key = "HTTP_" + key
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    environ.setdefault("HTTP_HOST", f"127.0.0.1:{port}")
    return environ


def _discard(data: bytes) -> None:
    """The ``write`` callable of WSGI; moto never uses it."""
