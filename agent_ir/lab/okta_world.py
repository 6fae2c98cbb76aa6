"""The Okta section of a world file: an org's users, OAuth apps, API tokens and AI agents.

Every object gets a stable Okta-style id derived from its name unless the world gives
one, so an inventory can name the ids the adapter reports (``identity_ids``)::

    okta:
      org: {subdomain: corp, company: Corp}
      rate_limit: {limit: 1200, window_s: 60}      # per endpoint family, as Okta counts
      users:
        - {login: alice@corp.test}
        - {login: bob@corp.test, admin_roles: [SUPER_ADMIN]}
        - {login: svc-etl@corp.test, agent: etl-agent, owner: bob@corp.test}  # service user
      apps:
        - label: invoice-agent
          agent: invoice-agent            # app profile attribute agent_ir_agent
          owner: alice@corp.test          # app profile attribute agent_ir_owner
          keys: 1                         # RSA key pairs; the JWKS holds the public halves
          scopes: [okta.users.read, okta.apps.read]
          groups: [finance]
          last_used_days_ago: 0           # its last token grant in the System Log
          consents:
            - {user: alice@corp.test, scopes: [okta.users.read], tokens: 2}
        - {label: hr-sync, auth: client_secret_basic, secrets: [{age_days: 60}],
           scopes: [okta.users.manage], admin_roles: [USER_ADMIN]}
      api_tokens:
        - {name: gpt-scraper-bot, user: bob@corp.test, age_days: 200, last_used_days_ago: 2}
      ai_agents:
        - {name: helpdesk-copilot, owners: [alice@corp.test], keys: 1}

Ages are counted back from when the lab starts. Lengths honour the okta SDK's model
limits (``client_id`` at least 6 characters, ``login`` at least 5), which would otherwise
fail deserialisation in every client built on it.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent_ir.errors import Problem
from agent_ir.lab.section import WorldSection
from agent_ir.yamlsrc import Located, PathKey

ADMIN_ROLES = (
    "SUPER_ADMIN",
    "ORG_ADMIN",
    "APP_ADMIN",
    "USER_ADMIN",
    "HELP_DESK_ADMIN",
    "GROUP_MEMBERSHIP_ADMIN",
    "API_ACCESS_MANAGEMENT_ADMIN",
    "MOBILE_ADMIN",
    "REPORT_ADMIN",
    "READ_ONLY_ADMIN",
)
"""The standard Okta admin role types a world may assign."""

RoleType = Literal[
    "SUPER_ADMIN",
    "ORG_ADMIN",
    "APP_ADMIN",
    "USER_ADMIN",
    "HELP_DESK_ADMIN",
    "GROUP_MEMBERSHIP_ADMIN",
    "API_ACCESS_MANAGEMENT_ADMIN",
    "MOBILE_ADMIN",
    "REPORT_ADMIN",
    "READ_ONLY_ADMIN",
]

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SCOPE = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_TOKEN_WINDOW = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")


def okta_id(prefix: str, *parts: str) -> str:
    """A stable 20-character Okta-style id (``0oa…``, ``00u…``) derived from ``parts``."""
    digest = int.from_bytes(hashlib.sha256("\x00".join(parts).encode()).digest(), "big")
    chars = []
    for _ in range(20 - len(prefix)):
        digest, index = divmod(digest, len(_ALPHABET))
        chars.append(_ALPHABET[index])
    return prefix + "".join(chars)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrgSpec(_Strict):
    """The org itself."""

    subdomain: str = Field("corp", pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    company: str = "Corp"


class RateLimitSpec(_Strict):
    """The per-endpoint-family rate limit the emulator enforces and advertises."""

    limit: int = Field(1200, ge=1, le=1_000_000, description="requests per window per bucket")
    window_s: int = Field(60, ge=1, le=3600, description="window length (Okta: one minute)")


class UserSpec(_Strict):
    """One Okta user: a human, or a service user when ``agent`` is set."""

    login: str = Field(min_length=5, max_length=100)
    email: str | None = Field(None, description="default: the login")
    first_name: str | None = None
    last_name: str | None = None
    id: str | None = Field(None, min_length=5)
    status: Literal["ACTIVE", "SUSPENDED", "STAGED", "DEPROVISIONED"] = "ACTIVE"
    admin_roles: list[RoleType] = Field(default_factory=list)
    agent: str | None = Field(None, description="profile attribute agent_ir_agent")
    owner: str | None = Field(None, description="profile attribute agent_ir_owner")
    sessions: int = Field(1, ge=0, le=100, description="live sign-in sessions")
    age_days: float = Field(300, ge=0, le=20_000)

    @field_validator("owner", "email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address")
        return value


class SecretSpec(_Strict):
    """One client secret of an app."""

    age_days: float = Field(0, ge=0, le=20_000)
    status: Literal["ACTIVE", "INACTIVE"] = "ACTIVE"


class ConsentSpec(_Strict):
    """A user's consent to an app: scope grants, and refresh tokens issued under them."""

    user: str
    scopes: list[str] = Field(min_length=1)
    tokens: int = Field(1, ge=0, le=100, description="refresh tokens the user holds")
    age_days: float = Field(10, ge=0, le=20_000)


