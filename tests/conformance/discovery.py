"""Check recorded HTTP traffic against Google's published discovery documents (as shipped
inside google-api-python-client): the method a request matches by HTTP verb and path
template, its query parameters, its body's fields, and the response against the method's
response schema (no unknown property, no wrongly typed value)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import googleapiclient

DOCUMENTS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
STANDARD_QUERY = {
    "alt",
    "fields",
    "key",
    "prettyPrint",
    "quotaUser",
    "access_token",
    "$.xgafv",
    "callback",
    "oauth_token",
    "uploadType",
    "upload_protocol",
}


@dataclass
class Method:
    """One method of one API, with what it accepts and returns."""

    api: str
    method_id: str
    verb: str
    template: str
    pattern: re.Pattern[str]
    query: set[str]
    request: str | None
    response: str | None
    schemas: dict[str, Any] = field(repr=False)


@dataclass
class Exchange:
    """One recorded request and its response."""

    verb: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    response: Any


def load(*names: str) -> list[Method]:
    """Every method of the named discovery documents (``"iam.v1"``, …)."""
    methods: list[Method] = []
    for name in names:
        doc = json.loads((DOCUMENTS / f"{name}.json").read_text())
        for raw in _walk(doc.get("resources", {})):
            template = raw.get("flatPath") or raw["path"]
            query = {
                k for k, p in raw.get("parameters", {}).items() if p.get("location") == "query"
            }
            methods.append(
                Method(
                    name,
                    raw["id"],
                    raw["httpMethod"],
                    doc["servicePath"] + template,
                    _compile(doc["servicePath"] + template),
                    query,
                    raw.get("request", {}).get("$ref"),
                    raw.get("response", {}).get("$ref"),
                    doc["schemas"],
                )
            )
    return methods


def _walk(resources: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for resource in resources.values():
        found += list(resource.get("methods", {}).values())
        found += _walk(resource.get("resources", {}))
    return found


def _compile(template: str) -> re.Pattern[str]:
    out, last = "", 0
    for match in re.finditer(r"\{(\+?)([^}]+)\}", template):
        out += re.escape(template[last : match.start()])
        out += ".+" if match.group(1) else "[^/:]+"
        last = match.end()
    return re.compile("/?" + out + re.escape(template[last:]) + r"\Z")


def match(methods: list[Method], exchange: Exchange) -> Method | None:
    """The most specific method (longest literal template) the request fits."""
    fits = [m for m in methods if m.verb == exchange.verb and m.pattern.match(exchange.path)]
    return max(fits, key=lambda m: len(re.sub(r"\{[^}]+\}", "", m.template)), default=None)


def problems(method: Method, exchange: Exchange) -> list[str]:
    """Everything in the exchange the method's description does not allow."""
    found = [
        f"query parameter {name!r} is not a parameter of {method.method_id}"
        for name in exchange.query
        if name not in method.query and name not in STANDARD_QUERY
    ]
    if isinstance(exchange.body, dict) and exchange.body:
        if method.request is None:
            found.append(f"{method.method_id} takes no body")
        else:
            found += _check(exchange.body, {"$ref": method.request}, method.schemas, "request")
    if exchange.status < 300:
        schema = {"$ref": method.response} if method.response else {"type": "object"}
        if exchange.response is not None:
            found += _check(exchange.response, schema, method.schemas, "response")
    elif not _is_google_error(exchange.response):
        found.append(f"error {exchange.status} is not Google's error shape")
    return found


def _is_google_error(body: Any) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and {"code", "message", "status"} <= set(error)


def _check(value: Any, schema: dict[str, Any], schemas: dict[str, Any], where: str) -> list[str]:
    if "$ref" in schema:
        return _check(value, schemas[schema["$ref"]], schemas, where)
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{where}: expected an object"]
        found: list[str] = []
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                found += _check(item, properties[key], schemas, f"{where}.{key}")
            elif extra is not None:
                found += _check(item, extra, schemas, f"{where}.{key}")
            else:
                found.append(f"{where}.{key}: not in the published schema")
        return found
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: expected an array"]
        return [
            p
            for i, item in enumerate(value)
            for p in _check(item, schema["items"], schemas, f"{where}[{i}]")
        ]
    expected = {"string": str, "boolean": bool, "integer": int, "number": (int, float)}.get(
        kind or ""
    )
    if kind == "string" and schema.get("format") in ("int64", "uint64") and isinstance(value, str):
        return [] if value.lstrip("-").isdigit() else [f"{where}: not an int64 string"]
    if kind == "string" and "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} is not one of the published values"]
    if expected is not None and (
        not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool))
    ):
        return [f"{where}: expected {kind}, got {type(value).__name__}"]
    return []
