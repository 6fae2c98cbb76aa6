"""Seed the Okta emulator's org from a world's ``okta`` section, plus the console's own
service app (the responder), which signs in with a private key JWT."""

from __future__ import annotations

from datetime import datetime, timedelta

from agent_ir.lab.okta_keys import KeyStore
from agent_ir.lab.okta_org import AiAgent, ApiToken, LogEvent, OrgState
from agent_ir.lab.okta_state import (
    App,
    Jwk,
    RefreshToken,
    Role,
    ScopeGrant,
    Secret,
    User,
    UserGrant,
)
from agent_ir.lab.okta_world import (
    AppSpec,
    OktaWorld,
    ai_agent_id,
    api_token_id,
    app_id,
    client_id,
    okta_id,
    user_id,
)

RESPONDER_LABEL = "agent-ir-responder"
RESPONDER_ID = okta_id("0oa", "responder")
RESPONDER_KEY = "responder/0"
RESPONDER_SCOPES = (
    "okta.orgs.read",
    "okta.users.read",
    "okta.users.manage",
    "okta.apps.read",
    "okta.apps.manage",
    "okta.appGrants.read",
    "okta.appGrants.manage",
    "okta.apiTokens.read",
    "okta.apiTokens.manage",
    "okta.roles.read",
    "okta.roles.manage",
    "okta.groups.read",
    "okta.aiAgents.read",
    "okta.aiAgents.manage",
    "okta.logs.read",
)
"""Every scope the console's service app is granted in the lab (read and contain)."""

_REFRESH_LIFETIME = timedelta(days=90)


def key_name(owner: str, index: int) -> str:
    """The key store name of one key pair of an app or AI agent."""
    return f"{owner}/{index}"


def _jwks(keys: KeyStore, owner: str, count: int, created: datetime) -> list[Jwk]:
    out = []
    for index in range(count):
        n, e = keys.public_numbers(key_name(owner, index))
        out.append(
            Jwk(
                id=okta_id("pks", owner, str(index)),
                kid=okta_id("kid", owner, str(index))[3:],
                status="ACTIVE",
                n=n,
                e=e,
                created=created,
                last_updated=created,
            )
        )
    return out


def seed(world: OktaWorld, now: datetime, keys: KeyStore) -> OrgState:
    """A fresh org holding exactly what the world describes, plus the responder app."""
    state = OrgState(world.org.subdomain, world.org.company, now - timedelta(days=1000))
    for spec in world.users:
        local = spec.login.split("@", 1)[0]
        created = now - timedelta(days=spec.age_days)
        user = User(
            id=user_id(spec),
            login=spec.login,
            email=spec.email or spec.login,
            first_name=spec.first_name or local.replace(".", " ").replace("-", " ").title(),
            last_name=spec.last_name or "Lab",
            status=spec.status,
            created=created,
            last_updated=created,
            agent=spec.agent,
            owner=spec.owner,
            sessions=spec.sessions,
        )
        user.roles = [
            Role(okta_id("irb", "user-role", user.id, role), role, created)
            for role in spec.admin_roles
        ]
        state.users[user.id] = user
    for spec_app in world.apps:
        app = _app(spec_app, now, keys)
        state.add_app(app)
        if spec_app.last_used_days_ago is not None:
            used = now - timedelta(days=spec_app.last_used_days_ago)
            state.log.append(LogEvent(okta_id("log", app.id), used, app.client_id, app.label))
        for group in spec_app.groups:
            state.groups.setdefault(okta_id("00g", "group", group), group)
        _consents(state, spec_app, app, now)
    for token in world.api_tokens:
        owner = state.user(token.user)
        if owner is None:
            continue
        tid = api_token_id(token)
        state.api_tokens[tid] = ApiToken(
            id=tid,
            name=token.name,
            user_id=owner.id,
            value=keys.secret(f"api-token/{token.name}", "00"),
            created=now - timedelta(days=token.age_days),
            last_used=now - timedelta(days=token.last_used_days_ago),
            token_window=parse_window(token.token_window),
            window_text=token.token_window,
            network=token.network,
        )
    labels = {a.label: a.id for a in state.apps.values()}
    for agent in world.ai_agents:
        aid = ai_agent_id(agent)
        created = now - timedelta(days=agent.age_days)
        owners = [u.id for o in agent.owners if (u := state.user(o)) is not None]
        state.ai_agents[aid] = AiAgent(
            id=aid,
            name=agent.name,
            description=agent.description,
            app_id=labels.get(agent.app or ""),
            owners=owners,
            status=agent.status,
            created=created,
            last_updated=created,
            jwks=_jwks(keys, f"ai-agent:{agent.name}", agent.keys, created),
        )
    responder = _responder(now, keys)
    state.add_app(responder)
    state.log.sort(key=lambda event: event.published)
    return state


