"""Cross-checks of a world's ``entra`` section: duplicates and dangling references."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from agent_ir.errors import Problem
from agent_ir.lab.entra_catalog import (
    DIRECTORY_ROLES,
    GRAPH_APP_ROLES,
    GRAPH_NAME,
    GRAPH_SCOPES,
    RESPONDER_NAME,
)
from agent_ir.yamlsrc import Located, PathKey

if TYPE_CHECKING:
    from agent_ir.lab.entra_world import ApplicationSpec, EntraWorld


def world_problems(self: EntraWorld, doc: Located, prefix: PathKey) -> list[Problem]:
    """Duplicates and dangling references of an ``entra`` section, each located."""
    found: list[Problem] = []
    upns = {u.upn for u in self.users}
    found += _duplicates(doc, (*prefix, "users"), [u.upn for u in self.users], "upn")
    sp_names: list[tuple[PathKey, str]] = [((), GRAPH_NAME)]
    sp_names += [
        ((*prefix, "applications", i, "name"), a.name)
        for i, a in enumerate(self.applications)
        if a.service_principal
    ]
    sp_names += [
        ((*prefix, "agent_identities", i, "name"), a.name)
        for i, a in enumerate(self.agent_identities)
    ]
    sp_names += [
        ((*prefix, "managed_identities", i, "name"), m.name)
        for i, m in enumerate(self.managed_identities)
    ]
    seen: set[str] = set()
    for where, name in sp_names:
        if name.lower() in seen and where:
            found.append(doc.problem(where, f"service principal name {name!r} is used twice"))
        if name.lower() == RESPONDER_NAME:
            found.append(doc.problem(where, f"{name!r} is the lab responder's name"))
        seen.add(name.lower())
    found += _duplicate_ids(self, doc, prefix)
    apps = {a.name: a for a in self.applications}
    for i, app in enumerate(self.applications):
        here = (*prefix, "applications", i)
        found += _unknown_users(doc, (*here, "owners"), app.owners, upns)
        found += _duplicates(
            doc,
            (*here, "federated_credentials"),
            [f.name for f in app.federated_credentials],
            "name",
        )
        found += _duplicates(
            doc,
            (*here, "federated_credentials"),
            [f"{f.issuer} {f.subject}" for f in app.federated_credentials],
            "subject",
            "an issuer and subject pair",
        )
        found += _duplicates(doc, (*here, "app_roles"), [r.value for r in app.app_roles], "value")
    for i, agent in enumerate(self.agent_identities):
        here = (*prefix, "agent_identities", i)
        blueprint = apps.get(agent.blueprint)
        if blueprint is None or blueprint.kind != "agent-blueprint":
            found.append(
                doc.problem(
                    (*here, "blueprint"),
                    f"no application of kind agent-blueprint named {agent.blueprint!r}",
                )
            )
        elif not blueprint.service_principal:
            found.append(
                doc.problem(
                    (*here, "blueprint"),
                    f"blueprint {agent.blueprint!r} has no service principal in the tenant",
                )
            )
        found += _unknown_users(doc, (*here, "sponsors"), agent.sponsors, upns)
        found += _unknown_users(doc, (*here, "owners"), agent.owners, upns)
    found += _grant_problems(self, doc, prefix, upns, apps)
    return found


def _grant_problems(
    self: EntraWorld,
    doc: Located,
    prefix: PathKey,
    upns: set[str],
    apps: dict[str, ApplicationSpec],
) -> list[Problem]:
    found: list[Problem] = []
    principals = {n.lower() for n in self.principal_names()}

    def known(name: str) -> bool:
        return name.lower() in principals

    def roles_of(resource: str) -> set[str] | None:
        if resource == GRAPH_NAME:
            return set(GRAPH_APP_ROLES)
        app = apps.get(resource)
        return {r.value for r in app.app_roles} if app else None

    def scopes_of(resource: str) -> set[str] | None:
        if resource == GRAPH_NAME:
            return set(GRAPH_SCOPES)
        app = apps.get(resource)
        return set(app.scopes) if app else None

    consents: set[tuple[str, str, str]] = set()
    for i, grant in enumerate(self.delegated_grants):
        here = (*prefix, "delegated_grants", i)
        if not known(grant.client) or grant.client == GRAPH_NAME:
            found.append(doc.problem((*here, "client"), f"no service principal {grant.client!r}"))
        offered = scopes_of(grant.resource)
        if offered is None:
            found.append(
                doc.problem((*here, "resource"), f"no resource application {grant.resource!r}")
            )
        else:
            for j, scope in enumerate(grant.scopes):
                if scope not in offered:
                    found.append(
                        doc.problem(
                            (*here, "scopes", j),
                            f"{grant.resource} offers no delegated scope {scope!r}",
                        )
                    )
        if grant.user is not None and grant.user.lower() not in upns:
            found.append(doc.problem((*here, "user"), f"no user {grant.user!r} in this tenant"))
        key = (grant.client.lower(), grant.resource.lower(), (grant.user or "*").lower())
        if key in consents:
            found.append(
                doc.problem(here, "a second consent for the same client, resource and user")
            )
        consents.add(key)
    assigned: set[tuple[str, str, str]] = set()
    for i, assignment in enumerate(self.app_role_assignments):
        here = (*prefix, "app_role_assignments", i)
        if not known(assignment.principal) or assignment.principal == GRAPH_NAME:
            found.append(
                doc.problem((*here, "principal"), f"no service principal {assignment.principal!r}")
            )
        offered = roles_of(assignment.resource)
        if offered is None:
            found.append(
                doc.problem((*here, "resource"), f"no resource application {assignment.resource!r}")
            )
        elif assignment.role not in offered:
            found.append(
                doc.problem(
                    (*here, "role"),
                    f"{assignment.resource} offers no app role {assignment.role!r}",
                )
            )
        key = (assignment.principal, assignment.resource, assignment.role)
        if key in assigned:
            found.append(doc.problem(here, "the same app role is assigned twice"))
        assigned.add(key)
    for i, role in enumerate(self.directory_roles):
        here = (*prefix, "directory_roles", i)
        if not known(role.principal) and role.principal.lower() not in upns:
            found.append(
                doc.problem(
                    (*here, "principal"), f"no service principal or user {role.principal!r}"
                )
            )
        if role.role not in DIRECTORY_ROLES:
            found.append(
                doc.problem(
                    (*here, "role"),
                    f"unknown directory role {role.role!r} "
                    f"(known: {', '.join(sorted(DIRECTORY_ROLES))})",
                )
            )
    return found


def _duplicates(
    doc: Located, where: PathKey, values: Iterable[str], field: str, what: str | None = None
) -> list[Problem]:
    found: list[Problem] = []
    seen: set[str] = set()
    for index, value in enumerate(values):
        key = value.lower()
        if key in seen:
            found.append(
                doc.problem((*where, index, field), f"{what or repr(value)} appears twice")
            )
        seen.add(key)
    return found


def _unknown_users(doc: Located, where: PathKey, names: list[str], upns: set[str]) -> list[Problem]:
    return [
        doc.problem((*where, index), f"no user {name!r} in this tenant")
        for index, name in enumerate(names)
        if name.lower() not in upns
    ]


def _duplicate_ids(world: EntraWorld, doc: Located, prefix: PathKey) -> list[Problem]:
    found: list[Problem] = []
    seen: dict[str, str] = {}

    def check(where: PathKey, value: str, what: str) -> None:
        if value in seen and seen[value] != what:
            found.append(doc.problem(where, f"id {value} of {what} is also {seen[value]}"))
        else:
            seen[value] = what

    for i, user in enumerate(world.users):
        check((*prefix, "users", i), world.user_id(user), f"user {user.upn}")
    for i, app in enumerate(world.applications):
        here = (*prefix, "applications", i)
        check(here, world.app_object_id(app), f"application {app.name}")
        check(here, world.app_client_id(app), f"the app id of {app.name}")
        if app.service_principal:
            check(here, world.app_sp_id(app), f"service principal {app.name}")
        for j, cred in enumerate([*app.passwords, *app.certificates]):
            if cred.id:
                check(
                    (*here, "passwords" if j < len(app.passwords) else "certificates"),
                    cred.id,
                    f"a credential of {app.name}",
                )
    for i, agent in enumerate(world.agent_identities):
        here = (*prefix, "agent_identities", i)
        check(here, world.agent_id(agent), f"agent identity {agent.name}")
        check(here, world.agent_app_id(agent), f"the app id of {agent.name}")
    for i, mi in enumerate(world.managed_identities):
        here = (*prefix, "managed_identities", i)
        check(here, world.managed_id(mi), f"managed identity {mi.name}")
        check(here, world.managed_app_id(mi), f"the app id of {mi.name}")
    return found
