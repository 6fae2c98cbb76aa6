"""Graph objects as the Entra emulator stores and returns them, and the ids they get."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from agent_ir.lab.entra_catalog import stable_id
from agent_ir.lab.entra_keys import Material
from agent_ir.lab.entra_store import Obj
from agent_ir.lab.entra_world import ApplicationSpec, EntraWorld, SecretSpec


def iso(moment: datetime) -> str:
    """Graph's timestamp format (UTC, seconds, ``Z``)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def graph_role_id(value: str) -> str:
    """The id of one of Microsoft Graph's app roles."""
    return stable_id("graph", "app-role", value)


def graph_scope_id(value: str) -> str:
    """The id of one of Microsoft Graph's delegated scopes."""
    return stable_id("graph", "scope", value)


def opaque_id(*parts: str) -> str:
    """A Graph-style opaque id (43 base64url characters), stable for the same parts."""
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def random_opaque_id() -> str:
    """A fresh Graph-style opaque id (new grants and assignments get one)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def sign_in_record(app: Obj, key_id: str, key_type: str, when: str, sp_id: str | None) -> Obj:
    """An appCredentialSignInActivity (beta reports) for one credential."""
    return {
        "id": key_id,
        "keyId": key_id,
        "keyType": key_type,
        "keyUsage": "verify" if key_type == "certificate" else "sign",
        "appId": app["appId"],
        "appObjectId": app["id"],
        "servicePrincipalObjectId": sp_id,
        "credentialOrigin": "application",
        "signInActivity": {"lastSignInDateTime": when},
    }


def assignment_object(
    principal: Obj, resource: Obj, role_id: str, assignment_id: str, created: str
) -> Obj:
    """An appRoleAssignment as Graph returns it."""
    return {
        "id": assignment_id,
        "appRoleId": role_id,
        "createdDateTime": created,
        "principalDisplayName": principal.get("displayName"),
        "principalId": principal["id"],
        "principalType": "ServicePrincipal" if "appId" in principal else "User",
        "resourceDisplayName": resource["displayName"],
        "resourceId": resource["id"],
    }


def application(
    world: EntraWorld, spec: ApplicationSpec, now: datetime, material: Material, created: str
) -> Obj:
    """An application object (app registration) as Graph returns it."""
    tenant = world.tenant_spec.id
    passwords = []
    secret_values = {}
    for cred in spec.passwords:
        key_id = cred.id or stable_id(tenant, f"password:{spec.name}", cred.name)
        passwords.append(
            password(key_id, cred.name, now, cred.age_days, cred.lifetime_days, material)
        )
        secret_values[key_id] = material.secret(key_id)
    keys = [key_credential(world, spec, cred, now, material) for cred in spec.certificates]
    roles = [
        app_role(stable_id(tenant, f"app-role:{spec.name}", r.value), r.value, r.description)
        for r in spec.app_roles
    ]
    scopes = [scope(stable_id(tenant, f"scope:{spec.name}", s), s) for s in spec.scopes]
    return {
        "id": world.app_object_id(spec),
        "appId": world.app_client_id(spec),
        "displayName": spec.name,
        "createdDateTime": created,
        "signInAudience": "AzureADMyOrg",
        "tags": [],
        "appRoles": roles,
        "api": {"oauth2PermissionScopes": scopes},
        "passwordCredentials": passwords,
        "keyCredentials": keys,
        "_kind": spec.kind,
        "_owners": [],
        "_secrets": secret_values,
    }


def password(
    key_id: str, name: str, now: datetime, age_days: float, lifetime_days: float, material: Material
) -> Obj:
    """A passwordCredential; the secret text itself is kept by the emulator."""
    start = now - timedelta(days=age_days)
    return {
        "customKeyIdentifier": None,
        "displayName": name,
        "endDateTime": iso(start + timedelta(days=lifetime_days)),
        "hint": material.secret(key_id)[:3],
        "keyId": key_id,
        "secretText": None,
        "startDateTime": iso(start),
    }


def key_credential(
    world: EntraWorld, spec: ApplicationSpec, cred: SecretSpec, now: datetime, material: Material
) -> Obj:
    """A keyCredential holding a generated certificate."""
    key_id = cred.id or stable_id(world.tenant_spec.id, f"certificate:{spec.name}", cred.name)
    cert = material.certificate(key_id, f"{spec.name}-{cred.name}")
    start = now - timedelta(days=cred.age_days)
    return {
        "customKeyIdentifier": base64.b64encode(cert.thumbprint).decode(),
        "displayName": f"CN={spec.name}-{cred.name}",
        "endDateTime": iso(start + timedelta(days=cred.lifetime_days)),
        "key": cert.key_b64,
        "keyId": key_id,
        "startDateTime": iso(start),
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
    }


def app_role(role_id: str, value: str, description: str = "") -> Obj:
    """An app role (application permission) definition."""
    return {
        "allowedMemberTypes": ["Application"],
        "description": description or value,
        "displayName": value,
        "id": role_id,
        "isEnabled": True,
        "origin": "Application",
        "value": value,
    }


def scope(scope_id: str, value: str) -> Obj:
    """A delegated permission scope definition."""
    return {
        "adminConsentDescription": value,
        "adminConsentDisplayName": value,
        "id": scope_id,
        "isEnabled": True,
        "type": "User",
        "value": value,
    }


def service_principal(
    sp_id: str,
    app_id: str,
    name: str,
    sp_type: str,
    created: str,
    tenant_id: str,
    *,
    app_roles: list[Obj] | None = None,
    scopes: list[Obj] | None = None,
    enabled: bool = True,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    """A service principal object as Graph returns it."""
    return {
        "id": sp_id,
        "appId": app_id,
        "displayName": name,
        "servicePrincipalType": sp_type,
        "accountEnabled": enabled,
        "appOwnerOrganizationId": tenant_id,
        "servicePrincipalNames": [app_id],
        "alternativeNames": [],
        "tags": list(tags or []),
        "appRoles": list(app_roles or []),
        "oauth2PermissionScopes": list(scopes or []),
        "passwordCredentials": [],
        "keyCredentials": [],
        "createdDateTime": created,
        "_owners": [],
        "_sponsors": [],
    }
