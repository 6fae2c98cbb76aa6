"""What the Okta emulator writes to its System Log beyond granted tokens (see
:class:`~agent_ir.lab.okta_org.LogEvent` for the shape ``GET /api/v1/logs`` serves).

* a refused token request (a removed key, a deactivated app, a scope not granted):
  ``app.oauth2.as.token.grant.access_token`` with ``outcome.result`` ``FAILURE`` and the
  OAuth error as the reason, the actor being the client id that asked;
* a management write by anyone but the lab's responder, with its event type
  (``user.lifecycle.deactivate``, ``user.session.clear``, ``system.api_token.revoke``…),
  and a refused one (403) as ``DENY``.

Reads of the management API leave nothing in the System Log, as on Okta. Seeded history
comes from the world's ``activity:`` section (:func:`seed_history`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from agent_ir.lab.activity_world import ActivitySpec, plan
from agent_ir.lab.okta_org import TOKEN_GRANTED, LogEvent, OrgState
from agent_ir.lab.server import LabRequest

if TYPE_CHECKING:
    from agent_ir.lab.okta_auth import Caller

LOG_CAP = 200_000
LAB_IP = "127.0.0.1"

_EVENT_TYPES: list[tuple[str, str, str, str, str]] = [
    # method, path pattern, eventType, displayMessage, target type
    (
        "POST",
        r"/api/v1/users/[^/]+/lifecycle/deactivate",
        "user.lifecycle.deactivate",
        "Deactivate Okta user",
        "User",
    ),
    (
        "POST",
        r"/api/v1/users/[^/]+/lifecycle/suspend",
        "user.lifecycle.suspend",
        "Suspend Okta user",
        "User",
    ),
    (
        "POST",
        r"/api/v1/users/[^/]+/lifecycle/activate",
        "user.lifecycle.activate",
        "Activate Okta user",
        "User",
    ),
    (
        "POST",
        r"/api/v1/users/[^/]+/lifecycle/unsuspend",
        "user.lifecycle.unsuspend",
        "Unsuspend Okta user",
        "User",
    ),
    ("DELETE", r"/api/v1/users/[^/]+/sessions", "user.session.clear", "Clear user session", "User"),
    (
        "DELETE",
        r"/api/v1/users/[^/]+/grants.*",
        "app.oauth2.as.consent.revoke",
        "Revoke consent",
        "User",
    ),
    (
        "DELETE",
        r"/api/v1/users/[^/]+/clients/.*",
        "app.oauth2.as.token.revoke",
        "OAuth2 tokens revoked",
        "User",
    ),
    (
        "POST",
        r"/api/v1/apps/[^/]+/lifecycle/deactivate",
        "application.lifecycle.deactivate",
        "Deactivate application",
        "AppInstance",
    ),
    (
        "POST",
        r"/api/v1/apps/[^/]+/lifecycle/activate",
        "application.lifecycle.activate",
        "Activate application",
        "AppInstance",
    ),
    (
        "POST",
        r"/api/v1/apps/[^/]+/credentials/.*",
        "application.lifecycle.update",
        "Update application credentials",
        "AppInstance",
    ),
    (
        "DELETE",
        r"/api/v1/apps/[^/]+/credentials/.*",
        "application.lifecycle.update",
        "Update application credentials",
        "AppInstance",
    ),
    (
        "POST",
        r"/api/v1/apps/[^/]+/grants",
        "app.oauth2.as.consent.grant",
        "Grant scope to application",
        "AppInstance",
    ),
    (
        "DELETE",
        r"/api/v1/apps/[^/]+/grants/.*",
        "app.oauth2.as.consent.revoke",
        "Revoke scope from application",
        "AppInstance",
    ),
    ("DELETE", r"/api/v1/api-tokens/.*", "system.api_token.revoke", "Revoke API token", "Token"),
    ("POST", r"/api/v1/apps", "application.lifecycle.create", "Add application", "AppInstance"),
]


def _append(state: OrgState, event: LogEvent) -> None:
    state.log.append(event)
    if len(state.log) > LOG_CAP:
        del state.log[: len(state.log) - LOG_CAP]


def client_ip(request: LabRequest) -> str:
    """The caller's address (loopback in the lab, or a test's ``X-Forwarded-For``)."""
    forwarded = request.header("X-Forwarded-For")
    return forwarded.split(",")[0].strip() if forwarded else LAB_IP


def token_refused(
    state: OrgState, request: LabRequest, now: datetime, client_id: str, reason: str
) -> None:
    """A refused token request, attributed to the client id it named."""
    app = state.app_by_client(client_id) if client_id else None
    _append(
        state,
        LogEvent(
            secrets.token_hex(18),
            now,
            client_id or "unknown",
            app.label if app is not None else "",
            event_type=TOKEN_GRANTED,
            outcome="FAILURE",
            reason=reason,
            display="OAuth2 access token request failed",
            ip=client_ip(request),
            user_agent=request.header("User-Agent") or "",
        ),
    )


def management_call(
    state: OrgState,
    request: LabRequest,
    now: datetime,
    caller: Caller,
    status: int,
    responder_client: str,
) -> None:
    """A management write (or a refused call) by anyone but the responder."""
    found = _event_type(request.method, request.path)
    if found is None and status != 403:
        return
    if request.method == "POST" and request.path.rstrip("/") == "/api/v1/apps" and status < 400:
        return  # the create handler logs its own event, with the new app as target
    event_type, display, target_type = found or (
        "core.user_auth.account_not_authorized",
        "Request denied: insufficient privileges",
        "Resource",
    )
    client = state.apps.get(caller.app_id or "")
    if client is not None and client.client_id == responder_client:
        return
    if caller.kind == "api-token" and caller.user_id:
        user = state.users.get(caller.user_id)
        actor_id, actor_name, actor_type = caller.user_id, user.login if user else "", "User"
        oauth_client = None
    else:
        actor_id = client.client_id if client else ""
        actor_name, actor_type = (client.label if client else ""), "PublicClientApp"
        oauth_client = actor_id
    target = request.path.rstrip("/").split("/")
    outcome = "SUCCESS" if status < 400 else "DENY" if status == 403 else "FAILURE"
    _append(
        state,
        LogEvent(
            secrets.token_hex(18),
            now,
            actor_id,
            actor_name,
            event_type=event_type,
            actor_type=actor_type,
            target_id=target[4] if len(target) > 4 else request.path,
            target_label=target[4] if len(target) > 4 else "",
            target_type=target_type,
            api_token_id=caller.token_id,
            outcome=outcome,
            reason="" if status < 400 else f"HTTP {status}",
            display=display,
            oauth_client=oauth_client,
            ip=client_ip(request),
            user_agent=request.header("User-Agent") or "",
        ),
    )


def _event_type(method: str, path: str) -> tuple[str, str, str] | None:
    clean = path.rstrip("/")
    for want_method, pattern, event_type, display, target_type in _EVENT_TYPES:
        if method == want_method and re.fullmatch(pattern, clean):
            return event_type, display, target_type
    if method in ("POST", "PUT", "DELETE"):
        noun = clean.split("/")[3] if clean.count("/") >= 3 else "resource"
        verb = {"POST": "update", "PUT": "update", "DELETE": "delete"}[method]
        return f"{noun.rstrip('s')}.lifecycle.{verb}", f"{verb.title()} {noun}", "Resource"
    return None


# -- seeded history ----------------------------------------------------------------------------


def seed_history(
    state: OrgState, entries: Sequence[tuple[int, ActivitySpec]], now: datetime, world_name: str
) -> int:
    """Write the world's Okta ``activity:`` entries into the System Log; returns how many.

    ``identity`` names a service app (label or client id: the actor is its client) or a
    user (login or id: an API token's owner); ``actions`` are event types and
    ``resources`` the targets' display names. A denied call is ``outcome.result: DENY``.
    """
    written = 0
    for index, spec in entries:
        actor = _actor(state, spec.identity)
        if actor is None:
            continue
        actor_id, label, actor_type = actor
        for call in plan(spec, now, f"{world_name}:{index}"):
            digest = hashlib.sha256(f"{world_name}|{index}|{call.number}".encode()).hexdigest()
            denied = call.outcome == "denied"
            state.log.append(
                LogEvent(
                    digest[:36],
                    call.when,
                    actor_id,
                    label,
                    event_type=call.action,
                    actor_type=actor_type,
                    target_id=call.resource,
                    target_label=call.resource,
                    target_type="AppInstance",
                    outcome="DENY" if denied else "SUCCESS",
                    reason="Insufficient permissions" if denied else "",
                    display=call.action,
                    oauth_client=actor_id if actor_type == "PublicClientApp" else None,
                    ip=spec.source_ip,
                    user_agent=spec.user_agent,
                )
            )
            written += 1
    state.log.sort(key=lambda e: e.published)
    return written


def _actor(state: OrgState, ref: str) -> tuple[str, str, str] | None:
    wanted = ref.lower()
    for app in state.apps.values():
        if wanted in (app.label.lower(), app.client_id.lower(), app.id.lower()):
            return app.client_id, app.label, "PublicClientApp"
    user = state.user(ref)
    if user is not None:
        return user.id, user.login, "User"
    return None
