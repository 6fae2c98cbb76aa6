"""The Okta emulator's org as a whole: API tokens, AI agents and their operations, the
System Log, issued access tokens, and :class:`OrgState` holding everything."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agent_ir.lab.okta_index import IndexedDict
from agent_ir.lab.okta_state import App, Jwk, RefreshToken, User, UserGrant, stamp
from agent_ir.lab.work import touch


@dataclass(slots=True)
class ApiToken:
    """An API token: a bearer of its creator's permissions until deleted or idle too long."""

    id: str
    name: str
    user_id: str
    value: str
    created: datetime
    last_used: datetime
    token_window: timedelta
    window_text: str
    network: str

    def to_json(self, base: str) -> dict[str, Any]:
        """The token's metadata as ``GET /api/v1/api-tokens`` lists it (never its value)."""
        return {
            "id": self.id,
            "name": self.name,
            "userId": self.user_id,
            "clientName": "Okta API",
            "tokenWindow": self.window_text,
            "created": stamp(self.created),
            "lastUpdated": stamp(self.last_used),
            "expiresAt": stamp(self.last_used + self.token_window),
            "network": {"connection": self.network},
            "_link": {"self": {"href": f"{base}/api/v1/api-tokens/{self.id}"}},
        }


@dataclass(slots=True)
class AiAgent:
    """An AI agent registered with Okta for AI Agents."""

    id: str
    name: str
    description: str
    app_id: str | None
    owners: list[str]
    status: str
    created: datetime
    last_updated: datetime
    jwks: list[Jwk] = field(default_factory=list)
    pending: str | None = None
    """The lifecycle operation still running, if any."""

    def to_json(self, base: str) -> dict[str, Any]:
        """The agent as ``GET /workload-principals/api/v1/ai-agents/{id}`` returns it."""
        data: dict[str, Any] = {
            "id": self.id,
            "profile": {"name": self.name, "description": self.description},
            "status": self.status,
            "created": stamp(self.created),
            "lastUpdated": stamp(self.last_updated),
            "_links": {"self": {"href": f"{base}/workload-principals/api/v1/ai-agents/{self.id}"}},
        }
        if self.app_id:
            data["appId"] = self.app_id
        return data


@dataclass(slots=True)
class Operation:
    """An asynchronous AI-agent lifecycle operation (the target of a 202's ``Location``)."""

    id: str
    agent_id: str
    target_status: str
    created: datetime
    completes: datetime


TOKEN_GRANTED = "app.oauth2.as.token.grant.access_token"
APP_CREATED = "application.lifecycle.create"


@dataclass(slots=True)
class LogEvent:
    """A System Log event: an access token granted to a client (the default; refused when
    ``outcome`` is ``FAILURE``), an app created (``application.lifecycle.create``, its
    target the new app), or another management call recorded by
    :mod:`agent_ir.lab.okta_syslog`. An event caused through an API token names it in
    ``transaction.detail.requestApiTokenId``, as Okta's does."""

    uuid: str
    published: datetime
    client_id: str
    """The actor's id (a client id, or a user id when ``actor_type`` is ``User``)."""
    label: str
    """The actor's display name."""
    event_type: str = TOKEN_GRANTED
    actor_type: str = "PublicClientApp"
    target_id: str = ""
    target_label: str = ""
    api_token_id: str | None = None
    outcome: str = "SUCCESS"
    """``SUCCESS``, ``FAILURE`` or ``DENY``."""
    reason: str = ""
    display: str = ""
    target_type: str = ""
    oauth_client: str | None = None
    """``client.id``: the OAuth client that made the request (None: none, as with SSWS)."""
    ip: str = "127.0.0.1"
    user_agent: str = ""

    def to_json(self, base: str) -> dict[str, Any]:
        """The event as ``GET /api/v1/logs`` lists it."""
        granted = self.event_type == TOKEN_GRANTED
        if granted:
            target = [{"id": "orgAS", "type": "AuthorizationServer", "displayName": "Okta API"}]
        else:
            target = [
                {
                    "id": self.target_id,
                    "type": self.target_type or "AppInstance",
                    "displayName": self.target_label,
                }
            ]
        detail = {"requestApiTokenId": self.api_token_id} if self.api_token_id else {}
        client = self.oauth_client
        if client is None and self.actor_type == "PublicClientApp":
            client = self.client_id
        display = self.display or (
            "OAuth2 access token is granted" if granted else "Add application"
        )
        return {
            "uuid": self.uuid,
            "published": stamp(self.published),
            "eventType": self.event_type,
            "version": "0",
            "severity": "INFO" if self.outcome == "SUCCESS" else "WARN",
            "displayMessage": display,
            "actor": {
                "id": self.client_id,
                "type": self.actor_type,
                "alternateId": self.client_id,
                "displayName": self.label,
                "detailEntry": None,
            },
            "client": {
                "id": client,
                "ipAddress": self.ip,
                "userAgent": {
                    "rawUserAgent": self.user_agent or None,
                    "os": None,
                    "browser": None,
                },
                "zone": "null",
                "device": "Unknown",
                "geographicalContext": None,
            },
            "authenticationContext": {
                "authenticationProvider": None,
                "credentialProvider": None,
                "credentialType": None,
                "issuer": None,
                "externalSessionId": "unknown",
                "interface": None,
            },
            "outcome": {"result": self.outcome, "reason": self.reason or None},
            "target": target,
            "transaction": {"type": "WEB", "id": self.uuid[:20], "detail": detail},
            "debugContext": {"debugData": {}},
        }


