"""Entra changes an attacker makes during an exercise, through Microsoft Graph:

* a new consent: the Microsoft Graph application permission (app role) ``scope`` assigned
  to the service principal of ``app`` (``POST /servicePrincipals/{graph}/appRoleAssignedTo``),
  made as the lab's responder standing in for the agent's own power; the probe then also
  asks whether the tokens it gets as ``app`` carry that role;
* a spawned sub-agent: a new agent identity created from a blueprint
  (``POST /beta/servicePrincipals/microsoft.graph.agentIdentity``) with the blueprint's own
  client secret, which the attacker holds, as a blueprint creates its agent identities;
  the probe then obtains tokens as it through the blueprint's exchange.

Each change waits until Graph's replicas show it, as a client that wants to use it would.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from typing import Any, cast

import httpx

from agent_ir.engine.inventory import Inventory
from agent_ir.errors import LabError
from agent_ir.lab.runner import Lab
from agent_ir.tabletop.inject import ChangeRefused
from agent_ir.tabletop.model import Change, NewConsent, SpawnSubAgent
from agent_ir.tabletop.probe_entra import AgentIdentity, EntraProbe, blueprint_of, request_token

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
REPLICATION_WAIT_S = 15.0
"""How long a change may take to reach Graph's replicas before the inject gives up."""


def apply(lab: Lab, inventory: Inventory, part: EntraProbe, change: Change) -> str:
    """Make one Entra change; the probe follows what it opens."""
    if isinstance(change, NewConsent):
        assignment = grant_graph_role(lab, change.app, change.scope)
        part.want_role(change.app, change.scope)
        text = change.text or (
            f"the attacker grants the Microsoft Graph application permission {change.scope} "
            f"to {change.app}"
        )
        held = "" if part.holds(change.app) else f"; no credential of {change.app} is held"
        return f"{text} (appRoleAssignment {assignment}{held})"
    if isinstance(change, SpawnSubAgent):
        blueprint = change.parent or suspect_blueprint(inventory, part.agent)
        agent = spawn_agent(lab, inventory, part, change.name, blueprint)
        part.add_agent(agent)
        text = change.text or (
            f"the attacker creates the agent identity {change.name} from blueprint {blueprint}"
        )
        return f"{text} (agent identity {agent.object_id}, app id {agent.app_id})"
    raise LabError(f"the change {change.change} cannot be made in Entra")


def suspect_blueprint(inventory: Inventory, agent: str) -> str:
    """The blueprint of the suspect's (first) agent identity."""
    for identity in inventory.agent(agent).identities:
        if identity.provider == "entra" and identity.kind == "agent-identity":
            found = blueprint_of(inventory, identity.id)
            if found is not None:
                return found
    raise LabError(
        f"{agent} has no Entra agent identity with a known blueprint; name the blueprint "
        "with 'parent'"
    )


def grant_graph_role(lab: Lab, app: str, role: str) -> str:
    """Assign Microsoft Graph's app role ``role`` to the principal named ``app``; the new
    assignment's id."""
    with _Graph(lab, _responder_token(lab)) as graph:
        resource = graph.get(
            f"v1.0/servicePrincipals(appId='{GRAPH_APP_ID}')", {"$select": "id,appRoles"}
        )
        role_id = next(
            (r["id"] for r in resource.get("appRoles", []) if r.get("value") == role), None
        )
        if role_id is None:
            raise LabError(f"Microsoft Graph has no application permission {role!r}")
        principal = _principal(graph, app)
        made = graph.post(
            f"v1.0/servicePrincipals/{resource['id']}/appRoleAssignedTo",
            {"principalId": principal, "resourceId": resource["id"], "appRoleId": role_id},
        )
        assignment = str(made["id"])
        _until(
            lambda: any(
                a.get("id") == assignment
                for a in graph.get(f"v1.0/servicePrincipals/{principal}/appRoleAssignments").get(
                    "value", []
                )
            ),
            f"the assignment of {role} to {app}",
        )
    return assignment


