"""The read endpoints of the Graph emulator (``GET`` and ``POST /directoryObjects/getByIds``)."""

from __future__ import annotations

from collections.abc import Callable

from agent_ir.lab.entra_fic_query import applications_by_fic, asks_for_fics
from agent_ir.lab.entra_graph import (
    ID,
    READ_ANY,
    READ_APPS,
    READ_AUDIT,
    READ_GRANTS,
    READ_ORG,
    READ_ROLES,
    READ_USERS,
    Call,
    directory_object,
    find_app,
    find_fic,
    find_sp,
    find_user,
    one,
    route,
)
from agent_ir.lab.entra_odata import Query, Rows, bad_request, collection, not_found
from agent_ir.lab.entra_store import Directory, Obj, Table
from agent_ir.lab.server import LabResponse


def _refs(call: Call, ids: list[str], context: str) -> LabResponse:
    items = [o for o in (directory_object(call.d, i) for i in ids) if o is not None]
    items.sort(key=lambda o: o["id"])
    return collection(call.request, call.base, call.version, context, items, call.query)


def _rows(table: Table, query: Query) -> Rows:
    """A listing's rows: the candidates of an indexed ``property eq 'text'`` filter, else
    the whole table (lazily, in id order)."""
    if query.equals is not None and table.indexes(query.equals[0]):
        field, text = query.equals
        return lambda after: table.candidates(after, field, text)
    return table.after


def _with_owners(d: Directory) -> Callable[[Obj], Obj]:
    def add(obj: Obj) -> Obj:
        refs = [directory_object(d, i) for i in obj.get("_owners", [])[:20]]
        return {**obj, "owners": [r for r in refs if r is not None]}

    return add


def list_sps(call: Call) -> LabResponse:
    """GET /servicePrincipals."""
    transform = _with_owners(call.d) if "owners" in call.query.expand else None
    return collection(
        call.request,
        call.base,
        call.version,
        "servicePrincipals",
        call.d.service_principals.after,
        call.query,
        transform=transform,
    )


def list_agents(call: Call) -> LabResponse:
    """GET /beta/servicePrincipals/microsoft.graph.agentIdentity (at most 100 a page)."""
    table = call.d.service_principals
    return collection(
        call.request,
        call.base,
        call.version,
        "servicePrincipals/microsoft.graph.agentIdentity",
        lambda after: table.after(after, "_kind", "agent"),
        call.query,
        max_page=100,
    )


def get_sp(call: Call, sp: str) -> LabResponse:
    """GET /servicePrincipals/{id}."""
    return one(call, find_sp(call.d, sp))


def sp_assignments(call: Call, sp: str) -> LabResponse:
    """GET /servicePrincipals/{id}/appRoleAssignments (what it holds)."""
    principal = find_sp(call.d, sp)
    table = call.d.assignments
    return collection(
        call.request,
        call.base,
        call.version,
        "appRoleAssignments",
        lambda after: table.after(after, "principalId", principal["id"]),
        call.query,
    )


def sp_assigned_to(call: Call, sp: str) -> LabResponse:
    """GET /servicePrincipals/{id}/appRoleAssignedTo (who holds its roles)."""
    resource = find_sp(call.d, sp)
    table = call.d.assignments
    return collection(
        call.request,
        call.base,
        call.version,
        "appRoleAssignments",
        lambda after: table.after(after, "resourceId", resource["id"]),
        call.query,
    )


def sp_owners(call: Call, sp: str) -> LabResponse:
    """GET /servicePrincipals/{id}/owners."""
    return _refs(call, find_sp(call.d, sp).get("_owners", []), "directoryObjects")


def sp_owned_objects(call: Call, sp: str) -> LabResponse:
    """GET /servicePrincipals/{id}/ownedObjects: the applications and service principals
    it owns (a scan: few principals own anything, and only scoped reads ask)."""
    owner = find_sp(call.d, sp)["id"]
    items: list[Obj] = []
    for kind, table in (
        ("application", call.d.applications),
        ("servicePrincipal", call.d.service_principals),
    ):
        items += [
            {
                "@odata.type": f"#microsoft.graph.{kind}",
                "id": obj["id"],
                "appId": obj.get("appId"),
                "displayName": obj.get("displayName"),
            }
            for obj in table.values()
            if owner in obj.get("_owners", [])
        ]
    items.sort(key=lambda o: str(o["id"]))
    return collection(call.request, call.base, call.version, "directoryObjects", items, call.query)


