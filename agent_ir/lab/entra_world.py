"""The Microsoft Entra ID section of a world file: one tenant's users, app registrations,
service principals (apps, agent identities, managed identities) and what they were granted.

Objects are named; references use those names (a user's UPN, a service principal's name,
``Microsoft Graph`` for the built-in Graph resource). Every object gets a stable GUID derived
from the tenant and its name unless the world gives one, so an inventory can name the ids
the adapter reports (``identity_ids``: service principal object ids)::

    entra:
      tenant: {id: 6f1c1f0e-5a3c-4f43-9a57-0c1d8a3f2b10, domain: corp.test}
      users:
        - {upn: alice@corp.test, name: Alice}
      applications:
        - name: finance-api
          app_roles: [Invoices.ReadWrite]
        - name: invoice-agent-blueprint
          kind: agent-blueprint
          owners: [alice@corp.test]
          tags: ["agent-ir:agent=invoice-agent"]
          passwords: [{name: prod, age_days: 400, lifetime_days: 730}]
          federated_credentials:
            - name: aws-invoice-processor
              issuer: https://1b2c3d4e.tokens.sts.global.api.aws
              subject: arn:aws:iam::111111111111:role/invoice-processor
      agent_identities:
        - name: invoice-agent
          blueprint: invoice-agent-blueprint
          sponsors: [alice@corp.test]
          tags: ["agent-ir:agent=invoice-agent", "agent-ir:owner=alice@corp.test"]
      managed_identities:
        - {name: mi-nightly-reports}
      delegated_grants:
        - {client: invoice-agent, resource: Microsoft Graph, scopes: [Mail.Read], user: alice@corp.test}
      app_role_assignments:
        - {principal: invoice-agent, resource: finance-api, role: Invoices.ReadWrite}
      directory_roles:
        - {principal: bob@corp.test, role: Global Administrator}

A delegated grant without ``user`` is an admin consent for all users (``AllPrincipals``).
Ages are counted back from when the lab starts.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from agent_ir.errors import Problem
from agent_ir.lab.entra_catalog import EXCHANGE_AUDIENCE, GRAPH_NAME, stable_id
from agent_ir.lab.entra_world_checks import world_problems
from agent_ir.lab.section import WorldSection
from agent_ir.yamlsrc import Located, PathKey

_NAMESPACE = uuid.UUID("2f6b3b1e-3a59-4c1e-9d41-7f1e5b6c0a11")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_UPN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PERMISSION = re.compile(r"^[A-Za-z0-9_.:-]{1,120}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _guid(value: str) -> str:
    if not _GUID.match(value.lower()):
        raise ValueError(f"{value!r} is not a GUID (8-4-4-4-12 hex digits)")
    return value.lower()


Guid = Annotated[str, AfterValidator(_guid)]
"""A GUID, kept in lower case."""


class TenantSpec(_Strict):
    """The tenant: its id (a GUID), its verified domain and its display name."""

    id: Guid = "6f1c1f0e-5a3c-4f43-9a57-0c1d8a3f2b10"
    domain: str = "corp.test"
    name: str = "Corp"


class UserSpec(_Strict):
    """A human user (member account)."""

    upn: str
    name: str | None = None
    id: Guid | None = None
    enabled: bool = True

    @field_validator("upn")
    @classmethod
    def _valid_upn(cls, value: str) -> str:
        if not _UPN.match(value):
            raise ValueError(f"{value!r} is not a user principal name (name@domain)")
        return value.lower()


class SecretSpec(_Strict):
    """A client secret (password credential); the lab makes up its value."""

    name: str = "secret"
    age_days: float = Field(0, ge=0, le=20_000)
    lifetime_days: float = Field(730, gt=0, le=40_000, description="from creation to expiry")
    last_used_days_ago: float | None = Field(None, ge=0, le=20_000, description="null: never")
    id: Guid | None = None


class CertificateSpec(SecretSpec):
    """A certificate (key credential); the lab generates the key pair."""

    name: str = "certificate"


class FederatedSpec(_Strict):
    """A federated identity credential: tokens of ``issuer`` for ``subject`` act as the app."""

    name: str = Field(min_length=1, max_length=120)
    issuer: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    audiences: list[str] = Field(default_factory=lambda: [EXCHANGE_AUDIENCE], min_length=1)
    description: str = ""


class AppRoleSpec(_Strict):
    """An app role (application permission) an application offers to others."""

    value: str
    description: str = ""

    @field_validator("value")
    @classmethod
    def _valid(cls, value: str) -> str:
        if not _PERMISSION.match(value):
            raise ValueError(f"{value!r} is not a valid permission value")
        return value


class ApplicationSpec(_Strict):
    """An app registration, with its service principal in the tenant (unless told not to)."""

    name: str = Field(min_length=1, max_length=120)
    kind: Literal["application", "agent-blueprint"] = "application"
    id: Guid | None = Field(None, description="application object id")
    app_id: Guid | None = Field(None, description="application (client) id")
    sp_id: Guid | None = Field(None, description="service principal object id")
    service_principal: bool = True
    enabled: bool = True
    owners: list[str] = Field(default_factory=list, description="users (UPNs)")
    tags: list[str] = Field(default_factory=list, description="service principal tags")
    app_roles: list[AppRoleSpec] = Field(default_factory=list)
    scopes: list[str] = Field(default_factory=list, description="delegated scopes it exposes")
    passwords: list[SecretSpec] = Field(default_factory=list)
    certificates: list[CertificateSpec] = Field(default_factory=list)
    federated_credentials: list[FederatedSpec] = Field(default_factory=list)

    @field_validator("app_roles", mode="before")
    @classmethod
    def _roles_as_names(cls, value: object) -> object:
        if isinstance(value, list):
            return [{"value": v} if isinstance(v, str) else v for v in value]
        return value


class AgentIdentitySpec(_Strict):
    """An agent identity: a service principal created from a blueprint, with no credentials
    of its own (its blueprint's act for it)."""

    name: str = Field(min_length=1, max_length=120)
    blueprint: str
    id: Guid | None = None
    app_id: Guid | None = None
    enabled: bool = True
    sponsors: list[str] = Field(default_factory=list, description="users (UPNs)")
    owners: list[str] = Field(default_factory=list, description="users (UPNs)")
    tags: list[str] = Field(default_factory=list)


class ManagedIdentitySpec(_Strict):
    """A managed identity's service principal (it cannot be disabled through Graph)."""

    name: str = Field(min_length=1, max_length=120)
    id: Guid | None = None
    app_id: Guid | None = None
    resource: str = Field("", description="the Azure resource id it belongs to")
    tags: list[str] = Field(default_factory=list)


class DelegatedGrantSpec(_Strict):
    """A delegated consent (oauth2PermissionGrant): ``client`` may act for ``user`` (or for
    every user when no user is named) with ``scopes`` on ``resource``."""

    client: str
    resource: str
    scopes: list[str] = Field(min_length=1)
    user: str | None = None


class AppRoleAssignmentSpec(_Strict):
    """An application permission: ``principal`` holds app role ``role`` of ``resource``."""

    principal: str
    resource: str
    role: str


class DirectoryRoleSpec(_Strict):
    """A tenant-wide directory role held by a service principal or a user."""

    principal: str
    role: str


class LimitsSpec(_Strict):
    """How the emulator paces itself (Graph's replication lag and throttling budgets)."""

    replication_delay_ms: float = Field(200, ge=0, le=10_000)
    throttling: bool = Field(True, description="enforce Graph's resource-unit budgets")
    read_ru_per_10s: int | None = Field(
        None, ge=1, le=1_000_000, description="null: by tenant size (3,500/5,000/8,000)"
    )
    writes_per_150s: int = Field(3000, ge=1, le=1_000_000)
    token_lifetime_s: int = Field(3599, ge=60, le=86_400)


class EntraWorld(WorldSection):
    """What the Microsoft Entra ID emulator is seeded with (see the module docstring)."""

    tenant: TenantSpec | None = None
    users: list[UserSpec] = Field(default_factory=list)
    applications: list[ApplicationSpec] = Field(default_factory=list)
    agent_identities: list[AgentIdentitySpec] = Field(default_factory=list)
    managed_identities: list[ManagedIdentitySpec] = Field(default_factory=list)
    delegated_grants: list[DelegatedGrantSpec] = Field(default_factory=list)
    app_role_assignments: list[AppRoleAssignmentSpec] = Field(default_factory=list)
    directory_roles: list[DirectoryRoleSpec] = Field(default_factory=list)
    limits: LimitsSpec = Field(default_factory=LimitsSpec)

    @property
    def tenant_spec(self) -> TenantSpec:
        """The tenant (the default one when the world names none)."""
        return self.tenant or TenantSpec()

    def is_empty(self) -> bool:
        """True when there is nothing to emulate (limits alone do not count)."""
        return not (
            self.tenant
            or self.users
            or self.applications
            or self.agent_identities
            or self.managed_identities
        )

    # -- ids ------------------------------------------------------------------------------

    def user_id(self, user: UserSpec) -> str:
        """The object id of a user."""
        return user.id or stable_id(self.tenant_spec.id, "user", user.upn)

    def app_object_id(self, app: ApplicationSpec) -> str:
        """The application object id of an app registration."""
        return app.id or stable_id(self.tenant_spec.id, "application", app.name)

    def app_client_id(self, app: ApplicationSpec) -> str:
        """The application (client) id of an app registration."""
        return app.app_id or stable_id(self.tenant_spec.id, "app-id", app.name)

    def app_sp_id(self, app: ApplicationSpec) -> str:
        """The service principal object id of an app registration."""
        return app.sp_id or stable_id(self.tenant_spec.id, "service-principal", app.name)

    def agent_id(self, agent: AgentIdentitySpec) -> str:
        """The service principal object id of an agent identity."""
        return agent.id or stable_id(self.tenant_spec.id, "agent-identity", agent.name)

    def agent_app_id(self, agent: AgentIdentitySpec) -> str:
        """The application (client) id of an agent identity."""
        return agent.app_id or stable_id(self.tenant_spec.id, "agent-app-id", agent.name)

    def managed_id(self, mi: ManagedIdentitySpec) -> str:
        """The service principal object id of a managed identity."""
        return mi.id or stable_id(self.tenant_spec.id, "managed-identity", mi.name)

    def managed_app_id(self, mi: ManagedIdentitySpec) -> str:
        """The application (client) id of a managed identity."""
        return mi.app_id or stable_id(self.tenant_spec.id, "managed-app-id", mi.name)

    def graph_sp_id(self) -> str:
        """The object id of the built-in Microsoft Graph service principal."""
        return stable_id(self.tenant_spec.id, "service-principal", GRAPH_NAME)

    def principal_names(self) -> dict[str, str]:
        """Every service principal's name → its object id (the Graph resource included)."""
        names = {GRAPH_NAME: self.graph_sp_id()}
        names.update({a.name: self.app_sp_id(a) for a in self.applications if a.service_principal})
        names.update({a.name: self.agent_id(a) for a in self.agent_identities})
        names.update({m.name: self.managed_id(m) for m in self.managed_identities})
        return names

    def identity_ids(self) -> set[str]:
        """Service principal object ids of apps, blueprints, agent and managed identities."""
        ids = set(self.principal_names().values())
        ids.discard(self.graph_sp_id())
        return ids

    def activity_refs(self) -> set[str]:
        """Object ids and names of service principals (the seeding resolves either)."""
        refs = self.identity_ids()
        refs.update(name for name in self.principal_names() if name != GRAPH_NAME)
        return refs

    # -- cross-checks ---------------------------------------------------------------------

    def problems(self, doc: Located, prefix: PathKey) -> list[Problem]:
        """Duplicates and dangling references, each located."""
        return world_problems(self, doc, prefix)