def spawn_agent(
    lab: Lab, inventory: Inventory, part: EntraProbe, name: str, blueprint: str
) -> AgentIdentity:
    """Create the agent identity ``name`` from ``blueprint`` with a client secret of the
    blueprint the attacker holds; its first sponsor is the suspect's."""
    secrets = [s for s in part.secrets if s.app == blueprint]
    if not secrets:
        raise LabError(f"the attacker holds no client secret of the blueprint {blueprint!r}")
    token = next((t for t in (_token(lab, s.client_id, s.value) for s in secrets) if t), None)
    if token is None:
        raise ChangeRefused(f"no client secret of the blueprint {blueprint!r} works any more")
    sponsor = _sponsor(inventory, part.agent, blueprint)
    with _Graph(lab, _responder_token(lab)) as responder:
        user = responder.get(f"v1.0/users/{sponsor}", {"$select": "id"})
        with _Graph(lab, token) as graph:
            made = graph.post(
                "beta/servicePrincipals/microsoft.graph.agentIdentity",
                {
                    "displayName": name,
                    "agentIdentityBlueprintId": secrets[0].client_id,
                    "sponsors@odata.bind": [f"{graph.base}/v1.0/users/{user['id']}"],
                },
            )
        created = str(made["id"])
        _until(
            lambda: responder.exists(f"beta/servicePrincipals/{created}"),
            f"the agent identity {name}",
        )
    return AgentIdentity(name, created, str(made["appId"]), blueprint)


def _sponsor(inventory: Inventory, agent: str, blueprint: str) -> str:
    """The suspect's sponsor (its agent identity's owner), else the agent's owner."""
    found = inventory.agent(agent)
    for identity in found.identities:
        mine = identity.kind == "agent-identity" and identity.owner
        if mine and blueprint_of(inventory, identity.id) == blueprint:
            return str(identity.owner)
    if found.owner:
        return found.owner
    raise LabError(f"no sponsor is known for a new agent identity of {agent}")


def _principal(graph: _Graph, name: str) -> str:
    quoted = name.replace("'", "''")
    found = graph.get(
        "v1.0/servicePrincipals",
        {"$filter": f"displayName eq '{quoted}'", "$select": "id,appId,displayName"},
    ).get("value", [])
    if len(found) != 1:
        how = "no" if not found else f"{len(found)}"
        raise LabError(f"the Entra lab has {how} service principal named {name!r}")
    return str(found[0]["id"])


def _responder_token(lab: Lab) -> str:
    emulator = cast(Any, lab.emulators.get("entra"))
    if emulator is None:
        raise LabError("the lab runs no Entra emulator")
    token = _token(lab, emulator.responder_client_id, emulator.responder_secret())
    if token is None:
        raise LabError("the lab's responder cannot sign in to Entra")
    return token


def _token(lab: Lab, client_id: str, secret: str) -> str | None:
    settings = lab.settings.providers.entra
    if settings is None:
        raise LabError("the lab has no Entra tenant")
    answer = request_token(
        str(settings.authority),
        str(settings.ca_bundle),
        client_id,
        secret,
        f"{settings.graph_url}/.default",
    )
    if answer.unreachable:
        reason = answer.detail.removeprefix("refused: ")
        raise LabError(f"cannot reach the Entra lab's token endpoint: {reason}")
    return answer.token


class _Graph:
    """A small Graph client on the lab with one bearer token."""

    def __init__(self, lab: Lab, token: str) -> None:
        settings = lab.settings.providers.entra
        if settings is None:
            raise LabError("the lab has no Entra tenant")
        self.base = settings.graph_base
        self.http = httpx.Client(
            base_url=self.base,
            verify=ssl.create_default_context(cafile=str(settings.ca_bundle)),
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
            trust_env=False,
        )

    def __enter__(self) -> _Graph:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        """GET a Graph path; the JSON body."""
        return self._send("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON body to a Graph path; the JSON answer."""
        return self._send("POST", path, json=body)

    def exists(self, path: str) -> bool:
        """Whether a GET of ``path`` finds the object (404 while replicas lag)."""
        try:
            return self.http.get(f"/{path}").status_code == 200
        except httpx.HTTPError as exc:
            raise LabError(f"Graph on the lab did not answer: {exc}") from exc

    def _send(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            reply = self.http.request(method, f"/{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise LabError(f"Graph on the lab did not answer: {exc}") from exc
        if reply.status_code >= 400:
            error = (reply.json() if reply.content else {}).get("error", {})
            raise LabError(
                f"Graph refused {method} {path.split('?')[0]}: {reply.status_code} "
                f"{error.get('code', '')} {error.get('message', '')}".rstrip()
            )
        data = reply.json() if reply.content else {}
        return data if isinstance(data, dict) else {}


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + REPLICATION_WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise LabError(f"{what} did not reach Graph's replicas in {REPLICATION_WAIT_S:g}s")
        time.sleep(0.05)
