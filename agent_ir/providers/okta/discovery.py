"""One discovery pass over an Okta org.

Four lists are read concurrently (Okta's ``after`` cursors are opaque, so the pages of
one list come one after another): OAuth apps (``filter=name eq "oidc_client"``), API
tokens, AI agents and service users (``search=profile.agent_ir_agent pr``). Then, for
every identity the engine wants in full, the details fan out concurrently: an app's
secrets or JWKS, Okta API scope grants, admin roles and refresh tokens, its last token
grant in the System Log, and the consent grants of each user holding a token; a token creator's profile and roles; an AI agent's
owners and keys. Users are fetched by id, once each, only when something names them.

Alongside the lists, the System Log's app creations of the last 90 days
(``application.lifecycle.create``) say which apps were created through an API token
(``transaction.detail.requestApiTokenId``): such an app whose profile names no agent
belongs to the agent of the token that made it (the token's name), so an agent running on
an API token cannot hide the service apps it spawns for itself.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from agent_ir.errors import ObjectMissing
from agent_ir.model import Credential, Identity
from agent_ir.providers.base import Discovery, ProviderContext
from agent_ir.providers.okta import translate as tr
from agent_ir.providers.okta.client import OktaClient
from agent_ir.providers.okta.config import OktaSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

AI_AGENTS = "/workload-principals/api/v1/ai-agents"
TOKEN_GRANTED = "app.oauth2.as.token.grant.access_token"
APP_CREATED = "application.lifecycle.create"
LOG_RETENTION = timedelta(days=90)
OKTA_ID = re.compile(r"[0-9A-Za-z]{20}")
"""The shape of an Okta object id: the explicit inventory's other ids are not asked for."""


@dataclass(slots=True)
class AppFacts:
    """What actions need to know about one app beyond its identity."""

    id: str
    client_id: str
    label: str
    auth_method: str
    secrets: list[dict[str, Any]] = field(default_factory=list)
    keys: list[dict[str, Any]] = field(default_factory=list)
    consents: dict[str, str] = field(default_factory=dict)
    """User id → email of every user holding grants or refresh tokens for the app."""


@dataclass(slots=True)
class Facts:
    """The action-relevant facts one discovery pass learnt."""

    apps: dict[str, AppFacts] = field(default_factory=dict)
    users_by_email: dict[str, str] = field(default_factory=dict)
    token_creators: dict[str, str] = field(default_factory=dict)
    responder_ids: set[str] = field(default_factory=set)
    """The console's own app and token ids (never contained)."""


