"""A console's side of a shared exercise: the :class:`~agent_ir.tabletop.host.ExerciseHost`
reached over HTTPS with the lab's CA, through the URL in the lab's configuration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from agent_ir.errors import LabError, UsageError
from agent_ir.lab.tls import CA_FILE, client_context
from agent_ir.settings import Settings
from agent_ir.tabletop.live import Scorecard, Status
from agent_ir.tabletop.probe import PathResult
from agent_ir.tabletop.run import Event, Response

T = TypeVar("T")

TIMEOUT_S = 900.0
"""Ending an exercise probes every path and re-inventories the lab: allow for it."""


class RemoteExercise:
    """The exercise a running lab hosts, for one responder's console."""

    def __init__(self, url: str, settings: Settings, first: dict[str, Any]) -> None:
        self.url = url.rstrip("/")
        try:
            self.agent = str(first["agent"])
            self._name = str(first["exercise"])
            self.next_at: float | None = Status.from_json(first).next_at
        except (KeyError, TypeError, ValueError) as exc:
            raise LabError(f"the exercise at {url} answered in an unknown shape ({exc})") from None
        self._verify = _verify(settings)
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteExercise:
        """The exercise named by ``settings`` (``exercise_url``); checks that it answers."""
        url = settings.exercise_url
        if not url:
            raise UsageError(
                "this configuration names no shared exercise: start one with "
                "'agent-ir lab serve --exercise EXERCISE' and pass the file it prints with --config"
            )
        try:
            with httpx.Client(verify=_verify(settings), trust_env=False, timeout=30.0) as http:
                answer = http.get(f"{url.rstrip('/')}/status")
        except httpx.HTTPError as exc:
            raise LabError(f"cannot reach the exercise at {url}: {exc}") from None
        return cls(url, settings, _answer(answer, url))

    @property
    def name(self) -> str:
        """The exercise's name."""
        return self._name

    async def _request(self, method: str, route: str, payload: Any = None) -> dict[str, Any]:
        if self._client is None:
            self._client = httpx.AsyncClient(
                verify=self._verify, trust_env=False, timeout=TIMEOUT_S
            )
        url = self.url + route
        try:
            answer = await self._client.request(method, url, json=payload)
        except httpx.HTTPError as exc:
            raise LabError(f"cannot reach the exercise at {url}: {exc}") from None
        return _answer(answer, url)

    async def begin(self) -> list[PathResult]:
        """Arm the probe (if nobody has yet) and probe at the start."""
        data = await self._request("POST", "/begin")
        return _parsed(_results, data)

    async def status(self, since: int = 0) -> Status:
        """The clock, the injects fired from index ``since`` on, and the score if ended."""
        status = _parsed(Status.from_json, await self._request("GET", f"/status?since={since}"))
        self.next_at = status.next_at
        return status

    async def advance(self, by: str) -> list[Event]:
        """Fire the next inject(s)."""
        data = await self._request("POST", "/advance", {"by": by})
        return _parsed(_events, data)

    async def residual_access(self) -> list[PathResult]:
        """Probe now."""
        data = await self._request("POST", "/probe")
        return _parsed(_results, data)

    async def response_starting(self) -> float:
        """The clock time a response about to run starts at."""
        return _parsed(_t, await self._request("POST", "/responses/start"))

    async def response_finished(self, response: Response, elapsed: float) -> float:
        """Report a response that ran; returns the clock."""
        payload = {"response": response.to_json(), "elapsed": elapsed}
        return _parsed(_t, await self._request("POST", "/responses", payload))

    async def end(self) -> Scorecard:
        """Score the exercise and write the after-action report (on the host)."""
        return _parsed(Scorecard.from_json, await self._request("POST", "/end"))

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _verify(settings: Settings) -> Any:
    if settings.source is None:
        raise LabError("cannot find the lab CA: the configuration was not loaded from a file")
    return client_context(settings.source.parent / CA_FILE)


def _answer(answer: httpx.Response, url: str) -> dict[str, Any]:
    try:
        data = answer.json()
    except ValueError:
        data = None
    if answer.status_code != 200 or not isinstance(data, dict):
        detail = data.get("error") if isinstance(data, dict) else answer.text[:200]
        raise LabError(f"the exercise at {url} refused: {answer.status_code} {detail}")
    return data


def _parsed(parse: Callable[[dict[str, Any]], T], data: dict[str, Any]) -> T:
    try:
        return parse(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise LabError(f"the exercise answered in an unknown shape ({exc!r})") from None


def _results(data: dict[str, Any]) -> list[PathResult]:
    return [PathResult.from_json(r) for r in data["results"]]


def _events(data: dict[str, Any]) -> list[Event]:
    return [Event.from_json(e) for e in data["events"]]


def _t(data: dict[str, Any]) -> float:
    return float(data["t"])
