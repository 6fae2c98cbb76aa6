"""Microsoft Graph (``/v1.0`` and ``/beta``) for the Entra emulator: routing, the caller's
token and permissions, resource-unit budgets, and object lookups.

The endpoints live in :mod:`agent_ir.lab.entra_graph_reads` and
:mod:`agent_ir.lab.entra_graph_writes`. Objects may be addressed by
object id or as ``servicePrincipals(appId='…')`` / ``applications(appId='…')``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from agent_ir.lab.entra_audit import directory_audit, record_audit
from agent_ir.lab.entra_odata import (
    ODataError,
    Query,
    bad_request,
    graph_error,
    not_found,
    shape,
)
from agent_ir.lab.entra_store import Directory, Obj
from agent_ir.lab.entra_throttle import Budgets, request_cost, throttled
from agent_ir.lab.entra_token import TokenService
from agent_ir.lab.server import LabRequest, LabResponse

READ_APPS = (
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
READ_USERS = (
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
READ_GRANTS = (
    "Directory.Read.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "Directory.ReadWrite.All",
)
READ_ROLES = (
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
)
READ_ORG = (
    "Organization.Read.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "User.Read.All",
)
READ_AUDIT = ("AuditLog.Read.All",)
READ_ANY = READ_APPS + READ_USERS


@dataclass(frozen=True, slots=True)
class Call:
    """One authorised Graph request, as a route handler sees it."""

    request: LabRequest
    version: str
    base: str
    d: Directory
    query: Query
    claims: dict[str, Any]

    def body(self) -> dict[str, Any]:
        """The JSON body (a 400 when it is not a JSON object)."""
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError:
            raise bad_request("Invalid JSON in the request body.") from None
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object.")
        return data


Handler = Callable[..., LabResponse]


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint: method, path pattern, needed permissions (any of), and its handler."""

    method: str
    pattern: re.Pattern[str]
    permissions: tuple[str, ...]
    handler: Handler
    beta_only: bool = False
    expandable: tuple[str, ...] = ()
    write: bool = False
    handler_checks: bool = False
    """The handler decides who may call (permissions that depend on the request body)."""


def route(
    method: str,
    pattern: str,
    permissions: tuple[str, ...],
    handler: Handler,
    *,
    beta_only: bool = False,
    expandable: tuple[str, ...] = (),
    write: bool | None = None,
    handler_checks: bool = False,
) -> Route:
    """Declare one endpoint (the pattern matches the path after the version); ``write``
    defaults to every method but GET. With ``handler_checks`` the handler itself refuses
    callers (``permissions`` then only names what it accepts)."""
    return Route(
        method,
        re.compile(f"^{pattern}$", re.IGNORECASE),
        permissions,
        handler,
        beta_only,
        expandable,
        method != "GET" if write is None else write,
        handler_checks,
    )


_APP_ID_ADDRESS = re.compile(r"^(servicePrincipals|applications)\(appId='([^']+)'\)", re.IGNORECASE)


