"""The OData side of the Graph emulator: query options, paging, object shapes, error bodies.

Supported, as far as the adapter and official clients use them: ``$select``, ``$filter``
(``eq``/``ne`` on strings, GUIDs, booleans and null; ``and``/``or``/``not``; parentheses;
``startswith(p,'x')``; ``p/any(t:t eq 'x')`` and ``p/any(f:f/q eq 'x' or …)``; ``ge``/``gt``/``le``/``lt`` against a
DateTimeOffset literal such as ``2025-01-01T00:00:00Z``), ``$top`` and ``$skiptoken`` paging with
``@odata.nextLink``. Anything else is refused with Graph's 400 ``Request_UnsupportedQuery``.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from agent_ir.lab.server import LabRequest, LabResponse

Obj = dict[str, Any]
Predicate = Callable[[Obj], bool]

BETA_ONLY = ("agentIdentityBlueprintId", "createdByAppId")
ODATA_TYPES = {
    "agent": "#microsoft.graph.agentIdentity",
    "blueprint": "#microsoft.graph.agentIdentityBlueprintPrincipal",
}
BLUEPRINT_APP_TYPE = "#microsoft.graph.agentIdentityBlueprint"
DEFAULT_PAGE = 100
MAX_PAGE = 999


class ODataError(Exception):
    """A request Graph would refuse; carries its status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def graph_error(
    status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None
) -> LabResponse:
    """Graph's error body: ``{"error": {"code", "message", "innerError": {...}}}``."""
    request_id = str(uuid.uuid4())
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": request_id,
            },
        }
    }
    extra = [("request-id", request_id), ("client-request-id", request_id), *(headers or [])]
    return LabResponse.from_json(status, body, extra)


def bad_request(message: str) -> ODataError:
    """A 400 for a malformed body or parameter."""
    return ODataError(400, "Request_BadRequest", message)


def not_found(what: str) -> ODataError:
    """Graph's 404 for a missing object."""
    return ODataError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{what}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


@dataclass(frozen=True, slots=True)
class Query:
    """The query options of one request."""

    select: tuple[str, ...] | None
    predicate: Predicate | None
    top: int | None
    skiptoken: str | None
    expand: tuple[str, ...]
    raw: dict[str, str]
    equals: tuple[str, str] | None = None
    """``(property, text)`` when the whole ``$filter`` is ``property eq 'text'``: a table
    indexed on the property can read only the candidates (the filter still decides)."""

    @classmethod
    def parse(cls, request: LabRequest, *, expandable: tuple[str, ...] = ()) -> Query:
        """Read ``$select``, ``$filter``, ``$top``, ``$skiptoken`` and ``$expand``."""
        raw = {k: v[-1] for k, v in request.query_params.items()}
        known = {"$select", "$filter", "$top", "$skiptoken", "$expand", "$count"}
        for key in raw:
            if key.startswith("$") and key not in known:
                raise ODataError(
                    400, "Request_UnsupportedQuery", f"Query option {key} is not supported."
                )
        select = (
            tuple(p.strip() for p in raw["$select"].split(",") if p.strip())
            if raw.get("$select")
            else None
        )
        top = None
        if "$top" in raw:
            try:
                top = int(raw["$top"])
            except ValueError:
                raise bad_request(f"Invalid value '{raw['$top']}' for $top.") from None
            if top < 1:
                raise bad_request("$top must be a positive integer.")
        expand = tuple(p.strip() for p in raw.get("$expand", "").split(",") if p.strip())
        for item in expand:
            if item not in expandable:
                raise ODataError(
                    400, "Request_UnsupportedQuery", f"Expanding '{item}' is not supported here."
                )
        predicate = parse_filter(raw["$filter"]) if raw.get("$filter") else None
        equals = _equality(raw["$filter"]) if predicate is not None else None
        return cls(select, predicate, top, raw.get("$skiptoken"), expand, raw, equals)

    def cost_hints(self) -> tuple[bool, bool, bool]:
        """(has $select, has $expand, $top below 20): what moves a request's RU cost."""
        return bool(self.select), bool(self.expand), self.top is not None and self.top < 20