class AppSpec(_Strict):
    """One OAuth app that can get tokens as itself (client credentials)."""

    label: str = Field(min_length=1, max_length=100)
    id: str | None = Field(None, min_length=5)
    client_id: str | None = Field(None, min_length=6, max_length=100)
    status: Literal["ACTIVE", "INACTIVE"] = "ACTIVE"
    agent: str | None = Field(None, description="app profile attribute agent_ir_agent")
    owner: str | None = Field(None, description="app profile attribute agent_ir_owner")
    auth: Literal["private_key_jwt", "client_secret_basic", "client_secret_post"] = (
        "private_key_jwt"
    )
    keys: int = Field(0, ge=0, le=5, description="RSA key pairs in the app's JWKS")
    secrets: list[SecretSpec] = Field(default_factory=list, max_length=2)
    scopes: list[str] = Field(default_factory=list, description="Okta API scopes granted")
    admin_roles: list[RoleType] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list, description="groups assigned to the app")
    consents: list[ConsentSpec] = Field(default_factory=list)
    dpop: bool = Field(False, description="require DPoP-bound access tokens")
    age_days: float = Field(100, ge=0, le=20_000)
    last_used_days_ago: float | None = Field(
        None, ge=0, le=20_000, description="its last token grant in the System Log; null: none"
    )

    @field_validator("owner")
    @classmethod
    def _owner_email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address")
        return value

    @field_validator("scopes")
    @classmethod
    def _scope_names(cls, scopes: list[str]) -> list[str]:
        for scope in scopes:
            if not _SCOPE.match(scope):
                raise ValueError(f"{scope!r} is not a scope name")
        return scopes


class ApiTokenSpec(_Strict):
    """An API token: it acts with every permission of the user who created it."""

    name: str = Field(min_length=1, max_length=100)
    user: str = Field(description="login of the user who created it")
    id: str | None = Field(None, min_length=5)
    age_days: float = Field(30, ge=0, le=20_000)
    last_used_days_ago: float = Field(0, ge=0, le=20_000)
    token_window: str = Field("P30D", description="ISO-8601 idle expiry window")
    network: Literal["ANYWHERE", "ZONE"] = "ANYWHERE"

    @field_validator("token_window")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not _TOKEN_WINDOW.match(value):
            raise ValueError(f"{value!r} is not an ISO-8601 duration such as P30D")
        return value


class AiAgentSpec(_Strict):
    """An AI agent registered with Okta for AI Agents."""

    name: str = Field(min_length=1, max_length=100)
    id: str | None = Field(None, min_length=5)
    description: str = ""
    app: str | None = Field(None, description="label of the linked app")
    owners: list[str] = Field(default_factory=list, description="logins of the owners")
    status: Literal["ACTIVE", "INACTIVE", "STAGED"] = "ACTIVE"
    keys: int = Field(0, ge=0, le=5)
    age_days: float = Field(60, ge=0, le=20_000)


