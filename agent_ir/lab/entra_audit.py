"""Entra's audit logs in the Graph emulator: sign-ins and directory audits, recorded from
what the lab receives and served as Graph serves them.

Served (``AuditLog.Read.All``) by :mod:`agent_ir.lab.entra_graph_audit`::

    GET /beta/auditLogs/signIns        every kind of sign-in; without a ``signInEventTypes``
                                       filter only interactive user sign-ins, as Graph does
                                       (``$filter=signInEventTypes/any(t: t eq 'servicePrincipal')``)
    GET /v1.0/auditLogs/signIns        interactive user sign-ins only (v1.0 has no
                                       ``signInEventTypes``, ``servicePrincipalId``…: 400)
    GET /{v1.0,beta}/auditLogs/directoryAudits

Both are newest first, paged with ``$top`` (at most 999) and ``@odata.nextLink``, and take
``$filter`` with ``ge``/``le`` on ``createdDateTime`` / ``activityDateTime`` and ``eq`` on
the ids (``appId``, ``servicePrincipalId``, ``initiatedBy/app/appId``…).

What is recorded: every client-credentials token request from a client other than the
lab's responder (success or refusal, with Entra's AADSTS code in ``status.errorCode``) is
a service principal sign-in; every Graph write from such a client is a directory audit
(a refused one with ``result: failure``). Graph reads leave no directory audit, as in
Entra (they go to Microsoft Graph activity logs, which Graph does not serve). Seeded
history comes from the world's ``activity`` section (:func:`seed_history`).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from agent_ir.lab.activity_world import ActivitySpec, plan
from agent_ir.lab.entra_catalog import GRAPH_APP_ID
from agent_ir.lab.entra_store import Directory, Obj
from agent_ir.lab.server import LabRequest

LOG_CAP = 200_000
"""Records kept per log (oldest dropped first), so a long tabletop cannot exhaust memory."""
LAB_IP = "127.0.0.1"

V1_MISSING = (
    "signInEventTypes",
    "servicePrincipalId",
    "servicePrincipalName",
    "clientCredentialType",
    "servicePrincipalCredentialKeyId",
    "agent",
    "userAgent",
    "resourceServicePrincipalId",
)
"""signIn properties Graph serves in beta only."""

_WRITE_ACTIVITIES = {
    "addPassword": ("Update application \u2013 Certificates and secrets management", "Update"),
    "removePassword": ("Update application \u2013 Certificates and secrets management", "Update"),
    "addKey": ("Update application \u2013 Certificates and secrets management", "Update"),
    "removeKey": ("Update application \u2013 Certificates and secrets management", "Update"),
    "appRoleAssignments": ("Add app role assignment to service principal", "Assign"),
    "appRoleAssignedTo": ("Add app role assignment to service principal", "Assign"),
    "federatedIdentityCredentials": ("Update application", "Update"),
    "oauth2PermissionGrants": ("Add delegated permission grant", "Assign"),
    "roleAssignments": ("Add member to role", "Assign"),
    "revokeSignInSessions": ("Revoke sign-in sessions", "Update"),
}
_CATEGORIES = {
    "servicePrincipals": ("ApplicationManagement", "ServicePrincipal"),
    "applications": ("ApplicationManagement", "Application"),
    "users": ("UserManagement", "User"),
    "oauth2PermissionGrants": ("ApplicationManagement", "ServicePrincipal"),
    "roleManagement": ("RoleManagement", "Role"),
}


def client_ip(request: LabRequest) -> str:
    """The caller's address as the log records it (loopback in the lab, unless a test
    names one with ``X-Forwarded-For``)."""
    forwarded = request.header("X-Forwarded-For")
    return forwarded.split(",")[0].strip() if forwarded else LAB_IP


def _append(log: list[Obj], record: Obj) -> None:
    log.append(record)
    if len(log) > LOG_CAP:
        del log[: len(log) - LOG_CAP]


# -- recording -------------------------------------------------------------------------------


def sign_in(
    sp: Obj | None,
    client_id: str,
    when: datetime,
    *,
    error_code: int = 0,
    failure: str = "",
    credential: str = "clientSecret",
    key_id: str | None = None,
    resource: tuple[str, str] = ("Microsoft Graph", GRAPH_APP_ID),
    ip: str = LAB_IP,
    user_agent: str = "",
    agent_parent: str | None = None,
) -> Obj:
    """A beta ``signIn`` for a service principal (or agent identity) token request."""
    sign_in_id = str(uuid.uuid4())
    agent = {
        "agentType": "agenticAppInstance" if agent_parent else "notAgentic",
        "agentSubjectType": "agenticAppInstance" if agent_parent else "notAgentic",
        "agentSubjectParentId": agent_parent,
    }
    return {
        "id": sign_in_id,
        "createdDateTime": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "appId": client_id,
        "appDisplayName": (sp or {}).get("displayName"),
        "servicePrincipalId": (sp or {}).get("id"),
        "servicePrincipalName": (sp or {}).get("displayName"),
        "servicePrincipalCredentialKeyId": key_id,
        "clientCredentialType": credential,
        "signInEventTypes": ["servicePrincipal"],
        "isInteractive": False,
        "userId": "",
        "userDisplayName": None,
        "userPrincipalName": None,
        "ipAddress": ip,
        "userAgent": user_agent,
        "clientAppUsed": None,
        "correlationId": str(uuid.uuid4()),
        "uniqueTokenIdentifier": base64.urlsafe_b64encode(uuid.uuid4().bytes).decode()[:22],
        "resourceDisplayName": resource[0],
        "resourceId": resource[1],
        "conditionalAccessStatus": "notApplied",
        "status": {
            "errorCode": error_code,
            "failureReason": failure or None,
            "additionalDetails": None,
        },
        "agent": agent,
        "location": {"city": None, "state": None, "countryOrRegion": None},
    }


def record_sign_in(d: Directory, record: Obj) -> None:
    """Append a sign-in to the tenant's log."""
    _append(d.sign_in_log, record)


