"""What Okta service apps and service users did: the System Log (``GET /api/v1/logs``).

One listing per identity: ``since``/``until`` the window, ``filter`` on the actor (a
service app's OAuth client id is its actor and its ``client.id``; a user is the actor of
what its API tokens do), ``sortOrder=DESCENDING`` and ``limit``, following
``Link: <…>; rel="next"`` until the window's bound. Requests go through the adapter's
:class:`OktaClient` (raw requests on the SDK's request executor: its auth, its rate gate
learning from ``X-Rate-Limit-*`` and its errors mapped at
:mod:`agent_ir.providers.okta.boundary`); this module never imports the okta SDK itself,
and the client loads it in a thread on first use.

The chain is what the event shows: the actor, the OAuth client when it differs, and the
API token the call was made with (``transaction.detail.requestApiTokenId``).
``outcome.result`` ``DENY`` is ``denied``; a refused token request (``FAILURE`` on a
token grant) is ``denied`` too, any other ``FAILURE`` a ``failure``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from agent_ir import errors
from agent_ir.activity.model import ActivityEvent, ActivityPage, ActivityWindow, Hop, Outcome
from agent_ir.model import Identity
from agent_ir.providers.okta.client import OktaClient

MAX_LIMIT = 1000
TOKEN_GRANT = "app.oauth2.as.token.grant.access_token"
_APP_KINDS = ("service-app", "ai-agent")
_USER_KINDS = ("service-user",)


def _stamp(moment: datetime) -> str:
    """An ISO 8601 instant for ``since``/``until`` (UTC, milliseconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def actor_filter(identity: Identity) -> str | None:
    """The System Log filter selecting an identity's events (None: the log cannot say)."""
    if identity.kind in _APP_KINDS:
        client = identity.tag("client_id") or (identity.aliases[0] if identity.aliases else "")
        client = client or identity.id
        return f'actor.id eq "{client}" or client.id eq "{client}"'
    if identity.kind in _USER_KINDS:
        return f'actor.id eq "{identity.id}"'
    return None


class OktaActivityReader:
    """Reads one org's System Log for given identities."""

    def __init__(self, client: OktaClient, page_size: int = MAX_LIMIT) -> None:
        self.client = client
        self.page_size = page_size

    async def read(self, identities: Sequence[Identity], window: ActivityWindow) -> ActivityPage:
        """Events of ``identities`` within ``window``, newest ``window.limit`` kept."""
        page = ActivityPage(provider="okta")
        before = self.client.requests
        for identity in identities:
            query = actor_filter(identity) if identity.provider == "okta" else None
            if query is None:
                if identity.provider == "okta":
                    page.notes.append(f"{identity.name}: the System Log does not name it")
                continue
            rows, cut = await self._events(query, window)
            page.events.extend(log_event(identity, row) for row in rows)
            page.truncated = page.truncated or cut
        page.keep_newest(window.limit)
        page.requests = self.client.requests - before
        return page

    async def _events(
        self, query: str, window: ActivityWindow
    ) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``window.limit`` events, newest first; whether more remained."""
        params: dict[str, str] | None = {
            "since": _stamp(window.since),
            "until": _stamp(window.until),
            "filter": query,
            "sortOrder": "DESCENDING",
            "limit": str(min(window.limit, self.page_size, MAX_LIMIT)),
        }
        path = "/api/v1/logs"
        rows: list[dict[str, Any]] = []
        while True:
            _, data, response = await self.client.raw(
                "reading the System Log", "GET", path, params=params
            )
            if not isinstance(data, list):
                raise errors.BadResponse("okta", "reading the System Log: expected a list")
            rows.extend(row for row in data if isinstance(row, dict))
            following = response.links.get("next")
            if len(rows) >= window.limit:
                return rows[: window.limit], bool(following) or len(rows) > window.limit
            if not following or not data:
                return rows, False
            target = following["url"]
            path, params = target.path, dict(target.query)


def _when(text: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return datetime.fromtimestamp(0, UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _outcome(row: dict[str, Any]) -> Outcome:
    result = str((row.get("outcome") or {}).get("result") or "SUCCESS").upper()
    if result in ("SUCCESS", "ALLOW"):
        return "success"
    if result == "DENY" or row.get("eventType") == TOKEN_GRANT:
        return "denied"
    return "failure"


def log_event(identity: Identity, row: dict[str, Any]) -> ActivityEvent:
    """One System Log event as an activity event."""
    actor = row.get("actor") or {}
    client = row.get("client") or {}
    chain = [Hop("actor", str(actor.get("id") or ""), str(actor.get("displayName") or ""))]
    if client.get("id") and client.get("id") != actor.get("id"):
        chain.append(Hop("client", str(client["id"])))
    transaction = row.get("transaction") or {}
    token = (transaction.get("detail") or {}).get("requestApiTokenId")
    if token:
        chain.append(Hop("token", str(token)))
    targets = row.get("target") or [{}]
    target = targets[0] if targets else {}
    outcome = _outcome(row)
    reason = str((row.get("outcome") or {}).get("reason") or "")
    return ActivityEvent(
        when=_when(row.get("published")),
        provider="okta",
        identity_id=identity.id,
        identity=identity.name,
        action=str(row.get("eventType") or ""),
        resource=str(target.get("displayName") or target.get("id") or ""),
        outcome=outcome,
        chain=tuple(chain),
        source_ip=str(client.get("ipAddress") or ""),
        user_agent=str((client.get("userAgent") or {}).get("rawUserAgent") or ""),
        request_id=str(transaction.get("id") or ""),
        event_id=str(row.get("uuid") or ""),
        account=identity.account,
        error=reason if outcome != "success" else "",
        raw=row,
    )
