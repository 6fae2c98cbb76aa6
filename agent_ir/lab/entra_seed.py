"""Seed the Entra emulator's directory from a world's ``entra`` section.

Besides the world's objects the tenant always holds the Microsoft Graph resource (its app
roles and delegated scopes) and the console's own responder: an app registration with a
client secret and the Graph application permissions a responder needs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from agent_ir.lab.entra_catalog import (
    DIRECTORY_ROLES,
    GRAPH_APP_ID,
    GRAPH_APP_ROLES,
    GRAPH_NAME,
    GRAPH_SCOPES,
    RESPONDER_NAME,
    stable_id,
)
from agent_ir.lab.entra_fic_query import index_of
from agent_ir.lab.entra_keys import Material
from agent_ir.lab.entra_objects import (
    app_role,
    application,
    assignment_object,
    graph_role_id,
    graph_scope_id,
    iso,
    opaque_id,
    password,
    scope,
    service_principal,
    sign_in_record,
)
from agent_ir.lab.entra_store import Directory, Obj
from agent_ir.lab.entra_world import ApplicationSpec, EntraWorld

RESPONDER_ROLES = (
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "AuditLog.Read.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "Directory.Read.All",
    "RoleManagement.ReadWrite.Directory",
    "User.RevokeSessions.All",
)
"""The Graph application permissions the lab's responder holds."""


def responder_app_id(tenant_id: str) -> str:
    """The application (client) id of the lab's responder."""
    return stable_id(tenant_id, "app-id", RESPONDER_NAME)


def responder_password_id(tenant_id: str) -> str:
    """The key id of the responder's client secret."""
    return stable_id(tenant_id, "password", RESPONDER_NAME)


def seed_directory(
    world: EntraWorld,
    now: datetime,
    material: Material,
    delay_s: float,
    clock: Callable[[], float],
) -> Directory:
    """A fresh directory holding everything the world describes."""
    tenant = world.tenant_spec
    d = Directory(tenant.id, tenant.domain, tenant.name, delay_s, clock)
    created = iso(now - timedelta(days=400))
    for user in world.users:
        uid = world.user_id(user)
        d.users.seed(
            uid,
            {
                "id": uid,
                "displayName": user.name or user.upn.split("@")[0].title(),
                "userPrincipalName": user.upn,
                "mail": user.upn,
                "accountEnabled": user.enabled,
                "createdDateTime": created,
                "signInSessionsValidFromDateTime": created,
            },
        )
        d.user_by_upn[user.upn] = uid
    graph = service_principal(
        world.graph_sp_id(),
        GRAPH_APP_ID,
        GRAPH_NAME,
        "Application",
        created,
        tenant_id="f8cdef31-a31e-4b4a-93e4-5f571e91255a",
        app_roles=[app_role(graph_role_id(v), v) for v in GRAPH_APP_ROLES],
        scopes=[scope(graph_scope_id(v), v) for v in GRAPH_SCOPES],
    )
    graph["_kind"] = "graph"
    _add_sp(d, graph)
    sp_by_name: dict[str, str] = {GRAPH_NAME: graph["id"]}
    for spec in world.applications:
        app = application(world, spec, now, material, created)
        d.applications.seed(app["id"], app)
        d.app_by_client_id[app["appId"]] = app["id"]
        _seed_sign_ins(d, spec, app, now, world.app_sp_id(spec) if spec.service_principal else None)
        for fic in spec.federated_credentials:
            fid = stable_id(tenant.id, f"fic:{spec.name}", fic.name)
            d.fics.seed(
                fid,
                {
                    "id": fid,
                    "name": fic.name,
                    "issuer": fic.issuer,
                    "subject": fic.subject,
                    "audiences": list(fic.audiences),
                    "description": fic.description,
                    "_app": app["id"],
                },
            )
        if not spec.service_principal:
            continue
        sp = service_principal(
            world.app_sp_id(spec),
            app["appId"],
            spec.name,
            "Application",
            created,
            tenant_id=tenant.id,
            app_roles=app["appRoles"],
            scopes=app["api"]["oauth2PermissionScopes"],
            enabled=spec.enabled,
            tags=spec.tags,
        )
        sp["_kind"] = "blueprint" if spec.kind == "agent-blueprint" else "application"
        sp["_owners"] = [d.user_by_upn[u.lower()] for u in spec.owners]
        _add_sp(d, sp)
        sp_by_name[spec.name] = sp["id"]
    blueprints = {a.name: world.app_client_id(a) for a in world.applications}
    for agent in world.agent_identities:
        sp = service_principal(
            world.agent_id(agent),
            world.agent_app_id(agent),
            agent.name,
            "ServiceIdentity",
            created,
            tenant_id=tenant.id,
            enabled=agent.enabled,
            tags=agent.tags,
        )
        sp["_kind"] = "agent"
        sp["agentIdentityBlueprintId"] = blueprints[agent.blueprint]
        sp["createdByAppId"] = blueprints[agent.blueprint]
        sp["_sponsors"] = [d.user_by_upn[u.lower()] for u in agent.sponsors]
        sp["_owners"] = [d.user_by_upn[u.lower()] for u in agent.owners]
        _add_sp(d, sp)
        sp_by_name[agent.name] = sp["id"]
    for mi in world.managed_identities:
        sp = service_principal(
            world.managed_id(mi),
            world.managed_app_id(mi),
            mi.name,
            "ManagedIdentity",
            created,
            tenant_id=tenant.id,
            tags=mi.tags,
        )
        sp["alternativeNames"] = [mi.resource] if mi.resource else []
        sp["_kind"] = "managed"
        _add_sp(d, sp)
        sp_by_name[mi.name] = sp["id"]
    _seed_responder(d, world, now, material, created, graph)
    _seed_grants(d, world, sp_by_name, created)
    index_of(d)  # federated credentials by subject, for Graph's advanced query
    return d