def directory_audit(
    claims: dict[str, Any],
    d: Directory,
    method: str,
    rest: str,
    when: datetime,
    status: int,
    *,
    target: Obj | None = None,
) -> Obj:
    """A ``directoryAudit`` for one Graph write by an application."""
    segments = [s for s in rest.split("/") if s]
    head = segments[0] if segments else ""
    verb = segments[-1] if len(segments) > 1 else head
    activity, operation = _WRITE_ACTIVITIES.get(verb, ("", ""))
    category, kind = _CATEGORIES.get(head, ("Other", "Other"))
    if not activity:
        noun = kind.lower() if kind != "Other" else head
        operation = {"POST": "Add", "DELETE": "Delete"}.get(method, "Update")
        activity = f"{operation} {noun}"
    if method == "DELETE" and verb in _WRITE_ACTIVITIES:
        activity, operation = activity.replace("Add", "Remove"), "Unassign"
    app_id = str(claims.get("appid", ""))
    sp = d.sp_by_app_id(app_id) or {}
    target_id = segments[1] if len(segments) > 1 else ""
    failed = status >= 400
    return {
        "id": "Directory_" + str(uuid.uuid4()),
        "category": category,
        "correlationId": str(uuid.uuid4()),
        "result": "failure" if failed else "success",
        "resultReason": _REASONS.get(status, "") if failed else "",
        "activityDisplayName": activity,
        "activityDateTime": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "loggedByService": "Core Directory",
        "operationType": operation,
        "initiatedBy": {
            "user": None,
            "app": {
                "appId": app_id,
                "displayName": sp.get("displayName"),
                "servicePrincipalId": sp.get("id") or claims.get("oid"),
                "servicePrincipalName": sp.get("displayName"),
            },
        },
        "targetResources": [
            {
                "id": (target or {}).get("id", target_id),
                "displayName": (target or {}).get("displayName"),
                "type": kind,
                "userPrincipalName": (target or {}).get("userPrincipalName"),
                "groupType": None,
                "modifiedProperties": [],
            }
        ],
        "additionalDetails": [{"key": "User-Agent", "value": ""}],
    }


_REASONS = {
    403: "Insufficient privileges to complete the operation.",
    404: "Resource does not exist.",
    400: "Bad request.",
    429: "Too many requests.",
}


def record_audit(d: Directory, record: Obj) -> None:
    """Append a directory audit to the tenant's log."""
    _append(d.audit_log, record)


# -- seeded history ----------------------------------------------------------------------------

SIGN_IN_ACTIONS = ("signIn", "token")
"""Seeded actions that are sign-ins (token requests); any other action is a directory
audit with that ``activityDisplayName``."""


def seed_history(
    d: Directory, entries: Sequence[tuple[int, ActivitySpec]], now: datetime, world_name: str
) -> int:
    """Write the world's Entra ``activity:`` entries into the logs; returns how many.

    ``identity`` names a service principal, agent identity or application (name, object
    id or app id); an agent identity's sign-ins carry its blueprint as the parent. A
    denied sign-in is AADSTS7000215 (a secret that no longer works), a denied write a
    directory audit with ``result: failure``.
    """
    written = 0
    for index, spec in entries:
        sp = _principal(d, spec.identity)
        if sp is None:
            continue
        for call in plan(spec, now, f"{world_name}:{index}"):
            digest = _digest(world_name, index, call.number)
            denied = call.outcome == "denied"
            if call.action in SIGN_IN_ACTIONS:
                record = sign_in(
                    sp,
                    str(sp["appId"]),
                    call.when,
                    error_code=7000215 if denied else 0,
                    failure="Invalid client secret provided." if denied else "",
                    resource=(call.resource or "Microsoft Graph", GRAPH_APP_ID),
                    ip=spec.source_ip,
                    user_agent=spec.user_agent,
                    agent_parent=sp.get("agentIdentityBlueprintId")
                    if sp.get("_kind") == "agent"
                    else None,
                )
                record.update(id=_guid(digest), correlationId=_guid(digest[::-1]))
                d.sign_in_log.append(record)
            else:
                claims = {"appid": sp["appId"], "oid": sp["id"]}
                audit = directory_audit(claims, d, "POST", "", call.when, 403 if denied else 200)
                audit.update(
                    id="Directory_" + _guid(digest),
                    correlationId=_guid(digest[::-1]),
                    activityDisplayName=call.action,
                )
                audit["targetResources"][0].update(id=call.resource, displayName=call.resource)
                audit["additionalDetails"] = [{"key": "User-Agent", "value": spec.user_agent}]
                d.audit_log.append(audit)
            written += 1
    return written


def _principal(d: Directory, ref: str) -> Obj | None:
    wanted = ref.lower()
    for sp in d.service_principals.latest_values():
        if wanted in (str(sp["id"]).lower(), str(sp["appId"]).lower(), sp["displayName"].lower()):
            return sp
    return None


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _guid(digest: str) -> str:
    return str(uuid.UUID(digest[:32]))
