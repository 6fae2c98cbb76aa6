"""The org, API tokens and AI agents in the Okta emulator.

* ``GET /api/v1/org``: the org's settings (subdomain, company).
* ``GET /api/v1/logs``: the System Log's token grants (one event per issued token) and
  app creations.
* API tokens: list (paged), get, delete. Deleting cannot be undone: a token is minted
  only in the Admin Console, and its value is never shown again.
  ``DELETE /api/v1/api-tokens/current`` revokes the token making the call.
* AI agents (the beta ``/workload-principals/api/v1/ai-agents`` paths): list with
  ``after`` / ``limit`` (default 20, at most 200) and ``search``, get, their JWKS and
  owners, and the lifecycle: activate and deactivate answer ``202`` with a ``Location``
  of an operation that completes shortly after (the agent's status changes then).
  The owners sub-resource (``…/ai-agents/{id}/owners``) is the lab's reading of the beta
  API's owner model: a list of ``{"id", "type": "USER"}``.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from agent_ir.lab.okta_http import invalid, not_found
from agent_ir.lab.okta_org import AiAgent, LogEvent, Operation
from agent_ir.lab.okta_routes import Call, FilterError, Route, filtered, narrowed, route
from agent_ir.lab.okta_state import stamp
from agent_ir.lab.server import LabResponse

OPERATION_DELAY = timedelta(milliseconds=300)
"""How long an AI-agent lifecycle operation takes in the lab."""

_AGENTS = "/workload-principals/api/v1/ai-agents"


def get_org(call: Call) -> LabResponse:
    """``GET /api/v1/org``."""
    state = call.state
    return LabResponse.from_json(
        200,
        {
            "id": "00o" + state.subdomain[:17].ljust(17, "0"),
            "subdomain": state.subdomain,
            "companyName": state.company,
            "status": "ACTIVE",
            "created": stamp(state.created),
            "lastUpdated": stamp(state.created),
            "_links": {
                "contacts": {"href": f"{call.base}/api/v1/org/contacts"},
                "preferences": {"href": f"{call.base}/api/v1/org/preferences"},
            },
        },
    )


def list_api_tokens(call: Call) -> LabResponse:
    """``GET /api/v1/api-tokens``: Okta's description of it has no query parameters; pages
    of 200 follow one another through ``Link`` (a ``limit`` is still honoured)."""
    return call.listing(
        call.state.api_tokens.after,
        lambda t: t.id,
        lambda t: t.to_json(call.base),
        default_limit=200,
    )


def get_api_token(call: Call, token_id: str) -> LabResponse:
    """``GET /api/v1/api-tokens/{apiTokenId}``."""
    token = call.state.api_tokens.get(token_id)
    if token is None:
        return not_found(f"{token_id} (ApiToken)")
    return LabResponse.from_json(200, token.to_json(call.base))


def revoke_api_token(call: Call, token_id: str) -> LabResponse:
    """``DELETE /api/v1/api-tokens/{apiTokenId}`` → 204, for good."""
    if token_id == "current":
        if call.caller.token_id is None:
            return invalid("token", "Only an API token can revoke itself")
        token_id = call.caller.token_id
    if call.state.api_tokens.pop(token_id, None) is None:
        return not_found(f"{token_id} (ApiToken)")
    return LabResponse(204)


def list_logs(call: Call) -> LabResponse:
    """``GET /api/v1/logs`` with ``since`` (default: seven days ago), ``until``,
    ``filter``, ``sortOrder`` and ``limit`` (default 100, at most 1000). The lab records
    token grants (granted or refused), app creation and other management writes by
    anyone but the responder (:mod:`agent_ir.lab.okta_syslog`)."""
    for name in ("since", "until"):
        if call.param(name) and _moment(call.param(name)) is None:
            return invalid(name, f"{name}: Invalid date. Use ISO 8601 format.")
    since = _moment(call.param("since")) or call.now - timedelta(days=7)
    until = _moment(call.param("until")) or call.now + timedelta(seconds=1)
    events = [e for e in call.state.log if since <= e.published < until]
    try:
        events = filtered(call.param("filter"), events, lambda e: e.to_json(call.base))
    except FilterError as exc:
        return invalid("filter", str(exc))
    newest_first = (call.param("sortOrder") or "").upper() == "DESCENDING"

    def order(event: LogEvent) -> str:
        micros = int(event.published.timestamp() * 1_000_000)
        return f"{(10**17 - micros) if newest_first else micros:018d}{event.uuid}"

    return call.listing(
        events, order, lambda e: e.to_json(call.base), default_limit=100, max_limit=1000
    )


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _agent_or_404(call: Call, ref: str) -> AiAgent | LabResponse:
    call.state.settle(call.now)
    agent = call.state.ai_agents.get(ref)
    return agent if agent is not None else not_found(f"{ref} (AIAgent)")


def list_agents(call: Call) -> LabResponse:
    """``GET /workload-principals/api/v1/ai-agents``."""
    call.state.settle(call.now)
    lazy = narrowed(
        call.state.ai_agents.after, lambda a: a.to_json(call.base), [call.param("search")]
    )
    if lazy is not None:
        return call.listing(
            lazy,
            lambda a: a.id,
            lambda a: a.to_json(call.base),
            default_limit=20,
        )
    agents = list(call.state.ai_agents.values())
    try:
        agents = filtered(call.param("search"), agents, lambda a: a.to_json(call.base))
    except FilterError as exc:
        return invalid("search", str(exc))
    return call.listing(agents, lambda a: a.id, lambda a: a.to_json(call.base), default_limit=20)


def get_agent(call: Call, ref: str) -> LabResponse:
    """``GET …/ai-agents/{agentId}``."""
    agent = _agent_or_404(call, ref)
    if isinstance(agent, LabResponse):
        return agent
    return LabResponse.from_json(200, agent.to_json(call.base))


def agent_jwks(call: Call, ref: str) -> LabResponse:
    """``GET …/ai-agents/{agentId}/credentials/jwks``."""
    agent = _agent_or_404(call, ref)
    if isinstance(agent, LabResponse):
        return agent
    return LabResponse.from_json(200, [k.to_json() for k in agent.jwks])


def agent_owners(call: Call, ref: str) -> LabResponse:
    """``GET …/ai-agents/{agentId}/owners``."""
    agent = _agent_or_404(call, ref)
    if isinstance(agent, LabResponse):
        return agent
    return LabResponse.from_json(200, [{"id": uid, "type": "USER"} for uid in agent.owners])


def _lifecycle(call: Call, ref: str, target: str) -> LabResponse:
    agent = _agent_or_404(call, ref)
    if isinstance(agent, LabResponse):
        return agent
    if target == "ACTIVE" and not agent.owners:
        return invalid("owners", "An AI agent needs an owner before it can be activated")
    op = Operation(
        id="op-" + secrets.token_hex(8),
        agent_id=agent.id,
        target_status=target,
        created=call.now,
        completes=call.now + OPERATION_DELAY,
    )
    call.state.operations[op.id] = op
    agent.pending = op.id
    call.state.unsettled.add(agent.id)
    location = f"{call.base}/workload-principals/api/v1/operations/{op.id}"
    return LabResponse(202, [("Location", location)])


def activate_agent(call: Call, ref: str) -> LabResponse:
    """``POST …/ai-agents/{agentId}/lifecycle/activate`` → 202 + ``Location``."""
    return _lifecycle(call, ref, "ACTIVE")


def deactivate_agent(call: Call, ref: str) -> LabResponse:
    """``POST …/ai-agents/{agentId}/lifecycle/deactivate`` → 202 + ``Location``."""
    return _lifecycle(call, ref, "INACTIVE")


def get_operation(call: Call, op_id: str) -> LabResponse:
    """``GET /workload-principals/api/v1/operations/{operationId}``."""
    call.state.settle(call.now)
    op = call.state.operations.get(op_id)
    if op is None:
        return not_found(f"{op_id} (Operation)")
    done = op.completes <= call.now
    agent = call.state.ai_agents.get(op.agent_id)
    resource = {
        "id": op.agent_id,
        "type": "AI_AGENT",
        "status": agent.status if agent is not None else "DELETED",
        "_links": {"self": {"href": f"{call.base}{_AGENTS}/{op.agent_id}"}},
    }
    return LabResponse.from_json(
        200,
        {
            "id": op.id,
            "type": "ai-agent:Activate" if op.target_status == "ACTIVE" else "ai-agent:Deactivate",
            "status": "COMPLETED" if done else "IN_PROGRESS",
            "created": stamp(op.created),
            "completed": stamp(op.completes) if done else None,
            "resource": resource,
        },
    )


ROUTES: list[Route] = [
    route("GET", "/api/v1/org", "okta.orgs.read", get_org),
    route("GET", "/api/v1/logs", "okta.logs.read", list_logs),
    route("GET", "/api/v1/api-tokens", "okta.apiTokens.read", list_api_tokens),
    route("GET", "/api/v1/api-tokens/{token}", "okta.apiTokens.read", get_api_token),
    route("DELETE", "/api/v1/api-tokens/{token}", "okta.apiTokens.manage", revoke_api_token),
    route("GET", _AGENTS, "okta.aiAgents.read", list_agents),
    route("GET", _AGENTS + "/{agent}", "okta.aiAgents.read", get_agent),
    route("GET", _AGENTS + "/{agent}/credentials/jwks", "okta.aiAgents.read", agent_jwks),
    route("GET", _AGENTS + "/{agent}/owners", "okta.aiAgents.read", agent_owners),
    route("POST", _AGENTS + "/{agent}/lifecycle/activate", "okta.aiAgents.manage", activate_agent),
    route(
        "POST",
        _AGENTS + "/{agent}/lifecycle/deactivate",
        "okta.aiAgents.manage",
        deactivate_agent,
    ),
    route(
        "GET", "/workload-principals/api/v1/operations/{op}", "okta.aiAgents.read", get_operation
    ),
]
"""The org, API token and AI agent endpoints."""