def shape(
    obj: Obj,
    version: str,
    select: tuple[str, ...] | None,
    *,
    with_key: bool = False,
    expand: tuple[str, ...] = (),
) -> Obj:
    """An object as Graph sends it: no lab bookkeeping, version-specific fields, ``$select``
    (expanded navigation properties are kept whatever ``$select`` says)."""
    out: Obj = {}
    kind = obj.get("_kind")
    if version == "beta" and kind in ODATA_TYPES and "servicePrincipalType" in obj:
        out["@odata.type"] = ODATA_TYPES[kind]
    if version == "beta" and kind == "agent-blueprint" and "signInAudience" in obj:
        out["@odata.type"] = BLUEPRINT_APP_TYPE
    for key, value in obj.items():
        if key.startswith("_") or (version != "beta" and key in BETA_ONLY):
            continue
        if select is not None and key not in select and key not in expand:
            continue
        if key == "keyCredentials":
            value = [{**k, "key": k.get("key") if with_key else None} for k in value]
        elif key == "passwordCredentials":
            value = [{**p, "secretText": None} for p in value]
        out[key] = value
    return out


Rows = Callable[[str | None], Iterator[Obj]]
"""A collection read lazily from an index: the objects with an id above the given one (all
when None), in id order, so that a page reads only as far as it needs."""


def page(
    request: LabRequest,
    base_url: str,
    items: list[Obj] | Rows,
    query: Query,
    *,
    max_page: int = MAX_PAGE,
) -> tuple[list[Obj], str | None]:
    """One page of ``items`` (sorted by id) and the next page's link, if there is one."""
    size = min(query.top or DEFAULT_PAGE, max_page)
    after = _decode_token(query.skiptoken) if query.skiptoken else None
    if callable(items):
        source = items(after)
    else:
        start = 0
        if after is not None:
            start = next(
                (i for i, item in enumerate(items) if str(item.get("id", "")) > after), len(items)
            )
        source = itertools.islice(items, start, None)
    taken = list(itertools.islice(source, size + 1))
    chunk = taken[:size]
    if len(taken) <= size or not chunk:
        return chunk, None
    params = {k: v for k, v in query.raw.items() if k != "$skiptoken"}
    params["$top"] = str(size)
    params["$skiptoken"] = _encode_token(str(chunk[-1].get("id", "")))
    text = "&".join(f"{quote(k, safe='$')}={quote(v, safe='')}" for k, v in params.items())
    return chunk, f"{base_url}{request.path}?{text}"


def collection(
    request: LabRequest,
    base_url: str,
    version: str,
    context: str,
    items: list[Obj] | Rows,
    query: Query,
    *,
    max_page: int = MAX_PAGE,
    transform: Callable[[Obj], Obj] | None = None,
) -> LabResponse:
    """A filtered, paged collection response with ``@odata.context`` and next link."""
    predicate = query.predicate
    if predicate is not None:
        if callable(items):
            rows = items
            items = lambda after: (i for i in rows(after) if predicate(i))  # noqa: E731
        else:
            items = [i for i in items if predicate(i)]
    chunk, next_link = page(request, base_url, items, query, max_page=max_page)
    values = [
        shape(transform(i) if transform else i, version, query.select, expand=query.expand)
        for i in chunk
    ]
    body: Obj = {"@odata.context": f"{base_url}/{version}/$metadata#{context}", "value": values}
    if next_link:
        body["@odata.nextLink"] = next_link
    return LabResponse.from_json(200, body)


def _equality(text: str) -> tuple[str, str] | None:
    """``(property, value)`` when ``text`` is a single ``property eq 'value'`` (or a GUID)."""
    tokens = _tokenize(text)
    if len(tokens) != 3 or tokens[0][0] != "word" or tokens[1] != ("word", "eq"):
        return None
    kind, value = tokens[2]
    if kind != "lit" or not isinstance(value, str) or "/" in tokens[0][1]:
        return None
    return str(tokens[0][1]), value


def _encode_token(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


def _decode_token(token: str) -> str:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return str(data["after"])
    except (ValueError, KeyError, TypeError):
        raise bad_request("Invalid $skiptoken.") from None


# -- $filter ---------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))|(?P<num>-?\d+(?:\.\d+)?(?![\w-]))|(?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"|(?P<punct>[(),:])|(?P<word>[A-Za-z_][\w./]*))"
)


