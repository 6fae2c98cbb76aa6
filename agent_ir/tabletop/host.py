"""The exercise host: one :class:`~agent_ir.tabletop.live.LiveExercise` served over HTTPS
(with the lab's CA) next to the lab's emulators, so several responders' consoles can join
one exercise. ``agent-ir lab serve --exercise`` runs it; its URL goes into the lab's
configuration file as ``exercise_url``.

::

    GET  /exercise/status?since=N  the exercise, the clock, the injects from index N on, the score
    POST /exercise/begin           arm the probe (once) and probe at the start
    POST /exercise/advance         {"by": NAME}: fire the next inject(s)
    POST /exercise/probe           probe now
    POST /exercise/responses/start the clock time a response starts at
    POST /exercise/responses       {"response": {...}, "elapsed": S}: a response that ran
    POST /exercise/end             score, write the after-action report

Errors answer ``{"error": MESSAGE}`` with 400 (bad request), 404, 405 or 500.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from agent_ir.errors import AgentIRError
from agent_ir.lab.runner import Lab
from agent_ir.lab.server import EmulatorServer, LabRequest, LabResponse
from agent_ir.lab.tls import LabTLS
from agent_ir.tabletop.live import LiveExercise
from agent_ir.tabletop.loader import LoadedExercise
from agent_ir.tabletop.run import Response

PREFIX = "/exercise"
CALL_TIMEOUT_S = 900.0
"""Longest a request waits for the exercise (ending one probes and re-inventories)."""


class ExerciseHost:
    """Serves ``live`` until stopped; the exercise runs on its own event loop thread."""

    def __init__(self, live: LiveExercise, tls: LabTLS) -> None:
        self.live = live
        self.server = EmulatorServer("exercise", self.app, tls)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="lab-exercise", daemon=True
        )

    @property
    def url(self) -> str:
        """Where responders' consoles reach the exercise."""
        return self.server.base_url + PREFIX

    def start(self) -> None:
        """Start the exercise's loop and serve it."""
        self._thread.start()
        self.server.start()

    def stop(self) -> None:
        """Stop serving, close the exercise's engine and its loop."""
        self.server.stop()
        if self._thread.is_alive():
            self._call(self.live.aclose())
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join()
        self.loop.close()

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(CALL_TIMEOUT_S)

    def app(self, request: LabRequest) -> LabResponse:
        """Answer one request from a responder's console."""
        route = request.path[len(PREFIX) :] if request.path.startswith(PREFIX) else None
        post = {
            "/begin": self._begin,
            "/advance": self._advance,
            "/probe": self._probe,
            "/responses/start": self._starting,
            "/responses": self._finished,
            "/end": self._end,
        }
        try:
            if route == "/status":
                if request.method != "GET":
                    return _error(405, "use GET")
                since = _since(request.query)
                status = self._call(self.live.status(since)).to_json()
                status.update(exercise=self.live.name, agent=self.live.agent)
                return LabResponse.from_json(200, status)
            if route in post:
                if request.method != "POST":
                    return _error(405, "use POST")
                return LabResponse.from_json(200, post[route](request))
        except _BadRequest as exc:
            return _error(400, str(exc))
        except AgentIRError as exc:
            return _error(500, exc.message)
        return _error(404, f"no exercise endpoint {request.path}")

    def _begin(self, request: LabRequest) -> Any:
        results = self._call(self.live.begin())
        return {"results": [r.to_json() for r in results]}

    def _advance(self, request: LabRequest) -> Any:
        by = str(_body(request).get("by") or "someone")
        events = self._call(self.live.advance(by))
        return {"events": [e.to_json() for e in events]}

    def _probe(self, request: LabRequest) -> Any:
        results = self._call(self.live.residual_access())
        return {"results": [r.to_json() for r in results]}

    def _starting(self, request: LabRequest) -> Any:
        return {"t": self._call(self.live.response_starting())}

    def _finished(self, request: LabRequest) -> Any:
        body = _body(request)
        try:
            response = Response.from_json(body["response"])
            elapsed = float(body["elapsed"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _BadRequest(f"a response needs 'response' and 'elapsed' ({exc})") from None
        return {"t": self._call(self.live.response_finished(response, elapsed))}

    def _end(self, request: LabRequest) -> Any:
        return self._call(self.live.end()).to_json()


class _BadRequest(Exception):
    pass


def _body(request: LabRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except ValueError as exc:
        raise _BadRequest(f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _BadRequest("the body must be a JSON object")
    return data


def _since(query: str) -> int:
    values = parse_qs(query).get("since", ["0"])
    try:
        since = int(values[0])
    except ValueError:
        raise _BadRequest(f"since must be a whole number, not {values[0]!r}") from None
    if since < 0:
        raise _BadRequest("since must not be negative")
    return since


def _error(status: int, message: str) -> LabResponse:
    return LabResponse.from_json(status, {"error": message})


def attach_exercise(
    loaded: LoadedExercise, agent: str, report: Path, report_json: Path
) -> Callable[[Lab], Callable[[], None]]:
    """What ``agent-ir lab serve --exercise`` attaches to its lab: a shared journal for the
    responders (``journal/`` next to the configuration) and the exercise host, whose URL
    goes into the configuration. Returns the attach function for :func:`serve`."""

    def attach(lab: Lab) -> Callable[[], None]:
        settings = lab.extend_config({"journal_dir": "journal"})
        work = tempfile.TemporaryDirectory(prefix="agent-ir-exercise-")
        live = LiveExercise(
            lab,
            loaded,
            agent,
            settings=settings,
            workdir=Path(work.name),
            report=report,
            report_json=report_json,
        )
        host = ExerciseHost(live, lab.tls)
        host.start()
        lab.extend_config({"exercise_url": host.url})

        def detach() -> None:
            host.stop()
            work.cleanup()

        return detach

    return attach
