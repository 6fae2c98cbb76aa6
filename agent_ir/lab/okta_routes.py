"""Routing for the Okta emulator: each route names its method, path, the OAuth scope an
access token needs for it, and its handler. Also a small evaluator for the SCIM-style
``filter`` / ``search`` expressions the list endpoints take (``eq``, ``sw``, ``pr``,
joined by ``and`` / ``or``)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from agent_ir.lab.okta_auth import Caller
from agent_ir.lab.okta_http import okta_error, page
from agent_ir.lab.okta_org import OrgState
from agent_ir.lab.server import LabRequest, LabResponse
from agent_ir.lab.work import touch

T = TypeVar("T")


@dataclass(slots=True)
class Call:
    """One authenticated request as a handler sees it."""

    request: LabRequest
    state: OrgState
    now: datetime
    base: str
    caller: Caller

    def param(self, name: str) -> str | None:
        """The first value of a query parameter."""
        values = self.request.query_params.get(name)
        return values[0] if values else None

    def body(self) -> dict[str, Any]:
        """The JSON body (an empty object when there is none or it is not an object)."""
        try:
            data = self.request.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def listing(
        self,
        items: list[T] | Callable[[str | None], Iterator[T]],
        key: Callable[[T], str],
        render: Callable[[T], dict[str, Any]],
        *,
        default_limit: int = 200,
        max_limit: int = 200,
    ) -> LabResponse:
        """A paged JSON list with ``Link`` headers."""
        chunk, links = page(
            self.request,
            self.base,
            items,
            key,
            default_limit=default_limit,
            max_limit=max_limit,
        )
        return LabResponse.from_json(200, [render(item) for item in chunk], links)


Handler = Callable[..., LabResponse]


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint."""

    method: str
    pattern: re.Pattern[str]
    scope: str
    handler: Handler


def route(method: str, path: str, scope: str, handler: Handler) -> Route:
    """A route; ``{name}`` in ``path`` matches one path segment and is passed positionally."""
    regex = "^" + re.sub(r"\{[a-zA-Z]+\}", r"([^/]+)", path) + "/?$"
    return Route(method, re.compile(regex), scope, handler)


def dispatch(routes: list[Route], call: Call) -> LabResponse:
    """Find the route for a request, check the caller's scope and run the handler."""
    matched_path = False
    for candidate in routes:
        match = candidate.pattern.match(call.request.path)
        if match is None:
            continue
        matched_path = True
        if candidate.method != call.request.method:
            continue
        if not call.caller.allows(candidate.scope):
            return okta_error(
                403,
                "E0000006",
                headers=[
                    (
                        "WWW-Authenticate",
                        f'Bearer realm="IdpMyAccountAPI", error="insufficient_scope", '
                        f'error_description="The access token provided does not contain the '
                        f'required scopes.", scope="{candidate.scope}"',
                    )
                ],
            )
        return candidate.handler(call, *match.groups())
    if matched_path:
        return okta_error(405, "E0000022")
    return okta_error(404, "E0000007", f"Not found: Resource not found: {call.request.path}")


_CLAUSE = re.compile(r"\s+(and|or)\s+", re.IGNORECASE)


class FilterError(ValueError):
    """A filter or search expression the emulator cannot read."""


def matches(expression: str | None, data: dict[str, Any]) -> bool:
    """Whether ``data`` (an object's JSON) satisfies a SCIM-style expression."""
    if not expression:
        return True
    parts = _CLAUSE.split(expression.strip())
    result = _term(parts[0], data)
    for joiner, term in zip(parts[1::2], parts[2::2], strict=True):
        value = _term(term, data)
        result = (result and value) if joiner.lower() == "and" else (result or value)
    return result


def _term(text: str, data: dict[str, Any]) -> bool:
    try:
        words = shlex.split(text)
    except ValueError:
        raise FilterError(f"cannot read {text!r}") from None
    if len(words) == 2 and words[1].lower() == "pr":
        return _lookup(data, words[0]) not in (None, "", [])
    if len(words) != 3:
        raise FilterError(f"cannot read {text!r}")
    attr, op, expected = words
    actual = _lookup(data, attr)
    if actual is None:
        return False
    actual_text = str(actual).lower()
    if op.lower() == "eq":
        return actual_text == expected.lower()
    if op.lower() == "sw":
        return actual_text.startswith(expected.lower())
    if op.lower() == "co":
        return expected.lower() in actual_text
    raise FilterError(f"unsupported operator {op!r}")


def _lookup(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def filtered(
    expression: str | None, items: list[T], render: Callable[[T], dict[str, Any]]
) -> list[T]:
    """The items whose JSON satisfies ``expression`` (all of them, unrendered, when there
    is none)."""
    if not expression:
        return items
    touch(len(items))
    return [item for item in items if matches(expression, render(item))]


def readable(expression: str) -> bool:
    """Whether every term of ``expression`` is one :func:`matches` can read (then it never
    raises :class:`FilterError`, whatever the object)."""
    for term in _CLAUSE.split(expression.strip())[::2]:
        try:
            words = shlex.split(term)
        except ValueError:
            return False
        if len(words) == 2 and words[1].lower() == "pr":
            continue
        if len(words) != 3 or words[1].lower() not in ("eq", "sw", "co"):
            return False
    return True


def narrowed(
    rows: Callable[[str | None], Iterator[T]],
    render: Callable[[T], dict[str, Any]],
    expressions: list[str | None],
    keep: Callable[[T], bool] | None = None,
) -> Callable[[str | None], Iterator[T]] | None:
    """``rows`` filtered lazily by ``expressions`` (SCIM, as :func:`filtered`) and ``keep``,
    so that a page reads only as far as it needs; None when an expression cannot be read
    (the caller then filters everything first and answers Okta's error as before)."""
    wanted = [e for e in expressions if e]
    if not all(readable(e) for e in wanted):
        return None

    def lazily(after: str | None) -> Iterator[T]:
        for item in rows(after):
            if keep is not None and not keep(item):
                continue
            if wanted:
                data = render(item)
                if not all(matches(e, data) for e in wanted):
                    continue
            yield item

    return lazily
