"""What Entra identities did: sign-ins and directory audits read through Graph.

Service principal, agent identity and managed identity sign-ins are served by Graph's
``/beta/auditLogs/signIns`` only, under a ``signInEventTypes`` filter (v1.0 lists
interactive user sign-ins); directory audits come from ``/v1.0/auditLogs/directoryAudits``
filtered on the initiating app. Both are asked newest first within the window, one
identity at a time through the adapter's :class:`GraphClient` (its concurrency gate,
``Retry-After`` pauses and error mapping), and cut at the window's bound.

An event's chain is what the record shows: the client application (``appId``) the token
was issued to, and for an agent identity the blueprint it acts for
(``agent.agentSubjectParentId``). A refused sign-in (``status.errorCode`` ≠ 0) or a failed
write is ``denied``, with the AADSTS code or Graph's reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from agent_ir.activity.model import ActivityEvent, ActivityPage, ActivityWindow, Hop, Outcome
from agent_ir.model import Identity
from agent_ir.providers.entra.graph_client import GraphClient
from agent_ir.providers.entra.snapshot import parse_time

MAX_TOP = 999
SERVICE_SIGN_INS = "signInEventTypes/any(t: t eq 'servicePrincipal')"
MANAGED_SIGN_INS = "signInEventTypes/any(t: t eq 'managedIdentity')"


def _stamp(moment: datetime) -> str:
    """A DateTimeOffset literal for ``$filter`` (UTC, microseconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EntraActivityReader:
    """Reads one tenant's sign-ins and directory audits for given identities."""

    def __init__(self, graph: GraphClient, page_size: int = MAX_TOP) -> None:
        self.graph = graph
        self.page_size = page_size

    async def read(self, identities: Sequence[Identity], window: ActivityWindow) -> ActivityPage:
        """Events of ``identities`` within ``window``, newest ``window.limit`` kept."""
        page = ActivityPage(provider="entra")
        before = self.graph.requests
        for identity in identities:
            if identity.provider != "entra":
                continue
            events, cut = await self._sign_ins(identity, window)
            audits, audit_cut = await self._audits(identity, window)
            page.events.extend(events + audits)
            page.truncated = page.truncated or cut or audit_cut
        page.keep_newest(window.limit)
        page.requests = self.graph.requests - before
        return page

    async def _sign_ins(
        self, identity: Identity, window: ActivityWindow
    ) -> tuple[list[ActivityEvent], bool]:
        kinds = MANAGED_SIGN_INS if identity.kind == "managed-identity" else SERVICE_SIGN_INS
        query = (
            f"{kinds} and servicePrincipalId eq '{identity.id}'"
            f" and createdDateTime ge {_stamp(window.since)}"
            f" and createdDateTime lt {_stamp(window.until)}"
        )
        rows, cut = await self._newest(
            "auditLogs/signIns", query, window.limit, "beta", "reading sign-ins"
        )
        return [sign_in_event(identity, row) for row in rows], cut

    async def _audits(
        self, identity: Identity, window: ActivityWindow
    ) -> tuple[list[ActivityEvent], bool]:
        app_id = identity.aliases[0] if identity.aliases else ""
        if not app_id:
            return [], False
        query = (
            f"initiatedBy/app/appId eq '{app_id}'"
            f" and activityDateTime ge {_stamp(window.since)}"
            f" and activityDateTime lt {_stamp(window.until)}"
        )
        rows, cut = await self._newest(
            "auditLogs/directoryAudits", query, window.limit, "v1.0", "reading directory audits"
        )
        return [audit_event(identity, row) for row in rows], cut

    async def _newest(
        self, path: str, query: str, limit: int, version: str, what: str
    ) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``limit`` records, newest first (Graph's order); whether more remained."""
        params = {"$filter": query, "$top": str(min(limit, self.page_size, MAX_TOP))}
        rows: list[dict[str, Any]] = []
        async for values in self.graph.pages(path, what, version=version, params=params):
            rows.extend(values)
            if len(rows) >= limit:
                return rows[:limit], True
        return rows, False


def _when(text: Any) -> datetime:
    moment = parse_time(str(text)) if text else None
    return moment or datetime.fromtimestamp(0, UTC)


def sign_in_event(identity: Identity, row: dict[str, Any]) -> ActivityEvent:
    """One sign-in as an activity event (a token request for a resource)."""
    status = row.get("status") or {}
    code = int(status.get("errorCode") or 0)
    outcome: Outcome = "success" if code == 0 else "denied"
    chain = [Hop("client", str(row.get("appId") or ""), str(row.get("appDisplayName") or ""))]
    parent = (row.get("agent") or {}).get("agentSubjectParentId")
    if parent:
        chain.append(Hop("actor", str(parent), f"blueprint {parent}"))
    return ActivityEvent(
        when=_when(row.get("createdDateTime")),
        provider="entra",
        identity_id=identity.id,
        identity=identity.name,
        action="signIn",
        resource=str(row.get("resourceDisplayName") or ""),
        outcome=outcome,
        chain=tuple(chain),
        source_ip=str(row.get("ipAddress") or ""),
        user_agent=str(row.get("userAgent") or ""),
        request_id=str(row.get("correlationId") or ""),
        event_id=str(row.get("id") or ""),
        session=str(row.get("uniqueTokenIdentifier") or ""),
        account=identity.account,
        error="" if code == 0 else f"AADSTS{code}: {status.get('failureReason') or ''}".strip(),
        raw=row,
    )


def audit_event(identity: Identity, row: dict[str, Any]) -> ActivityEvent:
    """One directory audit as an activity event (a write the identity made)."""
    app = (row.get("initiatedBy") or {}).get("app") or {}
    targets = row.get("targetResources") or [{}]
    target = targets[0] if targets else {}
    failed = str(row.get("result") or "").lower() == "failure"
    reason = str(row.get("resultReason") or "")
    outcome: Outcome = "success"
    if failed:
        outcome = "denied" if "privilege" in reason.lower() else "failure"
    return ActivityEvent(
        when=_when(row.get("activityDateTime")),
        provider="entra",
        identity_id=identity.id,
        identity=identity.name,
        action=str(row.get("activityDisplayName") or ""),
        resource=str(target.get("displayName") or target.get("id") or ""),
        outcome=outcome,
        chain=(Hop("client", str(app.get("appId") or ""), str(app.get("displayName") or "")),),
        request_id=str(row.get("correlationId") or ""),
        event_id=str(row.get("id") or ""),
        account=identity.account,
        error=reason if failed else "",
        raw=row,
    )
