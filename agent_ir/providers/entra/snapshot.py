"""What one Entra discovery read from Graph, kept for translation and for planning actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Obj = dict[str, Any]

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
MICROSOFT_TENANTS = {"f8cdef31-a31e-4b4a-93e4-5f571e91255a", "72f988bf-86f1-41af-91ab-2d7cd011db47"}
"""Tenants that own Microsoft's first-party applications (Graph and the like)."""


def parse_time(text: Any) -> datetime | None:
    """A Graph timestamp as an aware datetime (None when absent or unreadable)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def human(user: Obj | None) -> str | None:
    """The ``human:<email>`` node of a user reference (None for anything else)."""
    if not user or "user" not in str(user.get("@odata.type", "#microsoft.graph.user")):
        return None
    mail = user.get("mail") or user.get("userPrincipalName")
    return f"human:{str(mail).lower()}" if mail else None


@dataclass
class Snapshot:
    """What one discovery read from Graph, kept for translation and for planning actions."""

    tenant_id: str
    domain: str
    service_principals: dict[str, Obj] = field(default_factory=dict)
    agents: dict[str, Obj] = field(default_factory=dict)
    applications: dict[str, Obj] = field(default_factory=dict)
    blueprint_app_ids: set[str] = field(default_factory=set)
    fics: dict[str, list[Obj]] = field(default_factory=dict)
    sponsors: dict[str, list[Obj]] = field(default_factory=dict)
    grants: dict[str, Obj] = field(default_factory=dict)
    assignments: dict[str, Obj] = field(default_factory=dict)
    role_assignments: dict[str, Obj] = field(default_factory=dict)
    role_names: dict[str, str] = field(default_factory=dict)
    users: dict[str, Obj] = field(default_factory=dict)
    sign_ins: dict[str, datetime] = field(default_factory=dict)

    def sp_by_app_id(self, app_id: str) -> Obj | None:
        """A service principal by its app (client) id."""
        return next((s for s in self.service_principals.values() if s.get("appId") == app_id), None)

    def app_of(self, sp_id: str) -> Obj | None:
        """The application behind a service principal, when it is in the tenant."""
        sp = self.service_principals.get(sp_id)
        return self.applications.get(str(sp.get("appId"))) if sp else None

    def kind(self, sp: Obj) -> str:
        """The identity kind of a service principal."""
        if sp["id"] in self.agents or sp.get("servicePrincipalType") == "ServiceIdentity":
            return "agent-identity"
        if sp.get("servicePrincipalType") == "ManagedIdentity":
            return "managed-identity"
        if sp.get("appId") in self.blueprint_app_ids:
            return "agent-blueprint"
        return "service-principal"

    def blueprint_of(self, agent_id: str) -> Obj | None:
        """The blueprint principal of an agent identity."""
        blueprint = self.agents.get(agent_id, {}).get("agentIdentityBlueprintId")
        return self.sp_by_app_id(str(blueprint)) if blueprint else None

    def agents_of_blueprint(self, blueprint_sp: Obj) -> list[str]:
        """The agent identities a blueprint principal created."""
        return [
            a
            for a, data in self.agents.items()
            if data.get("agentIdentityBlueprintId") == blueprint_sp.get("appId")
        ]

    def principal_label(self, object_id: str | None) -> str:
        """A readable name for a user or service principal id."""
        if not object_id:
            return "(nobody)"
        sp = self.service_principals.get(object_id)
        if sp:
            return str(sp.get("displayName") or object_id)
        user = self.users.get(object_id)
        if user:
            return str(user.get("userPrincipalName") or user.get("mail") or object_id)
        return object_id

    def human_of(self, object_id: str | None) -> str | None:
        """``human:<email>`` of a user id, when known."""
        return human(self.users.get(object_id or ""))

    def is_first_party(self, sp: Obj) -> bool:
        """Microsoft's own service principals (Graph and the like) are not identities here."""
        return (
            sp.get("appOwnerOrganizationId") in MICROSOFT_TENANTS or sp.get("appId") == GRAPH_APP_ID
        )
