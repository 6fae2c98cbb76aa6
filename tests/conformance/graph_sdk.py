"""Check recorded Microsoft Graph traffic against the official Python SDKs (``msgraph-sdk``
for v1.0, ``msgraph-beta-sdk`` for beta): the request path must lead to one of their request
builders (found by walking the generated packages segment by segment, as the SDK's fluent
API does), its query options must be in the builder's URL template, ``$select``ed and
``$filter``ed properties must be properties of the entity, and every answer must
deserialize with kiota's JSON parse node into the model the builder's method returns, with
nothing left in ``additional_data`` (an unknown property) and no value kiota had to drop
(a wrongly typed one). Errors must parse as ``ODataError``."""

from __future__ import annotations

import functools
import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import msgraph
import msgraph_beta
from kiota_abstractions.serialization import Parsable
from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory

ROOTS = {
    "v1.0": (Path(msgraph.__file__).parent / "generated", "msgraph.generated"),
    "beta": (Path(msgraph_beta.__file__).parent / "generated", "msgraph_beta.generated"),
}
_KEYED = re.compile(r"(\w+)\((\w+)='[^']*'\)")


@dataclass
class Builder:
    """One request builder: its URL template and the model each verb returns / takes."""

    version: str
    module: str
    template: str
    query: set[str]
    returns: dict[str, str | None]
    takes: dict[str, str | None]

    def model(self, name: str | None) -> type[Parsable] | None:
        """The model class a name in this builder's module refers to."""
        return None if name is None else _import(self.module, name)


