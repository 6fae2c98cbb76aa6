"""What the conformance tests share: a recorder in front of an emulator's app, the story
every provider's adapter is driven through (discovery, show, containment and restore),
and the per-route report (written, printed, and asserted clean)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from agent_ir.engine.executor import Tuning
from agent_ir.engine.incident import Who, execute, plan_for, restore
from agent_ir.engine.inventory import Engine
from agent_ir.lab.server import LabRequest, LabResponse
from agent_ir.playbook.loader import find_playbook, load_playbook, load_playbook_text
from tests.conformance.discovery import Exchange

FAST = Tuning(backoff_s=0.05, max_backoff_s=0.2, verify_interval_s=0.02)
WHO = Who(responder="tester", reason="conformance")


@dataclass
class Recorded(Exchange):
    """An exchange with the request's raw query string, headers and body, and the
    response's raw body and headers."""

    raw_query: str = ""
    raw_body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    raw_request: bytes = b""


class Recorder:
    """Wraps an emulator app and keeps every exchange."""

    def __init__(self, app: Callable[[LabRequest], LabResponse]) -> None:
        self.app = app
        self.exchanges: list[Recorded] = []
        self._lock = threading.Lock()

    def __call__(self, request: LabRequest) -> LabResponse:
        response = self.app(request)
        self.record(request, response)
        return response

    def record(self, request: LabRequest, response: LabResponse) -> None:
        """Keep one exchange (also those answered in front of the app, such as faults)."""
        exchange = Recorded(
            request.method,
            request.path,
            parse_qs(request.query, keep_blank_values=True),
            _json(request.body),
            response.status,
            _json(response.body),
            request.query,
            response.body,
            list(response.headers),
            list(request.headers),
            request.body,
        )
        with self._lock:
            self.exchanges.append(exchange)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def playbook(name: str) -> Any:
    """A shipped playbook by name."""
    return load_playbook(find_playbook(name, []))


def only(action: str) -> Any:
    """A playbook of one action."""
    text = f"name: only-{action}\nsteps:\n  - id: {action}\n    action: {action}\n"
    return load_playbook_text(text, f"<{action}>")


async def contain_and_restore(engine: Engine, target: str, book: Any) -> None:
    """Plan, apply and undo one playbook on one target (each step's status is the
    provider tests' business; here only the traffic counts)."""
    plan = await plan_for(engine, target, book, {})
    outcome = await execute(engine, plan, WHO, tuning=FAST)
    await restore(engine, outcome.incident, WHO, tuning=FAST)


@dataclass
class Route:
    """One route the adapter used: how often, and what did not conform."""

    calls: int = 0
    problems: set[str] = field(default_factory=set)
    note: str = ""


class Report:
    """Routes by key, rendered as a markdown table."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.routes: dict[str, Route] = {}

    def add(self, key: str, problems: Iterable[str] = (), note: str = "") -> None:
        """Count one exchange of a route, with its problems."""
        route = self.routes.setdefault(key, Route(note=note))
        route.calls += 1
        route.problems.update(problems)

    def failing(self) -> dict[str, set[str]]:
        """Routes with at least one problem."""
        return {k: r.problems for k, r in self.routes.items() if r.problems}

    def render(self) -> str:
        """The report as markdown."""
        lines = [
            f"# {self.provider} conformance report",
            "",
            "| route | calls | status |",
            "|---|---|---|",
        ]
        for key in sorted(self.routes):
            route = self.routes[key]
            status = "; ".join(sorted(route.problems)) or route.note or "conforms"
            lines.append(f"| `{key}` | {route.calls} | {status} |")
        return "\n".join(lines) + "\n"

    def write(self, tmp_path_factory: pytest.TempPathFactory) -> str:
        """Write the report to ``$AGENT_IR_CONFORMANCE_DIR/<provider>.md`` (else a temporary
        folder), print it, and return it."""
        text = self.render()
        target = os.environ.get("AGENT_IR_CONFORMANCE_DIR")
        folder = Path(target) if target else tmp_path_factory.mktemp("report")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{self.provider.lower().replace(' ', '-')}.md").write_text(text)
        print(text)
        return text
