"""Cloud Audit Logs in the Google Cloud emulator: recorded from the calls it receives and
served through Cloud Logging v2's ``POST /v2/entries:list``.

Every API call from a principal other than the lab's responder becomes a ``LogEntry``
whose ``protoPayload`` is a ``type.googleapis.com/google.cloud.audit.AuditLog``:
``serviceName``, ``methodName``, ``resourceName``, ``authenticationInfo.principalEmail``
(with ``serviceAccountDelegationInfo`` when the caller's token was minted by
``generateAccessToken``: the chain that led to it, first caller first),
``requestMetadata.callerIp`` / ``callerSuppliedUserAgent`` and, when refused, ``status``
(code 7 ``PERMISSION_DENIED``, 5 ``NOT_FOUND``…). Writes go to the ``activity`` log,
reads to ``data_access``.

``entries:list`` takes ``resourceNames`` (``projects/P``), ``filter`` (the subset below),
``orderBy`` (``timestamp asc`` by default, or ``timestamp desc``), ``pageSize`` (50 by
default, at most 1,000) and ``pageToken``; it needs ``logging.privateLogEntries.list``
(``roles/logging.privateLogViewer``) on every project named. The filter subset: terms
joined by ``AND``, each ``FIELD OP VALUE`` with ``=``, ``!=``, ``>=``, ``<=``, ``>``, ``<``
and a quoted or bare value; ``timestamp`` compares as time. Anything else (``OR``,
``NOT``, ``:``, functions, parentheses) is a 400 ``INVALID_ARGUMENT``, as a filter Cloud
Logging cannot parse is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from agent_ir.lab.activity_world import ActivitySpec, plan
from agent_ir.lab.gcp_errors import ApiError, denied
from agent_ir.lab.gcp_state import GcpState
from agent_ir.lab.server import LabRequest

AUDIT_TYPE = "type.googleapis.com/google.cloud.audit.AuditLog"
LIST_PERMISSION = "logging.privateLogEntries.list"
DEFAULT_PAGE = 50
MAX_PAGE = 1000
LOG_CAP = 200_000
LAB_IP = "127.0.0.1"

_RPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 429: 8, 503: 14}
_METHODS: dict[str, tuple[str, str]] = {
    "list_accounts": ("iam.googleapis.com", "google.iam.admin.v1.ListServiceAccounts"),
    "get_account": ("iam.googleapis.com", "google.iam.admin.v1.GetServiceAccount"),
    "create_account": ("iam.googleapis.com", "google.iam.admin.v1.CreateServiceAccount"),
    "disable_account": ("iam.googleapis.com", "google.iam.admin.v1.DisableServiceAccount"),
    "enable_account": ("iam.googleapis.com", "google.iam.admin.v1.EnableServiceAccount"),
    "list_keys": ("iam.googleapis.com", "google.iam.admin.v1.ListServiceAccountKeys"),
    "get_key": ("iam.googleapis.com", "google.iam.admin.v1.GetServiceAccountKey"),
    "create_key": ("iam.googleapis.com", "google.iam.admin.v1.CreateServiceAccountKey"),
    "delete_key": ("iam.googleapis.com", "google.iam.admin.v1.DeleteServiceAccountKey"),
    "disable_key": ("iam.googleapis.com", "google.iam.admin.v1.DisableServiceAccountKey"),
    "enable_key": ("iam.googleapis.com", "google.iam.admin.v1.EnableServiceAccountKey"),
    "generate_access_token": (
        "iamcredentials.googleapis.com",
        "GenerateAccessToken",
    ),
}
_WRITES = ("create", "delete", "disable", "enable", "set", "generate", "undelete")


# -- recording -------------------------------------------------------------------------------


def method_of(handler: Callable[..., Any], segments: list[str]) -> tuple[str, str]:
    """(serviceName, methodName) of the call a handler answers."""
    name = getattr(handler, "__name__", "call")
    if name in _METHODS:
        return _METHODS[name]
    camel = "".join(part.title() for part in name.split("_"))
    if (segments and segments[0] == "v3") or (len(segments) == 3 and segments[1] == "projects"):
        camel = camel.replace("Policy", "IamPolicy")
        return "cloudresourcemanager.googleapis.com", camel
    camel = camel.replace("Policy", "IAMPolicy")
    return "iam.googleapis.com", f"google.iam.admin.v1.{camel}"


def audit_entry(
    *,
    project: str,
    caller: str,
    delegation: tuple[str, ...],
    service: str,
    method: str,
    resource: str,
    when: datetime,
    status: tuple[int, str] | None,
    ip: str,
    user_agent: str,
    write: bool,
) -> dict[str, Any]:
    """One LogEntry with an AuditLog payload, as Cloud Logging returns it."""
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    log = "activity" if write else "data_access"
    payload: dict[str, Any] = {
        "@type": AUDIT_TYPE,
        "serviceName": service,
        "methodName": method,
        "resourceName": resource,
        "authenticationInfo": {"principalEmail": caller},
        "authorizationInfo": [{"resource": resource, "granted": status is None}],
        "requestMetadata": {
            "callerIp": ip,
            "callerSuppliedUserAgent": user_agent,
            "requestAttributes": {"time": stamp},
        },
    }
    if delegation:
        payload["authenticationInfo"]["serviceAccountDelegationInfo"] = [
            {"firstPartyPrincipal": {"principalEmail": email}} for email in delegation
        ]
    if status is not None:
        payload["status"] = {"code": status[0], "message": status[1]}
    return {
        "logName": f"projects/{project}/logs/cloudaudit.googleapis.com%2F{log}",
        "resource": {
            "type": "service_account" if "serviceAccounts/" in resource else "project",
            "labels": {"project_id": project},
        },
        "protoPayload": payload,
        "insertId": uuid.uuid4().hex[:12],
        "timestamp": stamp,
        "receiveTimestamp": stamp,
        "severity": "ERROR" if status is not None else ("NOTICE" if write else "INFO"),
    }


def is_write(method: str) -> bool:
    """Whether a method changes state (Admin Activity) rather than reads (Data Access)."""
    last = method.rsplit(".", 1)[-1].lower()
    return last.startswith(_WRITES)


def rpc_status(http_status: int, message: str) -> tuple[int, str]:
    """The google.rpc.Code of an HTTP error, with its message."""
    return _RPC_CODES.get(http_status, 2), message


def caller_ip(request: LabRequest) -> str:
    """The caller's address (loopback in the lab, or a test's ``X-Forwarded-For``)."""
    forwarded = request.header("X-Forwarded-For")
    return forwarded.split(",")[0].strip() if forwarded else LAB_IP


def record(state: GcpState, entry: dict[str, Any]) -> None:
    """Append an entry to the log (the oldest go beyond the cap)."""
    log = state.audit_log
    log.append(entry)
    if len(log) > LOG_CAP:
        del log[: len(log) - LOG_CAP]


# -- entries:list ------------------------------------------------------------------------------


def entries_list(state: GcpState, caller: str, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /v2/entries:list``."""
    names = body.get("resourceNames")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ApiError(400, "resourceNames: at least one resource name is required.")
    projects = []
    for name in names:
        kind, _, ref = name.partition("/")
        project = state.project(ref) if kind == "projects" else None
        if project is None or not state.allowed(caller, LIST_PERMISSION, project.id, None):
            raise denied(LIST_PERMISSION, name)
        projects.append(project.id)
    test = parse_filter(str(body.get("filter") or ""))
    order = str(body.get("orderBy") or "timestamp asc").strip().lower()
    if order not in ("timestamp asc", "timestamp desc"):
        raise ApiError(400, f"Invalid orderBy: {body.get('orderBy')}. Only timestamp is supported.")
    prefixes = tuple(f"projects/{p}/logs/" for p in projects)
    items = [e for e in state.audit_log if e["logName"].startswith(prefixes) and test(e)]
    items.sort(key=lambda e: (e["timestamp"], e["insertId"]), reverse=order.endswith("desc"))
    size = _page_size(body.get("pageSize"))
    start = _offset(str(body.get("pageToken") or ""), len(items))
    out: dict[str, Any] = {"entries": items[start : start + size]}
    if start + size < len(items):
        out["nextPageToken"] = base64.urlsafe_b64encode(f"o:{start + size}".encode()).decode()
    return out