def parse_filter(text: str) -> Predicate:
    """Compile an OData ``$filter`` expression into a predicate over Graph objects."""
    tokens = _tokenize(text)
    parser = _FilterParser(tokens, text)
    predicate = parser.expression()
    if parser.pos != len(tokens):
        raise _unsupported(text)
    return predicate


def _unsupported(text: str) -> ODataError:
    return ODataError(
        400, "Request_UnsupportedQuery", f"Unsupported or invalid query filter clause: {text}"
    )


def _tokenize(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match:
            raise _unsupported(text)
        position = match.end()
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "str":
            out.append(("lit", value[1:-1].replace("''", "'")))
        elif kind == "num":
            out.append(("lit", float(value) if "." in value else int(value)))
        elif kind == "guid":
            out.append(("lit", value.lower()))
        elif kind == "dt":
            out.append(("lit", _moment(value)))
        elif kind == "word" and value in ("true", "false", "null"):
            out.append(("lit", {"true": True, "false": False, "null": None}[value]))
        else:
            out.append((kind, value))
    return out


class _FilterParser:
    def __init__(self, tokens: list[tuple[str, Any]], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.pos = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str, value: Any = None) -> Any:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            raise _unsupported(self.text)
        self.pos += 1
        return token[1]

    def expression(self) -> Predicate:
        left = self.conjunction()
        while self.peek() == ("word", "or"):
            self.pos += 1
            right = self.conjunction()
            left = (lambda a, b: lambda o: a(o) or b(o))(left, right)
        return left

    def conjunction(self) -> Predicate:
        left = self.unary()
        while self.peek() == ("word", "and"):
            self.pos += 1
            right = self.unary()
            left = (lambda a, b: lambda o: a(o) and b(o))(left, right)
        return left

    def unary(self) -> Predicate:
        if self.peek() == ("word", "not"):
            self.pos += 1
            inner = self.unary()
            return lambda o: not inner(o)
        if self.peek() == ("punct", "("):
            self.pos += 1
            inner = self.expression()
            self.take("punct", ")")
            return inner
        return self.term()

    def term(self) -> Predicate:
        word = self.take("word")
        if word == "startswith":
            self.take("punct", "(")
            path = self.take("word")
            self.take("punct", ",")
            prefix = self.take("lit")
            self.take("punct", ")")
            if not isinstance(prefix, str):
                raise _unsupported(self.text)
            return lambda o: str(_lookup(o, path) or "").lower().startswith(prefix.lower())
        if word.endswith("/any"):
            path = word[: -len("/any")]
            self.take("punct", "(")
            var = self.take("word")
            self.take("punct", ":")
            body = self.expression()
            self.take("punct", ")")
            # The body names an element as ``var`` (``t eq 'x'``) or its fields as
            # ``var/field`` (``f/subject eq 'x'``): evaluate it on {var: element}.
            return lambda o: any(body({var: v}) for v in (_lookup(o, path) or []))
        operator = self.take("word")
        if operator not in ("eq", "ne", *_ORDERINGS):
            raise _unsupported(self.text)
        value = self.take("lit")
        if operator in _ORDERINGS:
            if not isinstance(value, datetime):
                raise _unsupported(self.text)
            return _ordered(word, _ORDERINGS[operator], value)
        if operator == "eq":
            return lambda o: _equal(_lookup(o, word), value)
        return lambda o: not _equal(_lookup(o, word), value)


def _lookup(obj: Obj, path: str) -> Any:
    current: Any = obj
    for part in path.split("/"):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


_ORDERINGS: dict[str, Callable[[datetime, datetime], bool]] = {
    "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "le": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
}


def _moment(text: str) -> datetime:
    """A DateTimeOffset literal (or a stored timestamp) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _ordered(
    path: str, compare: Callable[[datetime, datetime], bool], wanted: datetime
) -> Predicate:
    """A ``ge``/``gt``/``le``/``lt`` term: only timestamps are ordered (as Graph's audit logs
    allow on ``createdDateTime`` and ``activityDateTime``)."""

    def test(obj: Obj) -> bool:
        actual = _lookup(obj, path)
        if not isinstance(actual, str):
            return False
        try:
            return compare(_moment(actual), wanted)
        except ValueError:
            return False

    return test


def _equal(actual: Any, wanted: Any) -> bool:
    if isinstance(actual, str) and isinstance(wanted, str):
        return actual.lower() == wanted.lower()
    return bool(actual == wanted)
