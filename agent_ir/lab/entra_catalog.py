"""Fixed facts of the emulated tenant: the Microsoft Graph resource (its app roles and
delegated scopes), the built-in directory roles, well-known ids, and stable GUIDs."""

from __future__ import annotations

import uuid

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_NAME = "Microsoft Graph"
RESPONDER_NAME = "agent-ir-responder"
EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
_NAMESPACE = uuid.UUID("2f6b3b1e-3a59-4c1e-9d41-7f1e5b6c0a11")

GRAPH_APP_ROLES = (
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Application.ReadWrite.OwnedBy",
    "AppRoleAssignment.ReadWrite.All",
    "AuditLog.Read.All",
    "Calendars.Read",
    "DelegatedPermissionGrant.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Files.Read.All",
    "Files.ReadWrite.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "Mail.Read",
    "Mail.ReadWrite",
    "Mail.Send",
    "Organization.Read.All",
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
    "Sites.Read.All",
    "Sites.ReadWrite.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "User.RevokeSessions.All",
)
"""Application permissions (app roles) the built-in Microsoft Graph resource offers."""

GRAPH_SCOPES = (
    "Calendars.Read",
    "Calendars.ReadWrite",
    "Chat.Read",
    "Directory.AccessAsUser.All",
    "Directory.Read.All",
    "email",
    "Files.Read",
    "Files.Read.All",
    "Files.ReadWrite",
    "Files.ReadWrite.All",
    "Mail.Read",
    "Mail.ReadWrite",
    "Mail.Send",
    "offline_access",
    "openid",
    "profile",
    "Sites.Read.All",
    "Sites.ReadWrite.All",
    "Tasks.ReadWrite",
    "User.Read",
    "User.ReadBasic.All",
)
"""Delegated permissions (scopes) the built-in Microsoft Graph resource offers."""

DIRECTORY_ROLES = {
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "Privileged Authentication Administrator": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
    "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    "Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
    "User Administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
    "Security Administrator": "194ae4cb-b126-40b2-bd5b-6091b380977d",
    "Helpdesk Administrator": "729827e3-9c14-49f7-bb1b-9608f156bbb8",
    "Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
    "Security Reader": "5d6b6bb7-de71-4623-b4af-96380a352509",
    "Directory Readers": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
}
"""Built-in directory roles a world may assign, by display name (template ids)."""


def stable_id(tenant: str, kind: str, name: str) -> str:
    """A GUID derived from the tenant, the kind of object and its name."""
    return str(uuid.uuid5(_NAMESPACE, f"{tenant}\x00{kind}\x00{name.lower()}"))