@dataclass(slots=True)
class AccessToken:
    """An access token the org authorization server issued by client credentials."""

    app_id: str
    scopes: frozenset[str]
    expires: datetime
    jkt: str | None = None


@dataclass(slots=True)
class OrgState:
    """Everything the emulated org holds; guard every access with ``lock``."""

    subdomain: str
    company: str
    created: datetime
    users: IndexedDict[User] = field(default_factory=IndexedDict)
    apps: IndexedDict[App] = field(default_factory=IndexedDict)
    groups: dict[str, str] = field(default_factory=dict)
    user_grants: IndexedDict[UserGrant] = field(
        default_factory=lambda: IndexedDict(("user_id", "app_id"))
    )
    refresh_tokens: IndexedDict[RefreshToken] = field(
        default_factory=lambda: IndexedDict(("user_id", "app_id"))
    )
    api_tokens: IndexedDict[ApiToken] = field(default_factory=IndexedDict)
    ai_agents: IndexedDict[AiAgent] = field(default_factory=IndexedDict)
    operations: dict[str, Operation] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    used_jti: set[str] = field(default_factory=set)
    log: list[LogEvent] = field(default_factory=list)
    clients: dict[str, str] = field(default_factory=dict)
    """OAuth client id → app id."""
    lock: threading.RLock = field(default_factory=threading.RLock)
    unsettled: set[str] = field(default_factory=set)
    """AI agents with a lifecycle operation still running (what :meth:`settle` reads)."""

    def user(self, ref: str) -> User | None:
        """A user by id or login."""
        found = self.users.get(ref)
        if found is not None:
            return found
        return self.users.find("login", lambda u: u.login.lower(), ref.lower())

    def app_by_client(self, client_id: str) -> App | None:
        """An app by its OAuth client id."""
        app = self.apps.get(self.clients.get(client_id, ""))
        if app is None or app.client_id != client_id:
            app = next((a for a in self.apps.values() if a.client_id == client_id), None)
        return app

    def add_app(self, app: App) -> None:
        """Add an app and index its client id."""
        self.apps[app.id] = app
        self.clients[app.client_id] = app.id

    def settle(self, now: datetime) -> None:
        """Finish the AI-agent lifecycle operations whose time has come."""
        for agent_id in sorted(self.unsettled):
            agent = self.ai_agents.get(agent_id)
            touch()
            op = self.operations.get(agent.pending or "") if agent is not None else None
            if agent is None or op is None:
                self.unsettled.discard(agent_id)
            elif op.completes <= now:
                agent.status = op.target_status
                agent.last_updated = op.completes
                agent.pending = None
                self.unsettled.discard(agent_id)
