"""Creating agent identities in the Graph emulator (``/beta`` only)::

    POST /beta/servicePrincipals/microsoft.graph.agentIdentity
    {"displayName": "…", "agentIdentityBlueprintId": "<blueprint app id>",
     "sponsors@odata.bind": ["https://graph.microsoft.com/v1.0/users/<id or upn>"]}

As on Entra the body must name a display name, the blueprint (by its app id) and at least
one sponsor; the answer is 201 with the new agent identity (a fresh object id and app id).
Who may call: a caller holding ``AgentIdentity.Create.All`` for any blueprint, and, for
its own agent identities, the blueprint principal itself (the power Entra gives a blueprint
as the manager of its agent identities, ``AgentIdentity.CreateAsManager``). Anyone else
gets 403 ``Authorization_RequestDenied``.

The new agent identity has no credential of its own: its blueprint obtains tokens for it
(the exchange in :mod:`agent_ir.lab.entra_token`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from agent_ir.lab.entra_graph import Call, Route, find_sp, find_user, route
from agent_ir.lab.entra_objects import iso, service_principal
from agent_ir.lab.entra_odata import ODataError, bad_request, shape
from agent_ir.lab.server import LabResponse

CREATE_ANY = "AgentIdentity.Create.All"
CREATE_AS_MANAGER = "AgentIdentity.CreateAsManager"
AGENT_TYPE = "#microsoft.graph.agentIdentity"


def create_agent(call: Call) -> LabResponse:
    """POST /beta/servicePrincipals/microsoft.graph.agentIdentity."""
    body = call.body()
    name = body.get("displayName")
    blueprint_app = body.get("agentIdentityBlueprintId")
    binds = body.get("sponsors@odata.bind")
    if not isinstance(name, str) or not name or not isinstance(blueprint_app, str):
        raise bad_request("'displayName' and 'agentIdentityBlueprintId' are required.")
    if not isinstance(binds, list) or not binds or not all(isinstance(b, str) for b in binds):
        raise bad_request("An agent identity needs at least one sponsor ('sponsors@odata.bind').")
    tags = body.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise bad_request("'tags' must be a list of strings.")
    blueprint = find_sp(call.d, f"appId={blueprint_app}", latest=True)
    if blueprint.get("_kind") != "blueprint":
        raise bad_request(f"'{blueprint_app}' is not an agent identity blueprint.")
    caller = str(call.claims.get("appid", "")).lower()
    roles = set(call.claims.get("roles") or [])
    own = caller == str(blueprint["appId"]).lower()
    if CREATE_ANY not in roles and not own:
        raise ODataError(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    sponsors = [find_user(call.d, _bound_user(b), latest=True)["id"] for b in binds]
    sp_id, app_id = str(uuid.uuid4()), str(uuid.uuid4())
    sp = service_principal(
        sp_id,
        app_id,
        name,
        "ServiceIdentity",
        iso(datetime.now(UTC)),
        call.d.tenant_id,
        tags=list(tags),
    )
    sp["_kind"] = "agent"
    sp["agentIdentityBlueprintId"] = blueprint["appId"]
    sp["createdByAppId"] = caller
    sp["_sponsors"] = sponsors
    call.d.service_principals.put(sp_id, sp)
    call.d.sp_by_client_id[app_id] = sp_id
    context = f"{call.base}/{call.version}/$metadata#servicePrincipals/{AGENT_TYPE[1:]}/$entity"
    return LabResponse.from_json(201, {"@odata.context": context, **shape(sp, call.version, None)})


def _bound_user(bind: str) -> str:
    head, _, user = bind.rstrip("/").rpartition("/")
    if not head.lower().endswith("/users") or not user:
        raise bad_request(f"'{bind}' is not a reference to a user.")
    return user


AGENT_ROUTES: list[Route] = [
    route(
        "POST",
        r"servicePrincipals/microsoft\.graph\.agentIdentity",
        (CREATE_ANY, CREATE_AS_MANAGER),
        create_agent,
        beta_only=True,
        handler_checks=True,
    )
]
"""The agent identity endpoints."""
