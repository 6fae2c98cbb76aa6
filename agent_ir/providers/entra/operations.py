"""The Graph calls behind every Entra action step, one kind of operation at a time.

A step's ``operation`` names its kind (``op``) and the object; for each kind this module
reads the live state (shaped for comparison: never an id that changes when an object is
re-created), applies the change, and restores from a snapshot. Re-created objects get new
ids; restore returns notes naming them, which the executor journals.

| op | state read | apply | restore |
|----|------------|-------|---------|
| ``sp`` | ``accountEnabled`` | PATCH ``accountEnabled: false`` (agent identities on ``/beta`` with ``@odata.type``) | PATCH back |
| ``password`` | ``present`` | ``removePassword`` | impossible (the secret is gone) |
| ``certificates`` | ``present`` key ids + the whole ``keyCredentials`` list (with ``key``) | PATCH the list without them | PATCH the saved entries back in |
| ``fic`` | ``present``, issuer, subject, audiences | DELETE | POST again (new id) |
| ``consent`` | ``present``, ``scopes`` | DELETE, or PATCH ``scope`` without the removed ones | PATCH the scopes back, or POST (new id) |
| ``app-role`` | ``present`` | DELETE the assignment | POST (new id) |
| ``dir-role`` | ``present`` | DELETE the role assignment | POST (new id) |
| ``sessions`` | ``signInSessionsValidFromDateTime`` | ``revokeSignInSessions`` (200 with a body) | impossible |
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent_ir.errors import BadResponse, Conflict, ObjectMissing, ProviderError, RefusedError
from agent_ir.providers.entra.boundary import PROVIDER

if TYPE_CHECKING:
    from agent_ir.providers.entra.adapter import EntraProvider

State = dict[str, Any]
Op = dict[str, Any]


async def read(adapter: EntraProvider, op: Op) -> State:
    """The live state of an operation's object."""
    kind = op["op"]
    g = adapter.graph
    if kind == "sp":
        version = "beta" if op.get("agent") else "v1.0"
        try:
            sp = await g.get(
                f"servicePrincipals/{op['sp']}",
                f"reading {op['label']}",
                version=version,
                params={"$select": "id,accountEnabled"},
            )
        except ObjectMissing:
            return {"accountEnabled": None}
        return {"accountEnabled": bool(sp.get("accountEnabled"))}
    if kind == "password":
        holder = await g.get(
            f"{op['owner']}/{op['object']}",
            f"reading secrets of {op['label']}",
            params={"$select": "id,passwordCredentials"},
        )
        keys = {str(p.get("keyId")) for p in holder.get("passwordCredentials") or []}
        return {"present": op["keyId"] in keys}
    if kind == "certificates":
        app = await g.get(
            f"applications/{op['object']}",
            f"reading certificates of {op['label']}",
            params={"$select": "keyCredentials"},
        )
        listed = list(app.get("keyCredentials") or [])
        present = sorted(str(k["keyId"]) for k in listed if str(k.get("keyId")) in op["keyIds"])
        return {"present": present, "certificates": listed}
    if kind == "fic":
        items = await g.collect(
            f"applications/{op['app']}/federatedIdentityCredentials",
            f"reading federated credentials of {op['label']}",
        )
        found = next((f for f in items if f.get("name") == op["name"]), None)
        if found is None:
            return {"present": False}
        return {
            "present": True,
            "issuer": found.get("issuer"),
            "subject": found.get("subject"),
            "audiences": sorted(found.get("audiences") or []),
            "description": found.get("description") or "",
        }
    if kind == "consent":
        live = await _live_consent(adapter, op)
        return {
            "present": live is not None,
            "scopes": sorted(str((live or {}).get("scope") or "").split()),
        }
    if kind == "app-role":
        return {"present": await _live_assignment(adapter, op) is not None}
    if kind == "dir-role":
        return {"present": await _live_role(adapter, op) is not None}
    if kind == "sessions":
        user = await g.get(
            f"users/{op['user']}",
            f"reading sessions of {op['label']}",
            params={"$select": "id,signInSessionsValidFromDateTime"},
        )
        return {"validFrom": user.get("signInSessionsValidFromDateTime")}
    raise BadResponse(PROVIDER, f"unknown operation {kind!r} in a step")


def done(op: Op, state: State, prepared: dict[str, Any]) -> bool:
    """Whether the state already is what the step aims for."""
    kind = op["op"]
    if kind == "sp":
        return state.get("accountEnabled") is not True
    if kind == "certificates":
        return not state.get("present")
    if kind == "consent" and op.get("remove"):
        return not state.get("present") or not set(op["remove"]) & set(state.get("scopes", []))
    if kind == "sessions":
        cutoff, valid = prepared.get("cutoff"), state.get("validFrom")
        return bool(cutoff and valid and str(valid) >= str(cutoff))
    return not state.get("present")


