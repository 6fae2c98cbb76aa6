"""Turning an agent's Entra identities and grants into step drafts (pure, no I/O).

The drafts' operations are read and applied by :mod:`agent_ir.providers.entra.operations`;
what they need beyond the inventory comes from the adapter's discovery snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from agent_ir.actions.base import Draft, PlanContext, Reversibility
from agent_ir.model import Grant, Identity
from agent_ir.providers.entra.snapshot import Snapshot
from agent_ir.providers.entra.translate import federation_source

SECRET_HAZARD = (
    "IRREVERSIBLE: a removed client secret cannot be restored; a new secret must be created "
    "and redeployed to every legitimate workload that used this one"
)
FIC_HAZARD = "restore re-creates the federated credential under a new id"
DISABLEABLE = ("service-principal", "agent-identity", "agent-blueprint")


def snapshot_of(ctx: PlanContext) -> Snapshot:
    """The adapter's discovery snapshot (empty when planning without one)."""
    snap = ctx.facts
    return snap if isinstance(snap, Snapshot) else Snapshot("", "")


def entra(idents: Iterable[Identity]) -> list[Identity]:
    """Only the Entra identities."""
    return [i for i in idents if i.provider == "entra"]


def disable_draft(ident: Identity, snap: Snapshot, ctx: PlanContext) -> Draft:
    """Disable one service principal, agent identity or blueprint principal."""
    hazards: tuple[str, ...] = ()
    if ident.kind == "agent-blueprint":
        sp = snap.service_principals.get(ident.id, {})
        agents = [snap.principal_label(a) for a in snap.agents_of_blueprint(sp)]
        if agents:
            hazards = (
                f"every agent identity of this blueprint stops getting tokens: {', '.join(sorted(agents))}",
            )
    enabled = ident.status != "disabled"
    return Draft(
        target=ident.id,
        target_label=f"{ident.kind} {ident.name}",
        identity=ident.id,
        current={"accountEnabled": enabled},
        predicted={"accountEnabled": False},
        operation={
            "op": "sp",
            "sp": ident.id,
            "agent": ident.kind == "agent-identity",
            "label": f"{ident.kind} {ident.name}",
        },
        hazards=hazards,
    )


def credential_holders(ctx: PlanContext, snap: Snapshot) -> list[tuple[Identity, Identity]]:
    """(target, identity whose credentials act for it): itself, or an agent identity's
    blueprint when the blueprint serves only this agent (notes explain the others)."""
    targets = entra(ctx.targets)
    ids = {i.id for i in targets}
    mine = {i.id for i in ctx.agent.identities}
    out: list[tuple[Identity, Identity]] = []
    for ident in targets:
        if ident.kind != "agent-identity":
            out.append((ident, ident))
            continue
        blueprint = snap.blueprint_of(ident.id)
        if blueprint is None:
            continue
        if blueprint["id"] in ids:
            continue
        holder = ctx.inventory.identities.get(str(blueprint["id"]))
        others = [a for a in snap.agents_of_blueprint(blueprint) if a not in mine]
        if holder is None or others:
            ctx.notes.append(
                f"entra: the credentials of {ident.name} are its blueprint "
                f"{blueprint.get('displayName')}'s, which also serves {len(others)} other agent "
                "identities; they are left alone (disabling the agent identity cuts it)"
            )
            continue
        out.append((ident, holder))
    return out


def credential_drafts(
    target: Identity, holder: Identity, snap: Snapshot, older_than_days: int | None, now: datetime
) -> list[Draft]:
    """Remove the holder's client secrets, certificates and federated credentials."""
    drafts: list[Draft] = []
    app = snap.app_of(holder.id)
    sp = snap.service_principals.get(holder.id, {})
    via = "" if holder.id == target.id else f" (acts for {target.name})"
    by_id = {c.id: c for c in holder.credentials}

    def old_enough(key_id: str) -> bool:
        cred = by_id.get(key_id)
        if cred is None or cred.status != "active":
            return False
        if older_than_days is None:
            return True
        return cred.created is not None and (now - cred.created).days >= older_than_days

    for owner, obj in (("applications", app), ("servicePrincipals", sp)):
        for entry in (obj or {}).get("passwordCredentials") or []:
            key_id = str(entry.get("keyId"))
            if not old_enough(key_id):
                continue
            label = f"client secret {entry.get('displayName') or key_id} of {holder.name}{via}"
            drafts.append(
                Draft(
                    target=key_id,
                    target_label=label,
                    identity=holder.id,
                    current={"present": True},
                    predicted={"present": False},
                    operation={
                        "op": "password",
                        "owner": owner,
                        "object": str(obj["id"]) if obj else "",
                        "keyId": key_id,
                        "label": label,
                    },
                    hazards=(SECRET_HAZARD,),
                    reversible=Reversibility.NO,
                )
            )
    if app:
        keys = sorted(
            str(k.get("keyId"))
            for k in app.get("keyCredentials") or []
            if old_enough(str(k.get("keyId")))
        )
        if keys:
            label = f"{len(keys)} certificate{'s' if len(keys) > 1 else ''} of {holder.name}{via}"
            drafts.append(
                Draft(
                    target=f"{app['id']}#certificates",
                    target_label=label,
                    identity=holder.id,
                    current={"present": keys},
                    predicted={"present": []},
                    operation={
                        "op": "certificates",
                        "object": str(app["id"]),
                        "keyIds": keys,
                        "label": label,
                    },
                )
            )
        if older_than_days is None:
            for fic in snap.fics.get(str(app["id"]), []):
                drafts.append(fic_draft(holder, app, fic, via))
    return drafts


