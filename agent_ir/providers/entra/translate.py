"""Pure translation of Graph data into the model: identities, credentials, grants, edges.

**Identities.** Every service principal of the tenant except Microsoft's first-party ones:
apps (``service-principal``), agent identities (``agent-identity``), their blueprints'
principals (``agent-blueprint``) and managed identities (``managed-identity``). The id is
the service principal's object id; its app (client) id is an alias.

**Agents and owners (tag convention).** A service principal tag ``agent-ir:agent=<name>``
ties it to agent ``<name>``; ``agent-ir:owner=<upn>`` names its human owner. Without an
owner tag, an agent identity's first sponsor, else the first human owner, is the owner.
An agent identity without its own ``agent-ir:agent`` tag belongs to the agent its
blueprint's principal is tagged with: the blueprint holds the credentials that act for
every agent identity it creates, so one it spawns is that agent's too.

**Credentials.** The client secrets (``client-secret``) and certificates (``certificate``)
of the application behind the principal (for an agent identity: none, its blueprint holds
them), the principal's own secrets and certificates, and federated identity credentials
(``federated-credential``, not static). ``last_used`` comes from the credential sign-in
report when the responder may read it.

**Grants.** App roles, delegated scopes (one grant per scope) and directory roles; their
risk is decided in
:mod:`agent_ir.providers.entra.risk`.

**Edges.** ``human:<upn> → principal`` for each per-user consent (CONSENT) and for owners
and sponsors (OWNER); an admin consent for everyone comes from ``human:*@<domain>``; a
service principal that owns another's application can add credentials to it
(IMPERSONATE); a blueprint can obtain tokens as each of its agent identities
(TOKEN_EXCHANGE); and each federated identity credential lets an outside workload act as
the application (FEDERATION), from the id that workload has in its own provider: an AWS
role ARN (an assumed-role session ARN is mapped to its role), a Google service account's
unique id or email (issuer ``accounts.google.com``), an Entra object id (issuer
``login.microsoftonline.com`` / ``sts.windows.net``), else ``external:<issuer>``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from agent_ir.model import Credential, Edge, EdgeKind, Grant, Identity
from agent_ir.providers.entra.risk import api_permission_risk, graph_permission_risk, role_risk
from agent_ir.providers.entra.snapshot import GRAPH_APP_ID, Snapshot, human, parse_time

Obj = dict[str, Any]

AGENT_TAG = "agent-ir:agent"
OWNER_TAG = "agent-ir:owner"

_ARN_SESSION = re.compile(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([^/]+)/.*$")
_ROLE_ARN = re.compile(r"^arn:(aws[\w-]*):iam::(\d{12}):role/(?:.*/)?([^/]+)$")


def tag_pairs(tags: list[str]) -> tuple[tuple[str, str], ...]:
    """Service principal tags as (key, value) pairs (``key=value`` or a bare word)."""
    out = []
    for tag in tags:
        key, _, value = str(tag).partition("=")
        out.append((key, value))
    return tuple(out)


def federation_source(issuer: str, subject: str) -> str:
    """The id, in its own provider, of the outside workload a federated credential admits."""
    session = _ARN_SESSION.match(subject)
    if session:
        partition, account, role = session.groups()
        return f"arn:{partition}:iam::{account}:role/{role}"
    if subject.startswith("arn:"):
        return subject
    host = issuer.lower().removeprefix("https://").split("/")[0]
    if host == "accounts.google.com":
        return subject
    if host in ("login.microsoftonline.com", "sts.windows.net"):
        return subject.lower()
    return f"external:{issuer}"


def credentials(snap: Snapshot, sp: Obj, now: datetime) -> tuple[Credential, ...]:
    """The credentials that authenticate a service principal (see the module docstring)."""
    app = snap.applications.get(str(sp.get("appId")))
    out: list[Credential] = []
    for holder in (app, sp):
        if not holder:
            continue
        for entry in holder.get("passwordCredentials") or []:
            out.append(_credential(snap, entry, "client-secret", now))
        for entry in holder.get("keyCredentials") or []:
            out.append(_credential(snap, entry, "certificate", now))
    if app:
        for fic in snap.fics.get(str(app["id"]), []):
            out.append(
                Credential(
                    id=str(fic["id"]),
                    kind="federated-credential",
                    status="active",
                    last_used=snap.sign_ins.get(str(fic["id"])),
                    static=False,
                )
            )
    return tuple(out)


def _credential(snap: Snapshot, entry: Obj, kind: str, now: datetime) -> Credential:
    expires = parse_time(entry.get("endDateTime"))
    return Credential(
        id=str(entry.get("keyId")),
        kind=kind,
        status="expired" if expires and expires <= now else "active",
        created=parse_time(entry.get("startDateTime")),
        expires=expires,
        last_used=snap.sign_ins.get(str(entry.get("keyId"))),
        static=True,
    )


def identity(snap: Snapshot, sp: Obj, now: datetime, *, with_credentials: bool) -> Identity:
    """One service principal as a model identity."""
    pairs = tag_pairs(list(sp.get("tags") or []))
    tags = dict(pairs)
    owner = tags.get(OWNER_TAG) or None
    if owner is None:
        for ref in [*snap.sponsors.get(sp["id"], []), *owner_refs(snap, sp)]:
            node = human(ref)
            if node:
                owner = node.removeprefix("human:")
                break
    return Identity(
        provider="entra",
        kind=snap.kind(sp),
        id=str(sp["id"]),
        name=str(sp.get("displayName") or sp["id"]),
        account=snap.tenant_id,
        credentials=credentials(snap, sp, now) if with_credentials else (),
        tags=pairs,
        owner=owner.lower() if owner else None,
        agent=tags.get(AGENT_TAG) or inherited_agent(snap, sp),
        status="active" if sp.get("accountEnabled", True) else "disabled",
        aliases=(str(sp["appId"]),) if sp.get("appId") else (),
    )


def inherited_agent(snap: Snapshot, sp: Obj) -> str | None:
    """The ``agent-ir:agent`` tag of an agent identity's blueprint principal, if any."""
    if sp["id"] not in snap.agents:
        return None
    blueprint = snap.blueprint_of(str(sp["id"]))
    if blueprint is None:
        return None
    return dict(tag_pairs(list(blueprint.get("tags") or []))).get(AGENT_TAG) or None