def snake(name: str) -> str:
    """Kiota's snake_case for a Graph name (``appRoleAssignedTo`` → ``app_role_assigned_to``)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


@functools.cache
def resolve(version: str, path: str) -> Builder | None:
    """The request builder a Graph path (without the version) leads to, or None."""
    folder, package = ROOTS[version]
    for raw in [unquote(s) for s in path.strip("/").split("/")]:
        keyed = _KEYED.fullmatch(raw)
        if keyed:
            names = [f"{snake(keyed[1])}_with_{snake(keyed[2])}"]
        elif raw.startswith("microsoft.graph."):  # a cast or a namespaced action
            names = [f"graph_{snake(raw.removeprefix('microsoft.graph.'))}"]
        else:
            names = [snake(raw), "item"]
        step = next((n for n in names if (folder / n).is_dir()), None)
        if step is None:
            return None
        folder, package = folder / step, f"{package}.{step}"
    found = sorted(folder.glob("*_request_builder.py"))
    if len(found) != 1:
        return None
    text = found[0].read_text()
    template = re.search(r'"(\{\+baseurl\}[^"]*)"', text)
    if template is None:
        return None
    # every option of ``{?a,b,c}``, the first one included
    query = set(re.findall(r"[?,]([^,}]+)", "?" + template.group(1).partition("{?")[2]))
    returns = {
        verb.upper(): (None if out == "None" else out)
        for verb, out in re.findall(
            r"async def (get|post|patch|put|delete)\(self,.*?\) -> (?:Optional\[)?(\w+)", text
        )
    }
    takes = {
        verb.upper(): body
        for verb, body in re.findall(r"async def (post|patch|put)\(self,\s*body: (\w+)", text)
    }
    return Builder(
        version,
        f"{package}.{found[0].stem}",
        template.group(1),
        {unquote(q) for q in query},
        returns,
        takes,
    )


@functools.cache
def _import(module: str, name: str) -> type[Parsable] | None:
    """``name`` as the builder module imports it (under TYPE_CHECKING: read from the text)."""
    source = Path(importlib.util.find_spec(module).origin or "").read_text()  # type: ignore[union-attr]
    line = re.search(rf"from (\S+) import {name}\b", source)
    if line is None:
        return None
    target = importlib.import_module(line[1], module.rpartition(".")[0])
    found: type[Parsable] = getattr(target, name)
    return found


def parse(cls: type[Parsable], body: Any, where: str) -> list[str]:
    """Problems of ``body`` deserialized by kiota into ``cls`` (each distinct body once:
    Graph's models make kiota slow, and discovery repeats the same answers)."""
    if not isinstance(body, dict):
        return [f"{where}: expected an object ({cls.__name__})"]
    return [f"{where}{p}" for p in _parse(cls, json.dumps(body, sort_keys=True))]


@functools.cache
def _parse(cls: type[Parsable], text: str) -> tuple[str, ...]:
    node = JsonParseNodeFactory().get_root_parse_node("application/json", text.encode())
    try:
        parsed = node.get_object_value(cls)  # type: ignore[type-var]
    except (ValueError, TypeError, KeyError) as exc:
        return (f": {cls.__name__} refuses it: {exc}",)
    return tuple(walk(parsed, json.loads(text), ""))


def walk(parsed: Any, raw: Any, where: str) -> list[str]:
    """Unknown properties (left in ``additional_data``) and values kiota dropped."""
    if isinstance(raw, list) and isinstance(parsed, list):
        return [
            p
            for i, (a, b) in enumerate(zip(parsed, raw, strict=False))
            for p in walk(a, b, f"{where}[{i}]")
        ]
    if not isinstance(parsed, Parsable) or not isinstance(raw, dict):
        return []
    name = type(parsed).__name__
    known = properties(type(parsed))
    found: list[str] = []
    for key, value in raw.items():
        if key.startswith("@odata.") and key != "@odata.type":
            continue
        if key not in known:
            found.append(f"{where}.{key}: not a property of {name}")
            continue
        attr = "odata_type" if key == "@odata.type" else snake(key)
        if not hasattr(parsed, attr):
            attr += "_"
        got = getattr(parsed, attr, None)
        if value is not None and got is None:
            found.append(f"{where}.{key}: {value!r} is not of the type {name} declares")
        found += walk(got, value, f"{where}.{key}")
    return found


@functools.cache
def properties(cls: type[Parsable]) -> set[str]:
    """The JSON property names a model (with its bases) has."""
    return set(cls().get_field_deserializers())  # type: ignore[call-arg]


def query_problems(
    builder: Builder | None, query: dict[str, list[str]], entity: type[Parsable] | None
) -> list[str]:
    """Query options outside the template; selected or filtered names the entity lacks."""
    allowed = builder.query if builder else {"$select", "$filter", "$top", "$count", "$expand"}
    where = builder.template if builder else "the documented OData options"
    found = [f"query option {k!r} is not in {where}" for k in query if k not in allowed]
    if entity is None:
        return found
    names = properties(entity)
    for value in query.get("$select", []):
        found += [
            f"$select {p!r} is not a property of {entity.__name__}"
            for p in value.split(",")
            if p not in names
        ]
    for value in query.get("$filter", []):
        # a path's first segment names the entity's property (initiatedBy/app/appId);
        # a lambda's variable (signInEventTypes/any(t: t eq ...)) names none
        bound = set(re.findall(r"/(?:any|all)\((\w+):", value))
        lambdas = re.findall(r"(\w+)/(?:any|all)\(", value)
        paths = re.findall(r"([\w/]+) (?:eq|ne|gt|ge|lt|le) ", value)
        heads = [p.split("/", 1)[0] for p in paths] + lambdas
        found += [
            f"$filter on {p!r}, not a property of {entity.__name__}"
            for p in heads
            if p not in names and p not in bound
        ]
    return found


def model(version: str, name: str) -> type[Parsable]:
    """``<sdk>.generated.models.<snake name>.<name>``."""
    package = ROOTS[version][1]
    found: type[Parsable] = getattr(
        importlib.import_module(f"{package}.models.{snake(name)}"), name
    )
    return found


def error_problems(version: str, body: Any, status: int) -> list[str]:
    """An error answer must be Graph's ``{"error": {"code", "message", …}}`` (ODataError)."""
    package = ROOTS[version][1]
    module = importlib.import_module(f"{package}.models.o_data_errors.o_data_error")
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not {"code", "message"} <= set(error):
        return [f"error {status} is not Graph's error shape"]
    return parse(module.ODataError, body, f"error {status}")


def collection(entity: type[Parsable], body: Any, status: int) -> list[str]:
    """A ``{"value": [...]}`` list answer, each item parsed as ``entity``."""
    if status >= 400:
        return error_problems("beta", body, status)
    items = body.get("value") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return [f"response {status}: expected a collection"]
    extra = [k for k in body if k != "value" and not k.startswith("@odata.")]
    found = [f"response {status}.{k}: not a property of a collection" for k in extra]
    for i, item in enumerate(items):
        found += parse(entity, item, f"response {status}.value[{i}]")
    return found


def exchange_problems(builder: Builder, exchange: Any) -> list[str]:
    """Everything in one exchange the builder and its models do not allow."""
    verb, status = exchange.verb, exchange.status
    returned = builder.model(builder.returns.get(verb))
    entity = returned
    if returned is not None and returned.__name__.endswith("CollectionResponse"):
        entity = _import(returned.__module__, returned.__name__.removesuffix("CollectionResponse"))
    found = query_problems(builder, exchange.query, entity)
    taken = builder.model(builder.takes.get(verb))
    if taken is not None and isinstance(exchange.body, dict):
        found += parse(taken, exchange.body, "request")
    if status >= 400:
        return found + error_problems(builder.version, exchange.response, status)
    if returned is None or status == 204:
        if exchange.response not in (None, ""):
            found.append(f"response {status}: a body where the SDK expects none")
        return found
    return found + parse(returned, exchange.response, f"response {status}")