def _page_size(raw: Any) -> int:
    if raw in (None, 0, ""):
        return DEFAULT_PAGE
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise ApiError(400, f"Invalid value at 'page_size' ({raw!r})")
    return min(raw, MAX_PAGE)


def _offset(token: str, total: int) -> int:
    if not token:
        return 0
    try:
        start = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("o:"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "The page token is invalid.") from None
    if not 0 <= start <= total:
        raise ApiError(400, "The page token is invalid.")
    return start


_TERM = re.compile(
    r"\s*(?P<field>[A-Za-z_][\w.]*)\s*(?P<op>>=|<=|!=|=|>|<)\s*"
    r'(?P<value>"(?:[^"\\]|\\.)*"|[^\s"()]+)\s*'
)
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
}


def parse_filter(text: str) -> Callable[[dict[str, Any]], bool]:
    """Compile the supported subset of the logging query language (see the module
    docstring); 400 ``INVALID_ARGUMENT`` for the rest."""
    if not text.strip():
        return lambda _: True
    tests = [_term(part, text) for part in re.split(r"\s+AND\s+", text.strip())]
    return lambda entry: all(t(entry) for t in tests)


def _term(part: str, whole: str) -> Callable[[dict[str, Any]], bool]:
    match = _TERM.fullmatch(part)
    if match is None:
        raise ApiError(400, f"Unparseable filter: {whole}")
    field, op, value = match.group("field"), match.group("op"), match.group("value")
    if value.startswith('"'):
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    compare = _OPS[op]
    if field in ("timestamp", "receiveTimestamp"):
        wanted = _moment(value, whole)
        return lambda e: compare(_moment(str(e.get(field, "")), whole), wanted)
    if field == "protoPayload.status.code":
        return lambda e: compare(str(_lookup(e, field) or 0), value)
    return lambda e: compare(str(_lookup(e, field) or ""), value)


