"""The write endpoints of the Graph emulator, with the hazards Entra has.

* ``PATCH`` answers 204 with no body; a managed identity's service principal cannot be
  patched (400), and an agent identity only through ``/beta`` with its ``@odata.type``.
* ``addPassword`` shows ``secretText`` once; ``removePassword`` forgets the secret for good.
* ``PATCH keyCredentials`` replaces the whole list and needs every entry's ``key``.
* Re-creating a grant, an app role assignment, a role assignment or a federated credential
  gives it a **new id**; a second identical grant is refused (409).
* ``revokeSignInSessions`` answers **200** with ``{"value": true}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509

from agent_ir.lab.entra_fic_query import record
from agent_ir.lab.entra_graph import (
    ID,
    Call,
    Route,
    find_app,
    find_fic,
    find_sp,
    find_user,
    route,
)
from agent_ir.lab.entra_keys import Material
from agent_ir.lab.entra_objects import assignment_object, iso, random_opaque_id
from agent_ir.lab.entra_odata import ODataError, bad_request, not_found, shape
from agent_ir.lab.entra_store import Obj
from agent_ir.lab.server import LabResponse

WRITE_APPS = ("Application.ReadWrite.All",)
WRITE_GRANTS = ("DelegatedPermissionGrant.ReadWrite.All",)
WRITE_ASSIGNMENTS = ("AppRoleAssignment.ReadWrite.All",)
WRITE_ROLES = ("RoleManagement.ReadWrite.Directory",)
REVOKE_SESSIONS = ("User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All")
_SP_FIELDS = {"accountEnabled", "tags", "displayName", "notes", "@odata.type"}
_APP_FIELDS = {"keyCredentials", "displayName", "tags", "notes"}


def _no_content() -> LabResponse:
    return LabResponse(204)


def _created(call: Call, obj: Obj, context: str) -> LabResponse:
    body = {"@odata.context": f"{call.base}/{call.version}/$metadata#{context}/$entity"}
    body.update(shape(obj, call.version, None))
    return LabResponse.from_json(201, body)


def _now() -> datetime:
    return datetime.now(UTC)


def patch_sp(call: Call, sp: str) -> LabResponse:
    """PATCH /servicePrincipals/{id}."""
    body = call.body()
    current = find_sp(call.d, sp, latest=True)
    unknown = set(body) - _SP_FIELDS
    if unknown:
        raise bad_request(
            f"Property '{sorted(unknown)[0]}' cannot be updated on a service principal."
        )
    if current.get("_kind") == "managed":
        raise bad_request(
            "Updates to the service principal of a managed identity are not supported; "
            "manage it through its Azure resource."
        )
    if current.get("_kind") == "agent" and (
        call.version != "beta" or body.get("@odata.type") != "#microsoft.graph.agentIdentity"
    ):
        raise bad_request(
            "An agent identity is updated through /beta with "
            "'@odata.type': '#microsoft.graph.agentIdentity'."
        )
    if "accountEnabled" in body and not isinstance(body["accountEnabled"], bool):
        raise bad_request("'accountEnabled' must be true or false.")
    updated = {**current, **{k: v for k, v in body.items() if not k.startswith("@")}}
    call.d.service_principals.put(updated["id"], updated)
    return _no_content()


def add_password(call: Call, material: Material, owner: Obj, table: str) -> LabResponse:
    """POST …/addPassword: a new secret, its text shown in this answer only."""
    body = call.body().get("passwordCredential") or {}
    if not isinstance(body, dict):
        raise bad_request("'passwordCredential' must be an object.")
    key_id = str(uuid.uuid4())
    secret = material.secret(key_id)
    start = _now()
    end = body.get("endDateTime") or iso(start + timedelta(days=730))
    entry = {
        "customKeyIdentifier": None,
        "displayName": body.get("displayName"),
        "endDateTime": end,
        "hint": secret[:3],
        "keyId": key_id,
        "secretText": None,
        "startDateTime": iso(start),
    }
    updated = {
        **owner,
        "passwordCredentials": [*owner.get("passwordCredentials", []), entry],
        "_secrets": {**owner.get("_secrets", {}), key_id: secret},
    }
    getattr(call.d, table).put(owner["id"], updated)
    context = f"{call.base}/{call.version}/$metadata#microsoft.graph.passwordCredential"
    return LabResponse.from_json(200, {"@odata.context": context, **entry, "secretText": secret})


def remove_password(call: Call, owner: Obj, table: str) -> LabResponse:
    """POST …/removePassword: the secret is gone and cannot be brought back."""
    key_id = str(call.body().get("keyId", "")).lower()
    kept = [p for p in owner.get("passwordCredentials", []) if p["keyId"] != key_id]
    if len(kept) == len(owner.get("passwordCredentials", [])):
        raise not_found(key_id)
    secrets = {k: v for k, v in owner.get("_secrets", {}).items() if k != key_id}
    getattr(call.d, table).put(
        owner["id"], {**owner, "passwordCredentials": kept, "_secrets": secrets}
    )
    return _no_content()


def patch_app(call: Call, app: str) -> LabResponse:
    """PATCH /applications/{id} (``keyCredentials`` replaces the whole list)."""
    body = call.body()
    current = find_app(call.d, app, latest=True)
    unknown = set(body) - _APP_FIELDS
    if unknown:
        raise bad_request(f"Property '{sorted(unknown)[0]}' cannot be updated here.")
    updated = dict(current)
    if "keyCredentials" in body:
        updated["keyCredentials"] = [_key_credential(k) for k in body["keyCredentials"] or []]
    for name in ("displayName", "tags", "notes"):
        if name in body:
            updated[name] = body[name]
    call.d.applications.put(updated["id"], updated)
    return _no_content()


def _key_credential(raw: Any) -> Obj:
    if not isinstance(raw, dict):
        raise bad_request("Each keyCredential must be an object.")
    key = raw.get("key")
    if not key:
        raise bad_request(
            "Property 'key' of every keyCredential is required when updating keyCredentials; "
            "read them with $select=keyCredentials to keep the existing ones."
        )
    try:
        der = base64.b64decode(key, validate=True)
        cert = x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError):
        raise bad_request("Property 'key' is not a base64 X.509 certificate.") from None
    thumb = base64.b64encode(hashlib.sha1(der).digest()).decode()
    return {
        "customKeyIdentifier": raw.get("customKeyIdentifier") or thumb,
        "displayName": raw.get("displayName") or cert.subject.rfc4514_string(),
        "endDateTime": raw.get("endDateTime") or iso(cert.not_valid_after_utc),
        "key": key,
        "keyId": str(raw.get("keyId") or uuid.uuid4()).lower(),
        "startDateTime": raw.get("startDateTime") or iso(cert.not_valid_before_utc),
        "type": raw.get("type") or "AsymmetricX509Cert",
        "usage": raw.get("usage") or "Verify",
    }


def create_fic(call: Call, app: str) -> LabResponse:
    """POST /applications/{id}/federatedIdentityCredentials (a new id every time)."""
    owner = find_app(call.d, app, latest=True)
    body = call.body()
    name, issuer, subject = body.get("name"), body.get("issuer"), body.get("subject")
    audiences = body.get("audiences")
    if not all(isinstance(v, str) and v for v in (name, issuer, subject)) or not (
        isinstance(audiences, list) and audiences
    ):
        raise bad_request("'name', 'issuer', 'subject' and 'audiences' are required.")
    for fic in call.d.fics.where("_app", owner["id"], latest=True):
        if fic["name"] == name or (fic["issuer"], fic["subject"]) == (issuer, subject):
            raise ODataError(
                409,
                "Request_MultipleObjectsWithSameKeyValue",
                "A federated identity credential with this name, or this issuer and subject, "
                "already exists on the application.",
            )
    fic_id = str(uuid.uuid4())
    obj = {
        "id": fic_id,
        "name": name,
        "issuer": issuer,
        "subject": subject,
        "audiences": list(audiences),
        "description": body.get("description") or "",
        "_app": owner["id"],
    }
    call.d.fics.put(fic_id, obj)
    record(call.d, obj)
    return _created(call, obj, f"applications('{owner['id']}')/federatedIdentityCredentials")


def delete_fic(call: Call, app: str, fic: str) -> LabResponse:
    """DELETE /applications/{id}/federatedIdentityCredentials/{id or name}."""
    found = find_fic(call.d, find_app(call.d, app, latest=True), fic, latest=True)
    call.d.fics.delete(found["id"])
    return _no_content()


def create_grant(call: Call) -> LabResponse:
    """POST /oauth2PermissionGrants."""
    body = call.body()
    consent = body.get("consentType")
    client, resource = str(body.get("clientId", "")), str(body.get("resourceId", ""))
    principal = body.get("principalId")
    scope = body.get("scope")
    if consent not in ("Principal", "AllPrincipals") or not isinstance(scope, str) or not scope:
        raise bad_request("'clientId', 'consentType', 'resourceId' and 'scope' are required.")
    if (consent == "Principal") != bool(principal):
        raise bad_request("'principalId' is required for Principal consent, and only then.")
    find_sp(call.d, client, latest=True)
    find_sp(call.d, resource, latest=True)
    if principal:
        find_user(call.d, str(principal), latest=True)
    for grant in call.d.grants.where("clientId", client, latest=True):
        same = (grant["clientId"], grant["consentType"], grant["principalId"], grant["resourceId"])
        if same == (client, consent, principal, resource):
            raise ODataError(
                409, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists."
            )
    obj = {
        "id": random_opaque_id(),
        "clientId": client,
        "consentType": consent,
        "principalId": principal,
        "resourceId": resource,
        "scope": scope,
    }
    call.d.grants.put(obj["id"], obj)
    return _created(call, obj, "oauth2PermissionGrants")


def patch_grant(call: Call, grant: str) -> LabResponse:
    """PATCH /oauth2PermissionGrants/{id} (only ``scope`` may change)."""
    current = call.d.grants.latest(grant)
    if current is None:
        raise not_found(grant)
    body = call.body()
    if set(body) != {"scope"} or not isinstance(body["scope"], str):
        raise bad_request("Only 'scope' can be updated on an oauth2PermissionGrant.")
    call.d.grants.put(grant, {**current, "scope": body["scope"]})
    return _no_content()


def delete_grant(call: Call, grant: str) -> LabResponse:
    """DELETE /oauth2PermissionGrants/{id}."""
    if call.d.grants.latest(grant) is None:
        raise not_found(grant)
    call.d.grants.delete(grant)
    return _no_content()


def create_assignment(call: Call, sp: str) -> LabResponse:
    """POST /servicePrincipals/{id}/appRoleAssignments or …/appRoleAssignedTo."""
    body = call.body()
    principal = find_sp(call.d, str(body.get("principalId", "")), latest=True)
    resource = find_sp(call.d, str(body.get("resourceId", "")), latest=True)
    if sp not in (principal["id"], resource["id"]):
        raise bad_request("The assignment must name this service principal.")
    role = str(body.get("appRoleId", ""))
    if role not in {r["id"] for r in resource.get("appRoles", [])}:
        raise bad_request(f"Permission {role} does not exist on the resource.")
    for existing in call.d.assignments.where("principalId", principal["id"], latest=True):
        if (existing["principalId"], existing["resourceId"], existing["appRoleId"]) == (
            principal["id"],
            resource["id"],
            role,
        ):
            raise bad_request("Permission being assigned already exists on the object")
    obj = assignment_object(principal, resource, role, random_opaque_id(), iso(_now()))
    call.d.assignments.put(obj["id"], obj)
    return _created(call, obj, "appRoleAssignments")


def delete_assignment(call: Call, sp: str, assignment: str) -> LabResponse:
    """DELETE /servicePrincipals/{id}/appRoleAssignments/{id} (or …/appRoleAssignedTo/{id})."""
    current = call.d.assignments.latest(assignment)
    owner = find_sp(call.d, sp, latest=True)
    if current is None or owner["id"] not in (current["principalId"], current["resourceId"]):
        raise not_found(assignment)
    call.d.assignments.delete(assignment)
    return _no_content()


def create_role_assignment(call: Call) -> LabResponse:
    """POST /roleManagement/directory/roleAssignments."""
    body = call.body()
    principal = str(body.get("principalId", ""))
    definition = str(body.get("roleDefinitionId", ""))
    scope = str(body.get("directoryScopeId", "/"))
    if call.d.role_definitions.latest(definition) is None:
        raise bad_request(f"Role definition {definition} does not exist.")
    if (
        call.d.users.latest(principal) is None
        and call.d.service_principals.latest(principal) is None
    ):
        raise not_found(principal)
    for existing in call.d.role_assignments.where("principalId", principal, latest=True):
        if (
            existing["principalId"],
            existing["roleDefinitionId"],
            existing["directoryScopeId"],
        ) == (
            principal,
            definition,
            scope,
        ):
            raise ODataError(
                409,
                "Request_MultipleObjectsWithSameKeyValue",
                "A conflicting object with one or more of the specified property values is "
                "present in the directory.",
            )
    obj = {
        "id": random_opaque_id(),
        "principalId": principal,
        "roleDefinitionId": definition,
        "directoryScopeId": scope,
    }
    call.d.role_assignments.put(obj["id"], obj)
    return _created(call, obj, "roleManagement/directory/roleAssignments")


def delete_role_assignment(call: Call, assignment: str) -> LabResponse:
    """DELETE /roleManagement/directory/roleAssignments/{id}."""
    if call.d.role_assignments.latest(assignment) is None:
        raise not_found(assignment)
    call.d.role_assignments.delete(assignment)
    return _no_content()


def revoke_sessions(call: Call, user: str) -> LabResponse:
    """POST /users/{id}/revokeSignInSessions: 200 with a body, not 204."""
    current = find_user(call.d, user, latest=True)
    call.d.users.put(current["id"], {**current, "signInSessionsValidFromDateTime": iso(_now())})
    context = f"{call.base}/{call.version}/$metadata#Edm.Boolean"
    return LabResponse.from_json(200, {"@odata.context": context, "value": True})


def write_routes(material: Material) -> list[Route]:
    """Every write endpoint (password endpoints need the emulator's key material)."""

    def app_add(call: Call, app: str) -> LabResponse:
        return add_password(call, material, find_app(call.d, app, latest=True), "applications")

    def sp_add(call: Call, sp: str) -> LabResponse:
        return add_password(call, material, find_sp(call.d, sp, latest=True), "service_principals")

    def app_remove(call: Call, app: str) -> LabResponse:
        return remove_password(call, find_app(call.d, app, latest=True), "applications")

    def sp_remove(call: Call, sp: str) -> LabResponse:
        return remove_password(call, find_sp(call.d, sp, latest=True), "service_principals")

    sp_path = "servicePrincipals/" + ID.format("sp")
    app_path = "applications/" + ID.format("app")
    fics = app_path + "/federatedIdentityCredentials"
    grants = "oauth2PermissionGrants"
    roles = "roleManagement/directory/roleAssignments"
    return [
        route("PATCH", sp_path, WRITE_APPS, patch_sp),
        route("POST", sp_path + "/addPassword", WRITE_APPS, sp_add),
        route("POST", sp_path + "/removePassword", WRITE_APPS, sp_remove),
        route("POST", sp_path + "/appRoleAssignments", WRITE_ASSIGNMENTS, create_assignment),
        route("POST", sp_path + "/appRoleAssignedTo", WRITE_ASSIGNMENTS, create_assignment),
        route(
            "DELETE",
            sp_path + "/(?:appRoleAssignments|appRoleAssignedTo)/" + ID.format("assignment"),
            WRITE_ASSIGNMENTS,
            delete_assignment,
        ),
        route("PATCH", app_path, WRITE_APPS, patch_app),
        route("POST", app_path + "/addPassword", WRITE_APPS, app_add),
        route("POST", app_path + "/removePassword", WRITE_APPS, app_remove),
        route("POST", fics, WRITE_APPS, create_fic),
        route("DELETE", fics + "/" + ID.format("fic"), WRITE_APPS, delete_fic),
        route("POST", grants, WRITE_GRANTS, create_grant),
        route("PATCH", grants + "/" + ID.format("grant"), WRITE_GRANTS, patch_grant),
        route("DELETE", grants + "/" + ID.format("grant"), WRITE_GRANTS, delete_grant),
        route("POST", roles, WRITE_ROLES, create_role_assignment),
        route("DELETE", roles + "/" + ID.format("assignment"), WRITE_ROLES, delete_role_assignment),
        route(
            "POST",
            "users/" + ID.format("user") + "/revokeSignInSessions",
            REVOKE_SESSIONS,
            revoke_sessions,
        ),
    ]