def owner_refs(snap: Snapshot, sp: Obj) -> list[Obj]:
    """Owners of a service principal and of its application."""
    app = snap.applications.get(str(sp.get("appId")))
    return [*(sp.get("owners") or []), *((app or {}).get("owners") or [])]


def grants(snap: Snapshot, identities: set[str]) -> list[Grant]:
    """App roles, delegated scopes and directory roles held by ``identities``."""
    out: list[Grant] = []
    for assignment in snap.assignments.values():
        holder = str(assignment.get("principalId"))
        if holder not in identities:
            continue
        resource = snap.service_principals.get(str(assignment.get("resourceId")), {})
        name = str(resource.get("displayName") or assignment.get("resourceDisplayName") or "?")
        role = next(
            (
                r
                for r in resource.get("appRoles") or []
                if r.get("id") == assignment.get("appRoleId")
            ),
            None,
        )
        value = str(role.get("value")) if role else "default access"
        graph = resource.get("appId") == GRAPH_APP_ID
        risk = (
            graph_permission_risk(value, delegated=False) if graph else api_permission_risk(value)
        )
        out.append(
            Grant(
                provider="entra",
                identity=holder,
                grant=f"{value} ({name})",
                kind="app-role",
                risk=risk,
                detail=f"application permission on {name} (appRoleAssignment {assignment['id']})",
                ref=str(assignment["id"]),
            )
        )
    for consent in snap.grants.values():
        holder = str(consent.get("clientId"))
        if holder not in identities:
            continue
        resource = snap.service_principals.get(str(consent.get("resourceId")), {})
        name = str(resource.get("displayName") or consent.get("resourceId"))
        graph = resource.get("appId") == GRAPH_APP_ID
        if consent.get("consentType") == "AllPrincipals":
            who = "admin consent: acts for every user"
        else:
            who = f"delegated by {snap.principal_label(consent.get('principalId'))}"
        for scope in str(consent.get("scope") or "").split():
            risk = (
                graph_permission_risk(scope, delegated=True)
                if graph
                else api_permission_risk(scope)
            )
            out.append(
                Grant(
                    provider="entra",
                    identity=holder,
                    grant=f"{scope} ({name})",
                    kind="delegated-scope",
                    risk=risk,
                    detail=f"{who} (oauth2PermissionGrant {consent['id']})",
                    ref=str(consent["id"]),
                )
            )
    for assignment in snap.role_assignments.values():
        holder = str(assignment.get("principalId"))
        if holder not in identities:
            continue
        role = snap.role_names.get(
            str(assignment.get("roleDefinitionId")), str(assignment.get("roleDefinitionId"))
        )
        scope = str(assignment.get("directoryScopeId") or "/")
        out.append(
            Grant(
                provider="entra",
                identity=holder,
                grant=role,
                kind="directory-role",
                risk=role_risk(role),
                detail=f"directory role, {'tenant-wide' if scope == '/' else 'scope ' + scope} "
                f"(roleAssignment {assignment['id']})",
                ref=str(assignment["id"]),
            )
        )
    return out