def _moment(text: str, whole: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"Unparseable filter: invalid timestamp {text!r} in {whole}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _lookup(entry: dict[str, Any], path: str) -> Any:
    current: Any = entry
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


# -- seeded history ----------------------------------------------------------------------------


def seed_history(
    state: GcpState, entries: Sequence[tuple[int, ActivitySpec]], now: datetime, world_name: str
) -> int:
    """Write the world's GCP ``activity:`` entries into the log; returns how many.

    ``identity`` is the service account (email) whose credential starts the chain;
    ``via`` the accounts impersonated in order, the last one acting, so its entries carry
    ``serviceAccountDelegationInfo`` of the ones before it. ``actions`` are method names
    (``storage.objects.get``, ``google.cloud.bigquery.v2.JobService.InsertJob``…), the
    service taken from them; a denied call has status 7 ``PERMISSION_DENIED``.
    """
    written = 0
    for index, spec in entries:
        chain = [spec.identity, *spec.via]
        acting, delegation = chain[-1], tuple(chain[:-1])
        account = state.account(acting)
        home = account.project if account is not None else state.world.projects[0].id
        for call in plan(spec, now, f"{world_name}:{index}"):
            resource = call.resource or f"projects/{home}"
            entry = audit_entry(
                project=_project_of(resource, home),
                caller=acting,
                delegation=delegation,
                service=_service_of(call.action),
                method=call.action,
                resource=resource,
                when=call.when,
                status=(7, f"Permission denied on {resource}.")
                if call.outcome == "denied"
                else None,
                ip=spec.source_ip,
                user_agent=spec.user_agent,
                write=is_write(call.action),
            )
            digest = hashlib.sha256(f"{world_name}|{index}|{call.number}".encode()).hexdigest()
            entry["insertId"] = digest[:12]
            state.audit_log.append(entry)
            written += 1
    return written


def _service_of(method: str) -> str:
    if "." not in method:
        return "iamcredentials.googleapis.com"
    parts = method.split(".")
    name = parts[2] if parts[0] == "google" and len(parts) > 2 else parts[0]
    return f"{name}.googleapis.com"


def _project_of(resource: str, default: str) -> str:
    parts = resource.split("/")
    found = parts[1] if len(parts) > 1 and parts[0] == "projects" else ""
    return found if found not in ("", "-", "_") else default