def agent_sponsors(call: Call, sp: str) -> LabResponse:
    """GET /beta/servicePrincipals/{id}/microsoft.graph.agentIdentity/sponsors."""
    agent = find_sp(call.d, sp)
    if agent.get("_kind") != "agent":
        raise not_found(sp)
    return _refs(call, agent.get("_sponsors", []), "directoryObjects")


def list_apps(call: Call) -> LabResponse:
    """GET /applications (a filter on federated credentials is answered from an index)."""
    if asks_for_fics(call.query):
        return applications_by_fic(call.request, call.base, call.version, call.d, call.query)
    transform = _with_owners(call.d) if "owners" in call.query.expand else None
    return collection(
        call.request,
        call.base,
        call.version,
        "applications",
        call.d.applications.after,
        call.query,
        transform=transform,
    )


def list_blueprints(call: Call) -> LabResponse:
    """GET /beta/applications/microsoft.graph.agentIdentityBlueprint."""
    table = call.d.applications
    return collection(
        call.request,
        call.base,
        call.version,
        "applications/microsoft.graph.agentIdentityBlueprint",
        lambda after: table.after(after, "_kind", "agent-blueprint"),
        call.query,
    )


def get_app(call: Call, app: str) -> LabResponse:
    """GET /applications/{id}: a certificate's ``key`` only under ``$select=keyCredentials``."""
    select = call.query.select or ()
    return one(call, find_app(call.d, app), with_key="keyCredentials" in select)


def app_owners(call: Call, app: str) -> LabResponse:
    """GET /applications/{id}/owners."""
    return _refs(call, find_app(call.d, app).get("_owners", []), "directoryObjects")


def list_fics(call: Call, app: str) -> LabResponse:
    """GET /applications/{id}/federatedIdentityCredentials."""
    owner = find_app(call.d, app)
    table = call.d.fics
    return collection(
        call.request,
        call.base,
        call.version,
        "federatedIdentityCredentials",
        lambda after: table.after(after, "_app", owner["id"]),
        call.query,
    )


def get_fic(call: Call, app: str, fic: str) -> LabResponse:
    """GET /applications/{id}/federatedIdentityCredentials/{id or name}."""
    return one(call, find_fic(call.d, find_app(call.d, app), fic))


def list_grants(call: Call) -> LabResponse:
    """GET /oauth2PermissionGrants."""
    return collection(
        call.request,
        call.base,
        call.version,
        "oauth2PermissionGrants",
        _rows(call.d.grants, call.query),
        call.query,
    )


def get_grant(call: Call, grant: str) -> LabResponse:
    """GET /oauth2PermissionGrants/{id}."""
    obj = call.d.grants.get(grant)
    if obj is None:
        raise not_found(grant)
    return one(call, obj)


def list_users(call: Call) -> LabResponse:
    """GET /users."""
    return collection(
        call.request, call.base, call.version, "users", call.d.users.after, call.query
    )


def get_user(call: Call, user: str) -> LabResponse:
    """GET /users/{id or userPrincipalName}."""
    return one(call, find_user(call.d, user))


def get_by_ids(call: Call) -> LabResponse:
    """POST /directoryObjects/getByIds (at most 1,000 ids)."""
    body = call.body()
    ids = body.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or len(ids) > 1000:
        raise bad_request("'ids' must be a list of at most 1000 object ids.")
    types = {str(t).lower() for t in body.get("types") or ["user", "servicePrincipal"]}
    found = []
    for object_id in ids:
        ref = directory_object(call.d, object_id)
        if ref is not None and ref["@odata.type"].rsplit(".", 1)[-1].lower() in types:
            found.append(ref)
    context = f"{call.base}/{call.version}/$metadata#directoryObjects"
    return LabResponse.from_json(200, {"@odata.context": context, "value": found})


def list_role_assignments(call: Call) -> LabResponse:
    """GET /roleManagement/directory/roleAssignments."""
    return collection(
        call.request,
        call.base,
        call.version,
        "roleManagement/directory/roleAssignments",
        _rows(call.d.role_assignments, call.query),
        call.query,
    )