def _app(spec: AppSpec, now: datetime, keys: KeyStore) -> App:
    aid = app_id(spec)
    created = now - timedelta(days=spec.age_days)
    app = App(
        id=aid,
        client_id=client_id(spec),
        label=spec.label,
        status=spec.status,
        created=created,
        last_updated=created,
        auth_method=spec.auth,
        app_type="web" if spec.consents else "service",
        agent=spec.agent,
        owner=spec.owner,
        dpop=spec.dpop,
    )
    app.secrets = [
        Secret(
            id=okta_id("ocs", aid, str(index)),
            value=keys.secret(f"secret/{spec.label}/{index}"),
            status=secret.status,
            created=now - timedelta(days=secret.age_days),
            last_updated=now - timedelta(days=secret.age_days),
        )
        for index, secret in enumerate(spec.secrets)
    ]
    app.jwks = _jwks(keys, f"app:{spec.label}", spec.keys, created)
    app.scope_grants = [
        ScopeGrant(okta_id("oag", aid, scope), scope, created) for scope in spec.scopes
    ]
    app.roles = [
        Role(okta_id("irb", "client-role", aid, role), role, created) for role in spec.admin_roles
    ]
    app.groups = {okta_id("00g", "group", group): created for group in spec.groups}
    return app


def _consents(state: OrgState, spec: AppSpec, app: App, now: datetime) -> None:
    for consent in spec.consents:
        user = state.user(consent.user)
        if user is None:
            continue
        created = now - timedelta(days=consent.age_days)
        for scope in consent.scopes:
            gid = okta_id("oag", "user-grant", user.id, app.id, scope)
            state.user_grants[gid] = UserGrant(gid, user.id, app.id, scope, created)
        for index in range(consent.tokens):
            tid = okta_id("oar", "refresh", user.id, app.id, str(index))
            state.refresh_tokens[tid] = RefreshToken(
                tid, user.id, app.id, list(consent.scopes), created, now + _REFRESH_LIFETIME
            )


def _responder(now: datetime, keys: KeyStore) -> App:
    created = now - timedelta(days=1)
    app = App(
        id=RESPONDER_ID,
        client_id=RESPONDER_ID,
        label=RESPONDER_LABEL,
        status="ACTIVE",
        created=created,
        last_updated=created,
        auth_method="private_key_jwt",
        app_type="service",
    )
    n, e = keys.public_numbers(RESPONDER_KEY)
    app.jwks = [Jwk(okta_id("pks", "responder"), responder_kid(), "ACTIVE", n, e, created, created)]
    app.scope_grants = [
        ScopeGrant(okta_id("oag", RESPONDER_ID, s), s, created) for s in RESPONDER_SCOPES
    ]
    app.roles = [Role(okta_id("irb", "client-role", RESPONDER_ID), "SUPER_ADMIN", created)]
    return app


def responder_kid() -> str:
    """The key id of the responder's signing key."""
    return "agent-ir-responder-key"


def parse_window(text: str) -> timedelta:
    """An ISO-8601 duration of days, weeks, hours, minutes and seconds (no years/months)."""
    import re

    match = re.match(
        r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$",
        text,
    )
    if match is None:
        return timedelta(days=30)
    years, months, weeks, days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(
        days=years * 365 + months * 30 + weeks * 7 + days,
        hours=hours,
        minutes=minutes,
        seconds=seconds,
    )