def restored(op: Op, state: State, snapshot: State) -> bool:
    """Whether the state matches the snapshot again (ids aside)."""
    if op["op"] == "certificates":
        return state.get("present") == snapshot.get("present")
    return state == snapshot


async def apply(adapter: EntraProvider, op: Op) -> None:
    """Make the change (a repeat finds nothing left to do)."""
    kind = op["op"]
    g = adapter.graph
    label = op.get("label", "")
    try:
        if kind == "sp":
            await _set_enabled(adapter, op, False)
        elif kind == "password":
            await g.call(
                "POST",
                f"{op['owner']}/{op['object']}/removePassword",
                f"removing a secret of {label}",
                body={"keyId": op["keyId"]},
            )
        elif kind == "certificates":
            async with adapter.lock(op["object"]):
                live = (await read(adapter, op))["certificates"]
                kept = [k for k in live if str(k.get("keyId")) not in op["keyIds"]]
                await _put_certificates(adapter, op, kept)
        elif kind == "fic":
            await g.call(
                "DELETE",
                f"applications/{op['app']}/federatedIdentityCredentials/{op['name']}",
                f"removing federated credential {op['name']} of {label}",
            )
        elif kind == "consent":
            await _cut_consent(adapter, op)
        elif kind == "app-role":
            live = await _live_assignment(adapter, op)
            if live is not None:
                await g.call(
                    "DELETE",
                    f"servicePrincipals/{op['principalId']}/appRoleAssignments/{live['id']}",
                    f"removing app role {label}",
                )
        elif kind == "dir-role":
            live = await _live_role(adapter, op)
            if live is not None:
                await g.call(
                    "DELETE",
                    f"roleManagement/directory/roleAssignments/{live['id']}",
                    f"removing directory role {label}",
                )
        elif kind == "sessions":
            await g.call(
                "POST",
                f"users/{op['user']}/revokeSignInSessions",
                f"revoking the sessions of {label}",
            )
        else:
            raise BadResponse(PROVIDER, f"unknown operation {kind!r} in a step")
    except ObjectMissing:
        return


async def restore(adapter: EntraProvider, op: Op, snapshot: State) -> list[str]:
    """Put the object back as the snapshot recorded it; notes name any new id."""
    kind = op["op"]
    label = op.get("label", "")
    if kind == "sp":
        if snapshot.get("accountEnabled") is None:
            return [f"{label} did not exist before; nothing to put back"]
        await _set_enabled(adapter, op, bool(snapshot["accountEnabled"]))
        return []
    if kind in ("password", "sessions"):
        raise RefusedError(
            f"entra: {label}: {'a removed client secret' if kind == 'password' else 'ended sessions'} "
            "cannot be brought back"
        )
    if kind == "certificates":
        async with adapter.lock(op["object"]):
            live = (await read(adapter, op))["certificates"]
            have = {str(k.get("keyId")) for k in live}
            back = [
                k
                for k in snapshot.get("certificates", [])
                if str(k.get("keyId")) in op["keyIds"] and str(k.get("keyId")) not in have
            ]
            await _put_certificates(adapter, op, [*live, *back])
        return []
    if not snapshot.get("present"):
        return [f"{label} was absent before; nothing to put back"]
    if kind == "fic":
        body = {k: snapshot[k] for k in ("issuer", "subject", "audiences", "description")}
        created = await _create(
            adapter,
            f"applications/{op['app']}/federatedIdentityCredentials",
            {"name": op["name"], **body},
            label,
        )
        return _new_id(label, op.get("id"), created)
    if kind == "consent":
        return await _restore_consent(adapter, op, snapshot)
    if kind == "app-role":
        created = await _create(
            adapter,
            f"servicePrincipals/{op['principalId']}/appRoleAssignments",
            {
                "principalId": op["principalId"],
                "resourceId": op["resourceId"],
                "appRoleId": op["appRoleId"],
            },
            label,
        )
        return _new_id(label, op.get("id"), created)
    if kind == "dir-role":
        created = await _create(
            adapter,
            "roleManagement/directory/roleAssignments",
            {
                "principalId": op["principalId"],
                "roleDefinitionId": op["roleDefinitionId"],
                "directoryScopeId": op.get("directoryScopeId", "/"),
            },
            label,
        )
        return _new_id(label, op.get("id"), created)
    raise BadResponse(PROVIDER, f"unknown operation {kind!r} in a step")


# -- helpers ---------------------------------------------------------------------------------


