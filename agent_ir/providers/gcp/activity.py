"""What Google Cloud service accounts did: Cloud Audit Logs read through Cloud Logging v2.

One ``POST {logging_url}/v2/entries:list`` listing per service account, over every
configured project at once (``resourceNames``), filtered on the window and
``protoPayload.authenticationInfo.principalEmail``, newest first (``orderBy: timestamp
desc``), following ``nextPageToken`` until the window's bound. Calls go through the
adapter's :class:`GcpClient`: its read budget, retries honouring ``RetryInfo`` /
``Retry-After``, and errors mapped at :mod:`agent_ir.providers.gcp.boundary`.

The chain of an event is the record's ``serviceAccountDelegationInfo``: who impersonated
the account, first caller first (``delegation`` hops). ``status.code`` 7
(``PERMISSION_DENIED``) or 16 (``UNAUTHENTICATED``) is ``denied``; another code is a
``failure``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from agent_ir.activity.model import ActivityEvent, ActivityPage, ActivityWindow, Hop, Outcome
from agent_ir.model import Identity
from agent_ir.providers.gcp.client import GcpClient
from agent_ir.providers.gcp.config import GcpSettings

MAX_PAGE = 1000
_DENIED_CODES = (7, 16)


def _stamp(moment: datetime) -> str:
    """An RFC 3339 timestamp for the logging query language."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class GcpActivityReader:
    """Reads the configured projects' audit logs for given service accounts."""

    def __init__(self, client: GcpClient, settings: GcpSettings, page_size: int = MAX_PAGE) -> None:
        self.client = client
        self.settings = settings
        self.page_size = page_size

    async def read(self, identities: Sequence[Identity], window: ActivityWindow) -> ActivityPage:
        """Events of ``identities`` within ``window``, newest ``window.limit`` kept."""
        page = ActivityPage(provider="gcp")
        before = self.client.requests
        for identity in identities:
            if identity.provider != "gcp":
                continue
            entries, cut = await self._entries(identity.id, window)
            page.events.extend(entry_event(identity, e) for e in entries)
            page.truncated = page.truncated or cut
        page.keep_newest(window.limit)
        page.requests = self.client.requests - before
        return page

    async def _entries(
        self, email: str, window: ActivityWindow
    ) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``window.limit`` entries of one principal, newest first; whether more
        remained."""
        quoted = email.replace("\\", "\\\\").replace('"', '\\"')
        body: dict[str, Any] = {
            "resourceNames": [f"projects/{p}" for p in self.settings.projects],
            "filter": (
                f'timestamp>="{_stamp(window.since)}" AND timestamp<"{_stamp(window.until)}"'
                f' AND protoPayload.authenticationInfo.principalEmail="{quoted}"'
            ),
            "orderBy": "timestamp desc",
            "pageSize": min(window.limit, self.page_size, MAX_PAGE),
        }
        url = f"{self.settings.logging_url.rstrip('/')}/v2/entries:list"
        entries: list[dict[str, Any]] = []
        while True:
            reply = await self.client.call("POST", url, "reading the audit logs", body=body)
            found = reply.get("entries") or []
            entries.extend(e for e in found if isinstance(e, dict))
            token = reply.get("nextPageToken")
            if len(entries) >= window.limit:
                return entries[: window.limit], bool(token) or len(entries) > window.limit
            if not token:
                return entries, False
            body["pageToken"] = token


def _when(text: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return datetime.fromtimestamp(0, UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def entry_event(identity: Identity, entry: dict[str, Any]) -> ActivityEvent:
    """One audit log entry as an activity event."""
    payload = entry.get("protoPayload") or {}
    auth = payload.get("authenticationInfo") or {}
    chain = tuple(
        Hop("delegation", str(email))
        for info in auth.get("serviceAccountDelegationInfo") or []
        if (email := (info.get("firstPartyPrincipal") or {}).get("principalEmail"))
    )
    status = payload.get("status") or {}
    code = int(status.get("code") or 0)
    outcome: Outcome = "success"
    if code:
        outcome = "denied" if code in _DENIED_CODES else "failure"
    metadata = payload.get("requestMetadata") or {}
    labels = (entry.get("resource") or {}).get("labels") or {}
    return ActivityEvent(
        when=_when(entry.get("timestamp")),
        provider="gcp",
        identity_id=identity.id,
        identity=identity.name,
        action=str(payload.get("methodName") or ""),
        resource=str(payload.get("resourceName") or ""),
        outcome=outcome,
        chain=chain,
        source_ip=str(metadata.get("callerIp") or ""),
        user_agent=str(metadata.get("callerSuppliedUserAgent") or ""),
        event_id=str(entry.get("insertId") or ""),
        account=str(labels.get("project_id") or ""),
        error=str(status.get("message") or "") if code else "",
        raw=entry,
    )