def _seed_responder(
    d: Directory, world: EntraWorld, now: datetime, material: Material, created: str, graph: Obj
) -> None:
    tenant = world.tenant_spec.id
    spec = ApplicationSpec(name=RESPONDER_NAME, app_id=responder_app_id(tenant))
    app = application(world, spec, now, material, created)
    key_id = responder_password_id(tenant)
    app["passwordCredentials"] = [password(key_id, "agent-ir", now, 0, 730, material)]
    app["_secrets"] = {key_id: material.secret(key_id)}
    app["_kind"] = "responder"
    d.applications.seed(app["id"], app)
    d.app_by_client_id[app["appId"]] = app["id"]
    sp = service_principal(
        world.app_sp_id(spec), app["appId"], RESPONDER_NAME, "Application", created, tenant
    )
    sp["_kind"] = "responder"
    _add_sp(d, sp)
    for value in RESPONDER_ROLES:
        _assign(d, sp, graph, graph_role_id(value), created)


def _seed_grants(d: Directory, world: EntraWorld, sps: dict[str, str], created: str) -> None:
    tenant = world.tenant_spec.id
    lower = {name.lower(): sp_id for name, sp_id in sps.items()}
    for grant in world.delegated_grants:
        client, resource = lower[grant.client.lower()], lower[grant.resource.lower()]
        user = d.user_by_upn[grant.user.lower()] if grant.user else None
        gid = opaque_id(tenant, "grant", client, resource, str(user))
        d.grants.seed(
            gid,
            {
                "id": gid,
                "clientId": client,
                "consentType": "Principal" if user else "AllPrincipals",
                "principalId": user,
                "resourceId": resource,
                "scope": " ".join(grant.scopes),
            },
        )
    for assignment in world.app_role_assignments:
        holder = d.service_principals.latest(lower[assignment.principal.lower()])
        target = d.service_principals.latest(lower[assignment.resource.lower()])
        if holder is None or target is None:
            continue
        role_id = next(r["id"] for r in target["appRoles"] if r["value"] == assignment.role)
        _assign(d, holder, target, role_id, created)
    for name, template in DIRECTORY_ROLES.items():
        d.role_definitions.seed(
            template,
            {"id": template, "templateId": template, "displayName": name, "isBuiltIn": True},
        )
    for member in world.directory_roles:
        principal = lower.get(member.principal.lower()) or d.user_by_upn[member.principal.lower()]
        template = DIRECTORY_ROLES[member.role]
        rid = opaque_id(tenant, "role-assignment", principal, template)
        d.role_assignments.seed(
            rid,
            {
                "id": rid,
                "principalId": principal,
                "roleDefinitionId": template,
                "directoryScopeId": "/",
            },
        )


def _seed_sign_ins(
    d: Directory, spec: ApplicationSpec, app: Obj, now: datetime, sp_id: str | None
) -> None:
    for creds, kind, stored in (
        (spec.passwords, "clientSecret", app["passwordCredentials"]),
        (spec.certificates, "certificate", app["keyCredentials"]),
    ):
        for cred, entry in zip(creds, stored, strict=True):
            if cred.last_used_days_ago is None:
                continue
            when = iso(now - timedelta(days=cred.last_used_days_ago))
            d.sign_ins.seed(entry["keyId"], sign_in_record(app, entry["keyId"], kind, when, sp_id))


def _assign(d: Directory, principal: Obj, resource: Obj, role_id: str, created: str) -> None:
    aid = opaque_id(d.tenant_id, "assignment", principal["id"], resource["id"], role_id)
    d.assignments.seed(aid, assignment_object(principal, resource, role_id, aid, created))


def _add_sp(d: Directory, sp: Obj) -> None:
    d.service_principals.seed(sp["id"], sp)
    d.sp_by_client_id[sp["appId"]] = sp["id"]
