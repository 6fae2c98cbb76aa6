"""The audit log endpoints of the Graph emulator (see :mod:`agent_ir.lab.entra_audit` for
what is recorded and the shapes)::

    GET /beta/auditLogs/signIns      GET /v1.0/auditLogs/signIns (user sign-ins only)
    GET /{v1.0,beta}/auditLogs/directoryAudits
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

from agent_ir.lab.entra_audit import V1_MISSING
from agent_ir.lab.entra_graph import READ_AUDIT, Call, route
from agent_ir.lab.entra_odata import ODataError, Query, bad_request, shape
from agent_ir.lab.entra_store import Obj
from agent_ir.lab.server import LabRequest, LabResponse

MAX_TOP = 999
DEFAULT_TOP = 100


def list_sign_ins(call: Call) -> LabResponse:
    """GET /{version}/auditLogs/signIns."""
    request, base, version, d, query = call.request, call.base, call.version, call.d, call.query
    raw_filter = query.raw.get("$filter", "")
    if version != "beta":
        for name in V1_MISSING:
            if name in raw_filter or name in (query.select or ()):
                raise ODataError(
                    400,
                    "BadRequest",
                    f"Could not find a property named '{name}' on type 'microsoft.graph.signIn'.",
                )
    items = list(d.sign_in_log)
    if "signInEventTypes" not in raw_filter:
        items = [i for i in items if "interactiveUser" in i.get("signInEventTypes", [])]
    if version != "beta":
        items = [{k: v for k, v in i.items() if k not in V1_MISSING} for i in items]
    return _log_page(request, base, version, "auditLogs/signIns", items, query, "createdDateTime")


def list_directory_audits(call: Call) -> LabResponse:
    """GET /{version}/auditLogs/directoryAudits."""
    return _log_page(
        call.request,
        call.base,
        call.version,
        "auditLogs/directoryAudits",
        list(call.d.audit_log),
        call.query,
        "activityDateTime",
    )


AUDIT_ROUTES = [
    route("GET", "auditLogs/signIns", READ_AUDIT, list_sign_ins),
    route("GET", "auditLogs/directoryAudits", READ_AUDIT, list_directory_audits),
]
"""The audit log endpoints of the emulator."""


def _log_page(
    request: LabRequest,
    base: str,
    version: str,
    context: str,
    items: list[Obj],
    query: Query,
    time_key: str,
) -> LabResponse:
    """Newest first; the skip token names the last record served, so records arriving
    while a client pages do not shift it onto ones it has already seen."""
    if query.predicate is not None:
        items = [i for i in items if query.predicate(i)]
    items.sort(key=lambda i: (str(i.get(time_key, "")), str(i["id"])), reverse=True)
    size = min(query.top or DEFAULT_TOP, MAX_TOP)
    start = 0
    if query.skiptoken:
        after = _decode(query.skiptoken)
        start = next(
            (n for n, i in enumerate(items) if (str(i.get(time_key, "")), str(i["id"])) < after),
            len(items),
        )
    chunk = items[start : start + size]
    body: Obj = {
        "@odata.context": f"{base}/{version}/$metadata#{context}",
        "value": [shape(i, version, query.select) for i in chunk],
    }
    if start + size < len(items) and chunk:
        last = chunk[-1]
        token = _encode((str(last.get(time_key, "")), str(last["id"])))
        params = {k: v for k, v in query.raw.items() if k != "$skiptoken"}
        params["$top"] = str(size)
        params["$skiptoken"] = token
        body["@odata.nextLink"] = f"{base}{request.path}?{urlencode(params)}"
    return LabResponse.from_json(200, body)


def _encode(after: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(after)).encode()).decode().rstrip("=")


def _decode(token: str) -> tuple[str, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()))
        return str(data[0]), str(data[1])
    except (ValueError, IndexError, TypeError):
        raise bad_request("Invalid $skiptoken.") from None