class OktaWorld(WorldSection):
    """What the Okta emulator is seeded with (see the module docstring)."""

    org: OrgSpec = Field(default_factory=OrgSpec)
    rate_limit: RateLimitSpec = Field(default_factory=RateLimitSpec)
    users: list[UserSpec] = Field(default_factory=list)
    apps: list[AppSpec] = Field(default_factory=list)
    api_tokens: list[ApiTokenSpec] = Field(default_factory=list)
    ai_agents: list[AiAgentSpec] = Field(default_factory=list)

    def is_empty(self) -> bool:
        """True when there is nothing to emulate (org and limits alone do not count)."""
        return not (self.users or self.apps or self.api_tokens or self.ai_agents)

    def identity_ids(self) -> set[str]:
        """Ids the adapter reports: service apps, API tokens, AI agents, service users."""
        ids = {app_id(a) for a in self.apps}
        ids.update(api_token_id(t) for t in self.api_tokens)
        ids.update(ai_agent_id(a) for a in self.ai_agents)
        ids.update(user_id(u) for u in self.users if u.agent)
        return ids

    def activity_refs(self) -> set[str]:
        """Ids, app labels and client ids, user logins (the seeding resolves any)."""
        refs = self.identity_ids()
        refs.update(a.label for a in self.apps)
        refs.update(client_id(a) for a in self.apps)
        refs.update(u.login for u in self.users)
        refs.update(user_id(u) for u in self.users)
        return refs

    def problems(self, doc: Located, prefix: PathKey) -> list[Problem]:
        """Duplicates and dangling references, each located."""
        found: list[Problem] = []
        logins = _unique(doc, prefix, "users", [u.login.lower() for u in self.users], "login")
        found.extend(logins[1])
        labels = _unique(doc, prefix, "apps", [a.label for a in self.apps], "label")
        found.extend(labels[1])
        found.extend(
            _unique(doc, prefix, "apps", [client_id(a) for a in self.apps], "client_id")[1]
        )
        found.extend(
            _unique(doc, prefix, "api_tokens", [t.name for t in self.api_tokens], "name")[1]
        )
        found.extend(_unique(doc, prefix, "ai_agents", [a.name for a in self.ai_agents], "name")[1])
        ids: dict[str, PathKey] = {}
        for kind, items, make in (
            ("users", self.users, user_id),
            ("apps", self.apps, app_id),
            ("api_tokens", self.api_tokens, api_token_id),
            ("ai_agents", self.ai_agents, ai_agent_id),
        ):
            for index, item in enumerate(items):
                here: PathKey = (*prefix, kind, index)
                value = make(item)  # type: ignore[arg-type]
                if value in ids:
                    found.append(doc.problem((*here, "id"), f"id {value} is used twice"))
                ids[value] = here
        known = logins[0]
        for index, app in enumerate(self.apps):
            for c_index, consent in enumerate(app.consents):
                if consent.user.lower() not in known:
                    found.append(
                        doc.problem(
                            (*prefix, "apps", index, "consents", c_index, "user"),
                            f"no Okta user with login {consent.user!r}",
                        )
                    )
            if app.auth == "private_key_jwt" and app.keys == 0:
                found.append(
                    doc.problem(
                        (*prefix, "apps", index, "keys"),
                        "a private_key_jwt app needs at least one key (keys: 1)",
                    )
                )
            if app.auth != "private_key_jwt" and not app.secrets:
                found.append(
                    doc.problem(
                        (*prefix, "apps", index, "secrets"),
                        f"a {app.auth} app needs at least one secret",
                    )
                )
        for index, token in enumerate(self.api_tokens):
            if token.user.lower() not in known:
                found.append(
                    doc.problem(
                        (*prefix, "api_tokens", index, "user"),
                        f"no Okta user with login {token.user!r}",
                    )
                )
        app_labels = labels[0]
        for index, agent in enumerate(self.ai_agents):
            if agent.app is not None and agent.app not in app_labels:
                found.append(
                    doc.problem(
                        (*prefix, "ai_agents", index, "app"), f"no app labelled {agent.app!r}"
                    )
                )
            for o_index, owner in enumerate(agent.owners):
                if owner.lower() not in known:
                    found.append(
                        doc.problem(
                            (*prefix, "ai_agents", index, "owners", o_index),
                            f"no Okta user with login {owner!r}",
                        )
                    )
        return found


def _unique(
    doc: Located, prefix: PathKey, kind: str, values: list[str], key: str
) -> tuple[set[str], list[Problem]]:
    seen: set[str] = set()
    problems = []
    for index, value in enumerate(values):
        if value in seen:
            problems.append(doc.problem((*prefix, kind, index, key), f"{value!r} twice"))
        seen.add(value)
    return seen, problems


def user_id(user: UserSpec) -> str:
    """The Okta id of a world user."""
    return user.id or okta_id("00u", "user", user.login.lower())


def app_id(app: AppSpec) -> str:
    """The Okta id of a world app (also its identity id in agent-ir)."""
    return app.id or okta_id("0oa", "app", app.label)


def client_id(app: AppSpec) -> str:
    """The OAuth client id of a world app (Okta uses the app id unless told otherwise)."""
    return app.client_id or app_id(app)


def api_token_id(token: ApiTokenSpec) -> str:
    """The Okta id of a world API token."""
    return token.id or okta_id("00T", "api-token", token.name)


def ai_agent_id(agent: AiAgentSpec) -> str:
    """The Okta id of a world AI agent."""
    return agent.id or okta_id("wlp", "ai-agent", agent.name)