def fic_draft(holder: Identity, app: dict[str, Any], fic: dict[str, Any], via: str = "") -> Draft:
    """Remove one federated identity credential of ``app`` (restore recreates it)."""
    label = f"federated credential {fic.get('name')} of {holder.name}{via}"
    return Draft(
        target=str(fic["id"]),
        target_label=label,
        identity=holder.id,
        current={"present": True},
        predicted={"present": False},
        operation={
            "op": "fic",
            "app": str(app["id"]),
            "id": str(fic["id"]),
            "name": fic.get("name"),
            "label": label,
        },
        hazards=(FIC_HAZARD,),
    )


def grant_drafts(
    ident: Identity, grants: list[Grant], snap: Snapshot, risks: set[str] | None
) -> list[Draft]:
    """Remove the identity's grants (all, or those at ``risks``): one step per consent,
    app role assignment or directory role assignment."""
    drafts: list[Draft] = []
    chosen: dict[str, list[str]] = {}
    for grant in grants:
        if grant.provider != "entra" or grant.identity != ident.id:
            continue
        if risks is not None and grant.risk not in risks:
            continue
        if grant.kind == "delegated-scope":
            chosen.setdefault(grant.ref, []).append(grant.grant.split(" (")[0])
        elif grant.kind == "app-role" and grant.ref in snap.assignments:
            drafts.append(_assignment_draft(ident, grant, snap.assignments[grant.ref]))
        elif grant.kind == "directory-role" and grant.ref in snap.role_assignments:
            drafts.append(_role_draft(ident, grant, snap.role_assignments[grant.ref]))
    for ref, scopes in chosen.items():
        consent = snap.grants.get(ref)
        if consent is not None:
            drafts.append(consent_draft(ident, consent, snap, scopes))
    return drafts


def consent_draft(
    ident: Identity, consent: dict[str, Any], snap: Snapshot, scopes: list[str] | None
) -> Draft:
    """Remove ``scopes`` (or the whole consent) of one oauth2PermissionGrant."""
    present = sorted(str(consent.get("scope") or "").split())
    remove = None if scopes is None or set(present) <= set(scopes) else sorted(set(scopes))
    who = (
        "every user"
        if consent.get("consentType") == "AllPrincipals"
        else snap.principal_label(consent.get("principalId"))
    )
    resource = snap.principal_label(consent.get("resourceId"))
    what = ", ".join(remove) if remove else "all scopes"
    label = f"consent of {who} to {ident.name} on {resource} ({what})"
    kept = sorted(set(present) - set(remove or present))
    return Draft(
        target=str(consent["id"]),
        target_label=label,
        identity=ident.id,
        current={"present": True, "scopes": present},
        predicted={"present": bool(kept), "scopes": kept},
        operation={
            "op": "consent",
            "id": str(consent["id"]),
            "clientId": str(consent.get("clientId")),
            "consentType": consent.get("consentType"),
            "principalId": consent.get("principalId"),
            "resourceId": str(consent.get("resourceId")),
            "remove": remove,
            "label": label,
        },
    )


def _assignment_draft(ident: Identity, grant: Grant, assignment: dict[str, Any]) -> Draft:
    return _removal_draft(
        ident,
        f"app role {grant.grant} of {ident.name}",
        assignment,
        op="app-role",
        resourceId=str(assignment.get("resourceId")),
        appRoleId=str(assignment.get("appRoleId")),
    )


def _role_draft(ident: Identity, grant: Grant, assignment: dict[str, Any]) -> Draft:
    return _removal_draft(
        ident,
        f"directory role {grant.grant} of {ident.name}",
        assignment,
        op="dir-role",
        roleDefinitionId=str(assignment.get("roleDefinitionId")),
        directoryScopeId=str(assignment.get("directoryScopeId") or "/"),
    )


def _removal_draft(
    ident: Identity, label: str, assignment: dict[str, Any], *, op: str, **fields: str
) -> Draft:
    """Delete one assignment of ``ident``; ``fields`` are what re-creating it needs."""
    return Draft(
        target=str(assignment["id"]),
        target_label=label,
        identity=ident.id,
        current={"present": True},
        predicted={"present": False},
        operation={
            "op": op,
            "id": str(assignment["id"]),
            "principalId": str(assignment.get("principalId")),
            **fields,
            "label": label,
        },
    )


def federation_drafts(
    source: str, targets: set[str], ctx: PlanContext, snap: Snapshot
) -> list[Draft]:
    """Remove the federated credentials through which ``source`` acts as one of ``targets``."""
    drafts = []
    for target in sorted(targets):
        app = snap.app_of(target)
        ident = ctx.inventory.identities.get(target)
        if app is None or ident is None:
            continue
        for fic in snap.fics.get(str(app["id"]), []):
            if federation_source(str(fic.get("issuer")), str(fic.get("subject"))) != source:
                continue
            drafts.append(fic_draft(ident, app, fic))
    return drafts


def resolve(name: str, ctx: PlanContext) -> set[str]:
    """Identity ids a ``from``/``to`` parameter names: an id, alias or name, or the agent."""
    ids = ctx.inventory.identities
    if name in ids:
        return {name}
    if name.removeprefix("agent:").lower() == ctx.agent.name.lower():
        return {i.id for i in ctx.agent.identities}
    return {i.id for i in ids.values() if i.name == name or name in i.aliases}
