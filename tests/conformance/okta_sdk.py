"""Check recorded Okta traffic against the okta SDK itself: the operation a request matches
(HTTP verb and ``resource_path`` of a method of an ``okta.api.*`` class, with that
method's query parameters), and the answer against the okta model its
``_response_types_map`` names for the status (parsed with the model's own ``from_dict``,
then walked so that a property the model does not have is reported: ``from_dict`` drops
such properties silently; models that declare ``additional_properties`` allow them)."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import okta
from pydantic import BaseModel

from tests.conformance.discovery import Exchange

API_DIR = Path(okta.__file__).parent / "api"
_METHOD = re.compile(r"\n    async def (\w+)\(")
_SERIALIZE = re.compile(r"\n    def _(\w+)_serialize\(")
_NEXT = re.compile(r"\n    (?:async )?def |\n    @")
_TYPES = re.compile(r'"(\d{3}|default)": (?:"([^"]+)"|None)')


@dataclass
class Operation:
    """One method of one okta API class."""

    api: str
    name: str
    verb: str
    template: str
    pattern: re.Pattern[str]
    query: set[str]
    responses: dict[str, str | None]


def load() -> list[Operation]:
    """Every operation of every ``okta.api`` class (read from the source: importing all of
    them would take seconds)."""
    operations: list[Operation] = []
    for path in sorted(API_DIR.glob("*_api.py")):
        text = path.read_text()
        responses = _responses(text)
        for name, block in _blocks(_SERIALIZE, text):
            verb = re.search(r'method="(\w+)"', block)
            resource = re.search(r'resource_path="([^"]+)"', block)
            if verb is None or resource is None or name not in responses:
                continue
            query = set(re.findall(r'_query_params\.append\(\s*\("([^"]+)"', block))
            template = resource.group(1)
            operations.append(
                Operation(
                    path.stem,
                    name,
                    verb.group(1),
                    template,
                    _compile(template),
                    query,
                    responses[name],
                )
            )
    return operations


def _blocks(pattern: re.Pattern[str], text: str) -> list[tuple[str, str]]:
    """Each match of ``pattern`` with the text up to the next method of the class."""
    ends = [m.start() for m in _NEXT.finditer(text)] + [len(text)]
    out = []
    for found in pattern.finditer(text):
        end = ends[bisect.bisect_right(ends, found.end())]
        out.append((found.group(1), text[found.end() : end]))
    return out


def _responses(text: str) -> dict[str, dict[str, str | None]]:
    found: dict[str, dict[str, str | None]] = {}
    for name, block in _blocks(_METHOD, text):
        table = re.search(
            r"_response_types_map: Dict\[str, Optional\[str\]\] = \{(.*?)\}", block, re.S
        )
        if table:
            found[name] = {code: model or None for code, model in _TYPES.findall(table.group(1))}
    return found


def _compile(template: str) -> re.Pattern[str]:
    out, last = "", 0
    for found in re.finditer(r"\{[^}]+\}", template):
        out += re.escape(template[last : found.start()]) + "[^/]+"
        last = found.end()
    return re.compile(out + re.escape(template[last:]) + r"\Z")


def match(operations: list[Operation], exchange: Exchange) -> Operation | None:
    """The most specific operation (longest literal template) the request fits."""
    fits = [o for o in operations if o.verb == exchange.verb and o.pattern.match(exchange.path)]
    return max(fits, key=lambda o: len(re.sub(r"\{[^}]+\}", "", o.template)), default=None)


def problems(operation: Operation, exchange: Exchange) -> list[str]:
    """Everything in the exchange the SDK's operation does not allow."""
    found = [
        f"query parameter {name!r} is not a parameter of {operation.name}"
        for name in exchange.query
        if name not in operation.query
    ]
    code = str(exchange.status)
    if code not in operation.responses and "default" not in operation.responses:
        return [*found, f"status {code} is not an answer of {operation.name}"]
    model = operation.responses.get(code, operation.responses.get("default"))
    return found + check_body(model, exchange.response, f"response {code}")


def check_body(model: str | None, body: Any, where: str) -> list[str]:
    """Problems of ``body`` read as the okta type named ``model`` (``"List[User]"``, …)."""
    if model is None:
        return [] if body in (None, "") else [f"{where}: a body where the SDK expects none"]
    if body is None:
        return [f"{where}: not JSON, expected {model}"]
    inner = re.fullmatch(r"List\[(.+)\]", model)
    if inner:
        if not isinstance(body, list):
            return [f"{where}: expected a list of {inner.group(1)}"]
        return [
            p
            for i, item in enumerate(body)
            for p in check_body(inner.group(1), item, f"{where}[{i}]")
        ]
    if model.startswith("Dict[") or model == "object":
        return [] if isinstance(body, dict) else [f"{where}: expected an object"]
    return parse(model_class(model), body, where)


def model_class(name: str) -> type[BaseModel]:
    """``okta.models.<name>``."""
    import okta.models

    found: type[BaseModel] = getattr(okta.models, name)
    return found


def parse(cls: type[BaseModel], body: Any, where: str) -> list[str]:
    """Parse ``body`` with the model's own ``from_dict``; then every property it kept or
    dropped is compared with the model it landed in. A one-of wrapper is tried with each of
    its schemas (the SDK's own one-of refuses a body that fits two, which its open models
    make common): the body conforms when one schema takes it cleanly."""
    if not isinstance(body, dict):
        return [f"{where}: expected an object ({cls.__name__})"]
    if "one_of_schemas" in cls.model_fields:
        return _one_of(cls, body, where)
    try:
        parsed = cls.from_dict(body)  # type: ignore[attr-defined]
    except (ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()
        return [f"{where}: okta.models.{cls.__name__} refuses it: {' '.join(first[:3])}"]
    return _unknown(parsed, body, where)


def _one_of(cls: type[BaseModel], body: dict[str, Any], where: str) -> list[str]:
    names = sorted(cls.model_fields["one_of_schemas"].default)
    tried = [(name, parse(model_class(name), body, where)) for name in names]
    if any(not found for _, found in tried):
        return []
    name, found = min(tried, key=lambda t: len(t[1]))
    return [f"{p} (as {name}, one of {cls.__name__})" for p in found]


def _unknown(parsed: Any, raw: Any, where: str) -> list[str]:
    """Properties of ``raw`` the parsed model has no field for (recursively)."""
    if isinstance(parsed, list) and isinstance(raw, list):
        return [
            p
            for i, (a, b) in enumerate(zip(parsed, raw, strict=False))
            for p in _unknown(a, b, f"{where}[{i}]")
        ]
    if not isinstance(parsed, BaseModel) or not isinstance(raw, dict):
        return []
    fields = type(parsed).model_fields
    if "one_of_schemas" in fields:
        return _one_of(type(parsed), raw, where)
    by_alias = {(f.alias or name): name for name, f in fields.items()}
    open_ended = "additional_properties" in fields
    found: list[str] = []
    for key, value in raw.items():
        name = by_alias.get(key) or (key if key in fields else None)
        if name is None:
            if not open_ended:
                found.append(
                    f"{where}.{key}: not a property of okta.models.{type(parsed).__name__}"
                )
            continue
        found += _unknown(getattr(parsed, name), value, f"{where}.{key}")
    return found