async def _set_enabled(adapter: EntraProvider, op: Op, enabled: bool) -> None:
    body: dict[str, Any] = {"accountEnabled": enabled}
    version = "v1.0"
    if op.get("agent"):
        body["@odata.type"] = "#microsoft.graph.agentIdentity"
        version = "beta"
    verb = "enabling" if enabled else "disabling"
    await adapter.graph.call(
        "PATCH",
        f"servicePrincipals/{op['sp']}",
        f"{verb} {op['label']}",
        version=version,
        body=body,
    )


async def _put_certificates(adapter: EntraProvider, op: Op, entries: list[dict[str, Any]]) -> None:
    keep = (
        "customKeyIdentifier",
        "displayName",
        "endDateTime",
        "key",
        "keyId",
        "startDateTime",
        "type",
        "usage",
    )
    body = {
        "keyCredentials": [{k: e.get(k) for k in keep if e.get(k) is not None} for e in entries]
    }
    await adapter.graph.call(
        "PATCH",
        f"applications/{op['object']}",
        f"updating certificates of {op['label']}",
        body=body,
    )


async def _live_consent(adapter: EntraProvider, op: Op) -> dict[str, Any] | None:
    items = await adapter.graph.collect(
        "oauth2PermissionGrants",
        f"reading consents of {op['label']}",
        params={"$filter": f"clientId eq '{op['clientId']}'"},
    )
    for item in items:
        if (
            item.get("consentType") == op["consentType"]
            and item.get("principalId") == op.get("principalId")
            and item.get("resourceId") == op["resourceId"]
        ):
            return item
    return None


async def _cut_consent(adapter: EntraProvider, op: Op) -> None:
    live = await _live_consent(adapter, op)
    if live is None:
        return
    scopes = str(live.get("scope") or "").split()
    remove = set(op.get("remove") or scopes)
    kept = [s for s in scopes if s not in remove]
    if kept:
        await adapter.graph.call(
            "PATCH",
            f"oauth2PermissionGrants/{live['id']}",
            f"narrowing consent {op['label']}",
            body={"scope": " ".join(kept)},
        )
    else:
        await adapter.graph.call(
            "DELETE", f"oauth2PermissionGrants/{live['id']}", f"removing consent {op['label']}"
        )


async def _restore_consent(adapter: EntraProvider, op: Op, snapshot: State) -> list[str]:
    scope = " ".join(snapshot.get("scopes", []))
    live = await _live_consent(adapter, op)
    if live is not None:
        await adapter.graph.call(
            "PATCH",
            f"oauth2PermissionGrants/{live['id']}",
            f"restoring consent {op['label']}",
            body={"scope": scope},
        )
        return []
    body = {
        "clientId": op["clientId"],
        "consentType": op["consentType"],
        "principalId": op.get("principalId"),
        "resourceId": op["resourceId"],
        "scope": scope,
    }
    created = await _create(adapter, "oauth2PermissionGrants", body, op["label"])
    return _new_id(op["label"], op.get("id"), created)


async def _live_assignment(adapter: EntraProvider, op: Op) -> dict[str, Any] | None:
    items = await adapter.graph.collect(
        f"servicePrincipals/{op['principalId']}/appRoleAssignments",
        f"reading app roles of {op['label']}",
    )
    return next(
        (
            i
            for i in items
            if i.get("resourceId") == op["resourceId"] and i.get("appRoleId") == op["appRoleId"]
        ),
        None,
    )


async def _live_role(adapter: EntraProvider, op: Op) -> dict[str, Any] | None:
    items = await adapter.graph.collect(
        "roleManagement/directory/roleAssignments",
        f"reading directory roles of {op['label']}",
        params={"$filter": f"principalId eq '{op['principalId']}'"},
    )
    return next(
        (
            i
            for i in items
            if i.get("roleDefinitionId") == op["roleDefinitionId"]
            and (i.get("directoryScopeId") or "/") == op.get("directoryScopeId", "/")
        ),
        None,
    )


async def _create(
    adapter: EntraProvider, path: str, body: dict[str, Any], label: str
) -> str | None:
    """POST a re-creation; a concurrent or earlier re-creation (409 / 'already exists') is fine."""
    try:
        created = await adapter.graph.call("POST", path, f"re-creating {label}", body=body)
    except Conflict:
        return None
    except ProviderError as exc:
        if "already exists" in exc.message:
            return None
        raise
    return str(created.get("id")) if created.get("id") else None


def _new_id(what: str, old: Any, new: str | None) -> list[str]:
    if new is None:
        return [f"{what} already existed again; kept as it is"]
    return [f"{what} re-created with new id {new} (was {old})"]