def edges(snap: Snapshot, identities: set[str]) -> list[Edge]:
    """Consent, owner, blueprint and federation edges into ``identities``."""
    out: list[Edge] = []
    for consent in snap.grants.values():
        client = str(consent.get("clientId"))
        if client not in identities:
            continue
        resource = snap.principal_label(str(consent.get("resourceId")))
        scopes = ", ".join(str(consent.get("scope") or "").split())
        target = snap.principal_label(client)
        if consent.get("consentType") == "AllPrincipals":
            source = f"human:*@{snap.domain}"
            reason = f"admin consent: {target} may act for every user with {scopes} on {resource}"
        else:
            source = snap.human_of(str(consent.get("principalId"))) or ""
            if not source:
                continue
            reason = (
                f"{source.removeprefix('human:')} consented to {scopes} on {resource} for {target}"
            )
        out.append(
            Edge(
                source,
                client,
                EdgeKind.CONSENT,
                reason,
                "entra",
                (f"oauth2PermissionGrant {consent['id']}",),
            )
        )
    for sp_id in sorted(identities):
        sp = snap.service_principals.get(sp_id)
        if sp is None:
            continue
        out.extend(_owner_edges(snap, sp))
        if sp_id in snap.agents:
            blueprint = snap.blueprint_of(sp_id)
            if blueprint is not None:
                out.append(
                    Edge(
                        str(blueprint["id"]),
                        sp_id,
                        EdgeKind.TOKEN_EXCHANGE,
                        f"blueprint {blueprint.get('displayName')} obtains tokens as agent identity "
                        f"{sp.get('displayName')} (its credentials act for the agent)",
                        "entra",
                        (f"agentIdentityBlueprintId {blueprint.get('appId')}",),
                    )
                )
        out.extend(federation_edges(snap, sp))
    return out


def federation_edges(snap: Snapshot, sp: Obj) -> list[Edge]:
    """One FEDERATION edge per federated credential of the principal's application."""
    out: list[Edge] = []
    app = snap.applications.get(str(sp.get("appId")))
    for fic in snap.fics.get(str((app or {}).get("id")), []):
        source = federation_source(str(fic.get("issuer")), str(fic.get("subject")))
        out.append(
            Edge(
                source,
                str(sp["id"]),
                EdgeKind.FEDERATION,
                f"federated credential {fic.get('name')}: tokens of {fic.get('issuer')} for "
                f"subject {fic.get('subject')} act as {sp.get('displayName')}",
                "entra",
                (f"federatedIdentityCredential {fic.get('id')}",),
            )
        )
    return out


def federation_subjects(identity: Identity) -> tuple[list[str], list[str]]:
    """The inverse of :func:`federation_source`: the subjects (exact, and prefixes) a
    federated credential names when it admits ``identity``: an AWS role's ARN or any of
    its sessions (``arn:aws:sts::<account>:assumed-role/<name>/``), an AWS user's ARN, a
    Google service account's unique id or email, an Entra principal's object id."""
    if identity.provider == "aws":
        role = _ROLE_ARN.match(identity.id)
        if role:
            partition, account, name = role.groups()
            return [identity.id], [f"arn:{partition}:sts::{account}:assumed-role/{name}/"]
        return [identity.id], []
    if identity.provider == "gcp":
        ids = [identity.id, *(a for a in identity.aliases if a and ":" not in a)]
        return ids, []
    if identity.provider == "entra":
        return [identity.id.lower()], []
    return [], []


def _owner_edges(snap: Snapshot, sp: Obj) -> list[Edge]:
    out: list[Edge] = []
    seen: set[str] = set()
    name = sp.get("displayName")
    for role, refs in (
        ("sponsor", snap.sponsors.get(sp["id"], [])),
        ("owner", owner_refs(snap, sp)),
    ):
        for ref in refs:
            node = human(ref)
            if node is not None and node not in seen:
                seen.add(node)
                reason = f"{node.removeprefix('human:')} is the {role} of {snap.kind(sp)} {name}"
                out.append(Edge(node, str(sp["id"]), EdgeKind.OWNER, reason, "entra"))
            elif (
                node is None
                and ref.get("id")
                and ref.get("id") != sp["id"]
                and ref["id"] not in seen
            ):
                seen.add(str(ref["id"]))
                out.append(
                    Edge(
                        str(ref["id"]),
                        str(sp["id"]),
                        EdgeKind.IMPERSONATE,
                        f"{ref.get('displayName') or ref['id']} owns {name} and can add credentials to it",
                        "entra",
                    )
                )
    return out