class GraphApi:
    """Dispatches Graph requests to route handlers under the directory's lock."""

    def __init__(self, tokens: TokenService, budgets: Budgets, routes: list[Route]) -> None:
        self.tokens = tokens
        self.budgets = budgets
        self.routes = routes

    def handle(
        self, request: LabRequest, version: str, rest: str, base: str, d: Directory
    ) -> LabResponse:
        """Answer one Graph request (``rest`` is the path after ``/v1.0/`` or ``/beta/``)."""
        rest = _APP_ID_ADDRESS.sub(lambda m: f"{m.group(1)}/appId={m.group(2)}", unquote(rest))
        try:
            claims = self.tokens.verify(request.header("Authorization"), base)
        except ODataError as exc:
            return graph_error(
                exc.status,
                exc.code,
                exc.message,
                [("WWW-Authenticate", 'Bearer realm="", error="invalid_token"')],
            )
        matched = self._match(request.method, rest, version)
        if matched is None:
            return graph_error(
                400, "BadRequest", f"Resource not found for the segment '{rest.split('/')[0]}'."
            )
        found, groups = matched
        roles = set(claims.get("roles") or [])
        if not found.handler_checks and not roles.intersection(found.permissions):
            refused = graph_error(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
            if found.write:
                self._audit(claims, d, request.method, rest, refused.status)
            return refused
        try:
            query = Query.parse(request, expandable=found.expandable)
        except ODataError as exc:
            return graph_error(exc.status, exc.code, exc.message)
        select, expand, small = query.cost_hints()
        cost = request_cost("POST" if found.write else "GET", rest, select, expand, small)
        charge = self.budgets.charge(str(claims.get("appid", "")), d.tenant_id, cost, found.write)
        if not charge.allowed:
            return throttled(charge)
        call = Call(request, version, base, d, query, claims)
        with d.lock:
            try:
                response = found.handler(call, **groups)
            except ODataError as exc:
                response = graph_error(exc.status, exc.code, exc.message)
            if found.write:
                self._audit(claims, d, request.method, rest, response.status)
        response.headers.extend(charge.headers())
        return response

    def _audit(
        self, claims: dict[str, Any], d: Directory, method: str, rest: str, status: int
    ) -> None:
        """A directory audit for a write by anyone but the lab's responder."""
        with d.lock:
            caller = d.sp_by_app_id(str(claims.get("appid", "")))
            if caller is not None and caller.get("_kind") == "responder":
                return
            now = datetime.now(UTC)
            record_audit(d, directory_audit(claims, d, method, rest, now, status))

    def _match(self, method: str, rest: str, version: str) -> tuple[Route, dict[str, str]] | None:
        for candidate in self.routes:
            if candidate.method != method or (candidate.beta_only and version != "beta"):
                continue
            match = candidate.pattern.match(rest.rstrip("/"))
            if match:
                return candidate, match.groupdict()
        return None


# -- lookups -----------------------------------------------------------------------------------


def find_sp(d: Directory, ref: str, *, latest: bool = False) -> Obj:
    """A service principal by object id or ``appId=…``; a 404 when absent."""
    key = d.sp_by_client_id.get(ref[6:].lower(), "") if ref.lower().startswith("appid=") else ref
    obj = d.service_principals.latest(key) if latest else d.service_principals.get(key)
    if obj is None:
        raise not_found(ref)
    return obj


def find_app(d: Directory, ref: str, *, latest: bool = False) -> Obj:
    """An application by object id or ``appId=…``; a 404 when absent."""
    key = d.app_by_client_id.get(ref[6:].lower(), "") if ref.lower().startswith("appid=") else ref
    obj = d.applications.latest(key) if latest else d.applications.get(key)
    if obj is None:
        raise not_found(ref)
    return obj


def find_user(d: Directory, ref: str, *, latest: bool = False) -> Obj:
    """A user by object id or user principal name; a 404 when absent."""
    key = d.user_by_upn.get(ref.lower(), ref)
    obj = d.users.latest(key) if latest else d.users.get(key)
    if obj is None:
        raise not_found(ref)
    return obj


def directory_object(d: Directory, object_id: str) -> Obj | None:
    """A user or service principal as a directoryObject reference (with ``@odata.type``)."""
    user = d.users.get(object_id)
    if user is not None:
        return {
            "@odata.type": "#microsoft.graph.user",
            "id": user["id"],
            "displayName": user["displayName"],
            "userPrincipalName": user["userPrincipalName"],
            "mail": user["mail"],
        }
    sp = d.service_principals.get(object_id)
    if sp is not None:
        return {
            "@odata.type": "#microsoft.graph.servicePrincipal",
            "id": sp["id"],
            "appId": sp["appId"],
            "displayName": sp["displayName"],
        }
    return None


def one(call: Call, obj: Obj, *, with_key: bool = False) -> LabResponse:
    """A single object response."""
    body = shape(obj, call.version, call.query.select, with_key=with_key)
    body = {
        "@odata.context": f"{call.base}/{call.version}/$metadata#directoryObjects/$entity",
        **body,
    }
    return LabResponse.from_json(200, body)


def find_fic(d: Directory, app: Obj, ref: str, *, latest: bool = False) -> Obj:
    """A federated credential of ``app`` by id or name; a 404 when absent."""
    for fic in d.fics.where("_app", app["id"], latest=latest):
        if ref in (fic["id"], fic["name"]):
            return fic
    raise not_found(ref)


ID = r"(?P<{}>[^/]+)"
"""A path segment captured under a name (``ID.format("sp")``)."""