class Discoverer:
    """Runs one pass; see the module docstring."""

    def __init__(
        self, client: OktaClient, settings: OktaSettings, context: ProviderContext
    ) -> None:
        self.client = client
        self.settings = settings
        self.context = context
        self.facts = Facts()
        self.result = Discovery(provider="okta")
        self._users: dict[str, asyncio.Task[dict[str, Any] | None]] = {}
        self._roles: dict[str, asyncio.Task[list[dict[str, Any]]]] = {}
        self.account = ""
        self.made_by: dict[str, str] = {}
        """App id → the name of the API token that created it."""
        self.listed_users: dict[str, dict[str, Any]] = {}
        """The service users the listing returned, by id."""

    async def run(self) -> Discovery:
        """Discover everything; the facts stay on ``self.facts`` for the actions."""
        return await self._complete(self._run())

    async def own(self, agent: str, ids: frozenset[str]) -> Discovery:
        """The apps, AI agents and service users named ``agent`` and the apps, users, AI
        agents and API tokens whose id is in ``ids``, each read as :meth:`run` reads one
        the engine wants in full (the context should want everything), with nothing listed
        whole: the org and the lookups at once (an app search ``q`` keeping exact labels,
        ``search`` on AI agents' names and users' logins, a read by id), then each found
        principal's details at once, as :meth:`run` reads them."""
        return await self._complete(self._own(agent, ids))

    async def _complete(self, work: Awaitable[None]) -> Discovery:
        try:
            await work
        except BaseException:
            for task in [*self._users.values(), *self._roles.values()]:
                task.cancel()
            raise
        for task in self._users.values():
            user = task.result()
            if user is not None:
                self.facts.users_by_email[tr.user_email(user).lower()] = str(user["id"])
        self.result.requests = self.client.requests
        return self.result

    async def _run(self) -> None:
        self.account = await self._account()
        size = self.settings.page_size
        # An agent-scoped read asks for the agent's service users by their profile
        # attribute (Okta searches user profiles). Apps are listed whole: Okta's app
        # search (``q``) matches names and labels only, and an app is tied to its agent by
        # a profile attribute or by the API token that created it, which no app filter
        # reaches; only the apps in focus are then read in detail.
        focus = self.context.focus_agent()
        attribute = f"profile.{self.settings.agent_attribute}"
        who = f'{attribute} eq "{_quoted(focus)}"' if focus else f"{attribute} pr"
        apps, tokens, agents, users, creations = await asyncio.gather(
            self.client.pages(
                "listing apps",
                "list_applications",
                filter='name eq "oidc_client"',
                limit=size,
            ),
            self._api_tokens(),
            self._ai_agents(),
            self.client.pages("listing service users", "list_users", search=who, limit=size),
            self._app_creations(),
        )
        self.made_by = tr.apps_made_by_tokens(creations, tokens, self.settings.api_token_id)
        await self._read_each(apps, tokens, agents, users)

    async def _read_each(
        self,
        apps: list[dict[str, Any]],
        tokens: list[dict[str, Any]],
        agents: list[dict[str, Any]],
        users: list[dict[str, Any]],
    ) -> None:
        """Read each principal found in detail, every kind at once (apps: machine ones)."""
        self.listed_users = {str(u.get("id")): u for u in users}
        machine = [a for a in apps if tr.is_machine_app(a)]
        await asyncio.gather(
            self._each("okta: apps", machine, self._app),
            self._each("okta: API tokens", tokens, self._token),
            self._each("okta: AI agents", agents, self._agent),
            self._each("okta: service users", users, self._service_user),
        )

    async def _own(self, agent: str, ids: frozenset[str]) -> None:
        size = self.settings.page_size
        exact = f'"{_quoted(agent)}"'
        wanted = sorted(i for i in ids if OKTA_ID.fullmatch(i))
        self.account, apps, agents, users, found = await asyncio.gather(
            self._account(),
            self.client.pages(
                f"finding apps named {agent}", "list_applications", q=agent, limit=size
            ),
            self._ai_agents(f"profile.name eq {exact}"),
            self.client.pages(
                f"finding service users named {agent}",
                "list_users",
                search=f"profile.login eq {exact}",
                limit=size,
            ),
            asyncio.gather(*(self._by_id(i) for i in wanted)),
        )
        named = agent.lower()
        apps = [a for a in apps if str(a.get("label") or "").lower() == named]
        agents = [a for a in agents if str(_profile(a).get("name") or "").lower() == named]
        users = [u for u in users if str(_profile(u).get("login") or "").lower() == named]
        by_id = [pair for batch in found for pair in batch]
        apps += [item for kind, item in by_id if kind == "app"]
        agents += [item for kind, item in by_id if kind == "ai-agent"]
        users += [item for kind, item in by_id if kind == "user"]
        tokens = [item for kind, item in by_id if kind == "token"]
        attribute = self.settings.agent_attribute
        users = [u for u in _unique(users) if _profile(u).get(attribute)]
        await self._read_each(_unique(apps), _unique(tokens), _unique(agents), users)

    async def _by_id(self, ref: str) -> list[tuple[str, dict[str, Any]]]:
        """What the principal with id ``ref`` is: an app, user, AI agent or API token (Okta
        ids name no collection, so each is asked at once; the others answer 404)."""
        reads = await asyncio.gather(
            self._get("app", f"/api/v1/apps/{ref}"),
            self._get("user", f"/api/v1/users/{ref}"),
            self._get("ai-agent", f"{AI_AGENTS}/{ref}", "okta.aiAgents.read"),
            self._get("token", f"/api/v1/api-tokens/{ref}", "okta.apiTokens.read"),
        )
        return [r for r in reads if r is not None]

    async def _get(
        self, kind: str, path: str, scope: str | None = None
    ) -> tuple[str, dict[str, Any]] | None:
        if scope is not None and not self.may(scope):
            return None
        try:
            _, data, _ = await self.client.raw(f"reading {path}", "GET", path)
        except ObjectMissing:
            return None
        return (kind, data) if isinstance(data, dict) and data.get("id") else None

    async def _each(self, what: str, items: list[T], one: Callable[[T], Awaitable[None]]) -> None:
        done = 0
        total = len(items)

        async def run(item: T) -> None:
            nonlocal done
            await one(item)
            done += 1
            if done % 100 == 0 or done == total:
                self.context.report(what, done, total)

        await asyncio.gather(*(run(item) for item in items))

    async def _account(self) -> str:
        host = urlsplit(self.settings.org_url).hostname or "okta"
        if not self.may("okta.orgs.read"):
            return host
        org, _ = await self.client.call("reading the org", "get_org_settings")
        subdomain = org.get("subdomain") if isinstance(org, dict) else None
        return str(subdomain or host)

    def may(self, scope: str) -> bool:
        """Whether the console asked for ``scope`` (an API token may do what its admin may):
        reads the configured scopes leave out are skipped, not failed."""
        if not self.settings.uses_private_key:
            return True
        manage = scope.removesuffix(".read") + ".manage"
        return scope in self.settings.scopes or manage in self.settings.scopes

    async def _api_tokens(self) -> list[dict[str, Any]]:
        if not self.may("okta.apiTokens.read"):
            return []
        # Okta describes no query parameters for this list (the SDK sends none): follow the
        # ``Link`` pages it answers with, by hand.
        return await self.client.raw_pages("listing API tokens", "/api/v1/api-tokens", {})

    async def _ai_agents(self, search: str | None = None) -> list[dict[str, Any]]:
        if not self.may("okta.aiAgents.read"):
            return []
        params = {"limit": str(self.settings.page_size)}
        if search is not None:
            params["search"] = search
        try:
            return await self.client.raw_pages("listing AI agents", AI_AGENTS, params)
        except ObjectMissing:
            log.info("this Okta org has no AI agents API (Okta for AI Agents is an add-on)")
            return []

    async def _app_creations(self) -> list[dict[str, Any]]:
        """The System Log's app creations within its retention."""
        if not self.may("okta.logs.read"):
            return []
        since = self.context.clock() - LOG_RETENTION
        return await self.client.raw_pages(
            "reading app creations in the System Log",
            "/api/v1/logs",
            {
                "since": since.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "filter": f'eventType eq "{APP_CREATED}"',
                "limit": "1000",
            },
        )

    def user(self, user_id: str) -> asyncio.Task[dict[str, Any] | None]:
        """The user with this id (fetched once, shared by everyone who asks)."""
        task = self._users.get(user_id)
        if task is None:
            task = asyncio.ensure_future(self._fetch_user(user_id))
            self._users[user_id] = task
        return task

    async def _fetch_user(self, user_id: str) -> dict[str, Any] | None:
        try:
            user, _ = await self.client.call(f"reading user {user_id}", "get_user", user_id)
        except ObjectMissing:
            return None
        return user if isinstance(user, dict) else None

    def roles_of_user(self, user_id: str) -> asyncio.Task[list[dict[str, Any]]]:
        """The admin roles assigned to a user (fetched once)."""
        task = self._roles.get(user_id)
        if task is None:
            task = asyncio.ensure_future(self._fetch_roles(user_id))
            self._roles[user_id] = task
        return task

    async def _fetch_roles(self, user_id: str) -> list[dict[str, Any]]:
        if not self.may("okta.roles.read"):
            return []
        try:
            data, _ = await self.client.call(
                f"listing roles of user {user_id}", "list_assigned_roles_for_user", user_id
            )
        except ObjectMissing:
            return []
        return [r for r in data or [] if isinstance(r, dict)]

    # -- apps ---------------------------------------------------------------------------

    async def _app(self, app: dict[str, Any]) -> None:
        settings = self.settings
        client_id = tr.client_id_of(app)
        facts = AppFacts(str(app["id"]), client_id, str(app.get("label")), tr.auth_method_of(app))
        ident = tr.app_identity(
            app,
            self.account,
            agent_attribute=settings.agent_attribute,
            owner_attribute=settings.owner_attribute,
            made_by=self.made_by.get(str(app["id"])),
        )
        if settings.uses_private_key and client_id == settings.client_id:
            self.result.responder_ids.update({ident.id, client_id})
        self.facts.apps[ident.id] = facts
        if self.context.wanted(ident) and ident.id not in self.result.responder_ids:
            await self._app_details(ident, facts)
        else:
            self.result.identities.append(ident)
        if ident.owner:
            # After the consents: a delegation tree shows a human's first edge, and the
            # consent (scopes, live tokens) says more than the owner the header names.
            self.result.edges.extend(tr.owner_edges(ident, [ident.owner], "app profile"))

    async def _app_details(self, ident: Identity, facts: AppFacts) -> None:
        settings = self.settings
        credentials, last_use, grants, roles, tokens = await asyncio.gather(
            self._app_credentials(facts),
            self._last_use(facts),
            self._scope_grants(facts),
            self._client_roles(facts),
            self.client.pages(
                f"listing tokens of {facts.label}",
                "list_o_auth2_tokens_for_application",
                facts.id,
                limit=settings.page_size,
            ),
        )
        self.result.identities.append(_with(ident, tr.used_at(credentials, last_use)))
        self.result.grants.extend(tr.scope_grants(ident.id, grants))
        self.result.grants.extend(tr.role_grants(ident.id, roles, holder="OAuth client"))
        await self._consents(ident, facts, tokens)

    async def _app_credentials(self, facts: AppFacts) -> list[Credential]:
        if facts.auth_method == "private_key_jwt":
            # Raw: the SDK models JWKS keys as one-of wrappers.
            _, keys, _ = await self.client.raw(
                f"listing keys of {facts.label}",
                "GET",
                f"/api/v1/apps/{facts.id}/credentials/jwks",
            )
            facts.keys = [k for k in keys or [] if isinstance(k, dict)]
            return [tr.jwk_credential(k) for k in facts.keys]
        secrets, _ = await self.client.call(
            f"listing secrets of {facts.label}", "list_o_auth2_client_secrets", facts.id
        )
        facts.secrets = [s for s in secrets or [] if isinstance(s, dict)]
        return [tr.secret_credential(s) for s in facts.secrets]

    async def _scope_grants(self, facts: AppFacts) -> list[dict[str, Any]]:
        if not self.may("okta.appGrants.read"):
            return []
        grants, _ = await self.client.call(
            f"listing scope grants of {facts.label}", "list_scope_consent_grants", facts.id
        )
        return [g for g in grants or [] if isinstance(g, dict)]

    async def _client_roles(self, facts: AppFacts) -> list[dict[str, Any]]:
        # Raw: the SDK models role assignments as one-of wrappers.
        if not self.may("okta.roles.read"):
            return []
        _, roles, _ = await self.client.raw(
            f"listing roles of {facts.label}", "GET", f"/oauth2/v1/clients/{facts.client_id}/roles"
        )
        return [r for r in roles or [] if isinstance(r, dict)]

    async def _last_use(self, facts: AppFacts) -> datetime | None:
        """The client's last token grant in the System Log (it keeps 90 days)."""
        if not self.may("okta.logs.read"):
            return None
        since = self.context.clock() - LOG_RETENTION
        events, _ = await self.client.call(
            f"reading the last sign-in of {facts.label}",
            "list_log_events",
            since=since.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            filter=f'eventType eq "{TOKEN_GRANTED}" and actor.id eq "{facts.client_id}"',
            sort_order="DESCENDING",
            limit=1,
        )
        return tr.parse_time(events[0].get("published")) if events else None

    async def _consents(
        self, ident: Identity, facts: AppFacts, tokens: list[dict[str, Any]]
    ) -> None:
        by_user: dict[str, list[dict[str, Any]]] = {}
        for token in tokens:
            user_id = str(token.get("userId") or "")
            if user_id:
                by_user.setdefault(user_id, []).append(token)

        async def one(user_id: str) -> None:
            user, (grants, _) = await asyncio.gather(
                self.user(user_id),
                self.client.call(
                    f"listing grants of user {user_id} to {facts.label}",
                    "list_grants_for_user_and_client",
                    user_id,
                    facts.client_id,
                ),
            )
            email = tr.user_email(user) if user else user_id
            facts.consents[user_id] = email
            self.result.edges.append(tr.consent_edge(email, ident, grants or [], by_user[user_id]))

        await asyncio.gather(*(one(u) for u in by_user))

    # -- API tokens, AI agents, service users ---------------------------------------------

    async def _token(self, token: dict[str, Any]) -> None:
        # The maker (an agent's service user) is known from the listing without a request.
        listed = self.listed_users.get(str(token.get("userId") or ""))
        bare = tr.api_token_identity(token, self.account, None, self._service_user_of(listed))
        if not self.context.in_focus(bare) and bare.id != self.settings.api_token_id:
            self.result.identities.append(bare)
            return
        user_id = str(token.get("userId") or "")
        user: dict[str, Any] | None = None
        roles: list[dict[str, Any]] = []
        if user_id:
            user, roles = await asyncio.gather(self.user(user_id), self.roles_of_user(user_id))
        creator = tr.user_email(user) if user else None
        maker = self._service_user_of(user)
        ident = tr.api_token_identity(token, self.account, creator, maker)
        if ident.id == self.settings.api_token_id:
            self.result.responder_ids.add(ident.id)
        self.result.identities.append(ident)
        if creator:
            self.facts.token_creators[ident.id] = user_id
            types = [str(r.get("type")) for r in roles]
            if maker is not None:
                self.result.edges.append(tr.service_user_token_edge(maker, ident, types))
            else:
                self.result.edges.append(tr.creator_edge(creator, ident, types))
            self.result.grants.extend(
                tr.role_grants(ident.id, roles, holder="user", inherited_from=creator)
            )

    def _service_user_of(self, user: dict[str, Any] | None) -> Identity | None:
        """The service-user identity of ``user`` when its profile names an agent (a
        service user is never a human)."""
        if user is None or not (user.get("profile") or {}).get(self.settings.agent_attribute):
            return None
        return tr.service_user_identity(
            user,
            self.account,
            agent_attribute=self.settings.agent_attribute,
            owner_attribute=self.settings.owner_attribute,
        )

    async def _agent(self, agent: dict[str, Any]) -> None:
        agent_id = str(agent["id"])
        bare = tr.ai_agent_identity(agent, self.account, [], [])
        if not self.context.in_focus(bare):
            self.result.identities.append(bare)
            return
        (_, owners, _), (_, keys, _) = await asyncio.gather(
            self.client.raw(
                f"listing owners of AI agent {agent_id}", "GET", f"{AI_AGENTS}/{agent_id}/owners"
            ),
            self.client.raw(
                f"listing keys of AI agent {agent_id}",
                "GET",
                f"{AI_AGENTS}/{agent_id}/credentials/jwks",
            ),
        )
        owner_ids = [str(o.get("id")) for o in owners or [] if isinstance(o, dict)]
        users = await asyncio.gather(*(self.user(uid) for uid in owner_ids))
        emails = [tr.user_email(u) for u in users if u]
        ident = tr.ai_agent_identity(agent, self.account, emails, keys or [])
        self.result.identities.append(ident)
        self.result.edges.extend(tr.owner_edges(ident, emails, "AI agent owner"))

    async def _service_user(self, user: dict[str, Any]) -> None:
        settings = self.settings
        ident = tr.service_user_identity(
            user,
            self.account,
            agent_attribute=settings.agent_attribute,
            owner_attribute=settings.owner_attribute,
        )
        self.facts.users_by_email[tr.user_email(user).lower()] = ident.id
        self.result.identities.append(ident)
        if ident.owner:
            self.result.edges.extend(tr.owner_edges(ident, [ident.owner], "user profile"))
        if self.context.wanted(ident):
            roles = await self.roles_of_user(ident.id)
            self.result.grants.extend(tr.role_grants(ident.id, roles, holder="service user"))


def _with(identity: Identity, credentials: list[Credential]) -> Identity:
    from dataclasses import replace

    return replace(identity, credentials=tuple(credentials))


def _profile(item: dict[str, Any]) -> dict[str, Any]:
    profile = item.get("profile")
    return profile if isinstance(profile, dict) else {}


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``items`` once each by id (a principal found by name and by id is read once)."""
    return list({str(i.get("id")): i for i in items}.values())


def _quoted(value: str) -> str:
    """A value inside an Okta search expression's double quotes."""
    return value.replace("\\", "\\\\").replace('"', '\\"')