def get_role_assignment(call: Call, assignment: str) -> LabResponse:
    """GET /roleManagement/directory/roleAssignments/{id}."""
    obj = call.d.role_assignments.get(assignment)
    if obj is None:
        raise not_found(assignment)
    return one(call, obj)


def list_role_definitions(call: Call) -> LabResponse:
    """GET /roleManagement/directory/roleDefinitions."""
    return collection(
        call.request,
        call.base,
        call.version,
        "roleManagement/directory/roleDefinitions",
        call.d.role_definitions.after,
        call.query,
    )


def organization(call: Call) -> LabResponse:
    """GET /organization."""
    org = {
        "id": call.d.tenant_id,
        "displayName": call.d.name,
        "verifiedDomains": [{"name": call.d.domain, "isDefault": True, "isInitial": True}],
    }
    return collection(call.request, call.base, call.version, "organization", [org], call.query)


def credential_sign_ins(call: Call) -> LabResponse:
    """GET /beta/reports/appCredentialSignInActivities."""
    return collection(
        call.request,
        call.base,
        call.version,
        "reports/appCredentialSignInActivities",
        call.d.sign_ins.after,
        call.query,
    )


READ_ROUTES = [
    route("GET", "servicePrincipals", READ_APPS, list_sps, expandable=("owners",)),
    route(
        "GET",
        r"servicePrincipals/microsoft\.graph\.agentIdentity",
        READ_APPS,
        list_agents,
        beta_only=True,
    ),
    route("GET", "servicePrincipals/" + ID.format("sp"), READ_APPS, get_sp),
    route(
        "GET",
        "servicePrincipals/" + ID.format("sp") + "/appRoleAssignments",
        READ_APPS,
        sp_assignments,
    ),
    route(
        "GET",
        "servicePrincipals/" + ID.format("sp") + "/appRoleAssignedTo",
        READ_APPS,
        sp_assigned_to,
    ),
    route("GET", "servicePrincipals/" + ID.format("sp") + "/owners", READ_APPS, sp_owners),
    route(
        "GET", "servicePrincipals/" + ID.format("sp") + "/ownedObjects", READ_APPS, sp_owned_objects
    ),
    route(
        "GET",
        "servicePrincipals/" + ID.format("sp") + r"/microsoft\.graph\.agentIdentity/sponsors",
        READ_APPS,
        agent_sponsors,
        beta_only=True,
    ),
    route(
        "GET",
        "applications",
        READ_APPS,
        list_apps,
        expandable=("owners", "federatedIdentityCredentials"),
    ),
    route(
        "GET",
        r"applications/microsoft\.graph\.agentIdentityBlueprint",
        READ_APPS,
        list_blueprints,
        beta_only=True,
    ),
    route("GET", "applications/" + ID.format("app"), READ_APPS, get_app),
    route("GET", "applications/" + ID.format("app") + "/owners", READ_APPS, app_owners),
    route(
        "GET",
        "applications/" + ID.format("app") + "/federatedIdentityCredentials",
        READ_APPS,
        list_fics,
    ),
    route(
        "GET",
        "applications/" + ID.format("app") + "/federatedIdentityCredentials/" + ID.format("fic"),
        READ_APPS,
        get_fic,
    ),
    route("GET", "oauth2PermissionGrants", READ_GRANTS, list_grants),
    route("GET", "oauth2PermissionGrants/" + ID.format("grant"), READ_GRANTS, get_grant),
    route("GET", "users", READ_USERS, list_users),
    route("GET", "users/" + ID.format("user"), READ_USERS, get_user),
    route("POST", "directoryObjects/getByIds", READ_ANY, get_by_ids, write=False),
    route("GET", "roleManagement/directory/roleAssignments", READ_ROLES, list_role_assignments),
    route(
        "GET",
        "roleManagement/directory/roleAssignments/" + ID.format("assignment"),
        READ_ROLES,
        get_role_assignment,
    ),
    route("GET", "roleManagement/directory/roleDefinitions", READ_ROLES, list_role_definitions),
    route("GET", "organization", READ_ORG, organization),
    route(
        "GET",
        "reports/appCredentialSignInActivities",
        READ_AUDIT,
        credential_sign_ins,
        beta_only=True,
    ),
]
"""Every read endpoint of the emulator."""
