"""Reading what AWS identities did, from CloudTrail event history (``LookupEvents``).

Event history takes one lookup attribute per request, so each identity is read its own
way, in its own account:

* an IAM user by ``Username`` (its calls, signed with its keys);
* a role through its sessions: ``ResourceName`` = the role's ARN finds the ``AssumeRole``
  records that opened sessions on it; a session counts when its caller is one of the
  identities asked about (the user, or a session of another asked role: role chaining);
  then ``AccessKeyId`` = the session's temporary key id finds what the session did.

Every lookup is paged with ``NextToken`` up to the window's bound, newest first, and the
blocking boto3 calls run on the adapter's pool with errors mapped at its boundary. The
raw record is kept for export with every secret field removed (``AssumeRole`` records
carry the session token in ``responseElements``); access key ids stay.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from agent_ir.activity.model import ActivityEvent, ActivityPage, ActivityWindow, Hop, Outcome
from agent_ir.errors import BadResponse
from agent_ir.model import Identity

PAGE_SIZE = 50
"""CloudTrail's largest page."""
SESSION_REACH = timedelta(hours=12)
"""How long before the window a session may have been opened and still act in it (the
longest role session AWS allows)."""

_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "Client.UnauthorizedOperation",
}
_SECRET_WORDS = ("secret", "token", "password", "credential")
_KEEP = {"accessKeyId", "credentials"}


class LookupFn(Protocol):
    """One ``LookupEvents`` request in an account: ``(account, what, **kwargs) -> reply``."""

    async def __call__(self, account: str, what: str, **kwargs: Any) -> dict[str, Any]: ...


@dataclass(slots=True)
class _Session:
    role: Identity
    key_id: str
    opened: datetime


@dataclass(slots=True)
class _Reader:
    lookup: LookupFn
    window: ActivityWindow
    identities: Sequence[Identity]
    requests: int = 0
    truncated: bool = False
    notes: list[str] = field(default_factory=list)

    async def read(self) -> list[ActivityEvent]:
        users = [i for i in self.identities if i.kind in ("user", "iam-user")]
        roles = [i for i in self.identities if i.kind in ("role", "iam-role")]
        own = await asyncio.gather(*(self._user(u) for u in users))
        sessions = await asyncio.gather(*(self._sessions(r) for r in roles))
        opened = [s for found in sessions for s in found]
        done = await asyncio.gather(*(self._session_events(s) for s in opened))
        return [e for batch in (*own, *done) for e in batch]

    async def _records(
        self, account: str, key: str, value: str, since: datetime
    ) -> list[dict[str, Any]]:
        """Every record matching one attribute in ``account`` from ``since``, bounded."""
        records: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}],
                "StartTime": since,
                "EndTime": self.window.until,
                "MaxResults": PAGE_SIZE,
            }
            if token:
                kwargs["NextToken"] = token
            reply = await self.lookup(account, f"looking up CloudTrail events by {key}", **kwargs)
            self.requests += 1
            for summary in reply.get("Events", []):
                records.append(_parse(summary))
            token = reply.get("NextToken")
            if not token:
                return records
            if len(records) >= self.window.limit:
                self.truncated = True
                return records[: self.window.limit]

    async def _user(self, user: Identity) -> list[ActivityEvent]:
        records = await self._records(user.account, "Username", user.name, self.window.since)
        return [
            _event(r, user)
            for r in records
            if r.get("userIdentity", {}).get("type") == "IAMUser"
            and r["userIdentity"].get("arn") == user.id
        ]

    async def _sessions(self, role: Identity) -> list[_Session]:
        since = self.window.since - SESSION_REACH
        records = await self._records(role.account, "ResourceName", role.id, since)
        asked = {i.id for i in self.identities}
        found = []
        for record in records:
            if record.get("eventName") != "AssumeRole" or record.get("errorCode"):
                continue
            if _principal(record.get("userIdentity", {})) not in asked:
                continue
            credentials = (record.get("responseElements") or {}).get("credentials") or {}
            key_id = credentials.get("accessKeyId")
            if key_id:
                found.append(_Session(role, key_id, _when(record)))
        return found

    async def _session_events(self, session: _Session) -> list[ActivityEvent]:
        since = max(self.window.since, session.opened)
        records = await self._records(session.role.account, "AccessKeyId", session.key_id, since)
        return [_event(r, session.role) for r in records]


async def read_activity(
    lookup: LookupFn, identities: Sequence[Identity], window: ActivityWindow
) -> ActivityPage:
    """The CloudTrail events of ``identities`` within ``window`` (see the module doc)."""
    reader = _Reader(lookup, window, [i for i in identities if i.provider == "aws"])
    events = await reader.read()
    events = [e for e in events if window.holds(e.when)]
    events.sort(key=lambda e: e.when, reverse=True)
    cut = len(events) > window.limit
    return ActivityPage(
        "aws",
        events[: window.limit],
        truncated=reader.truncated or cut,
        requests=reader.requests,
        notes=reader.notes,
    )


def _parse(summary: dict[str, Any]) -> dict[str, Any]:
    """The record inside one event-history entry."""
    text = summary.get("CloudTrailEvent")
    try:
        record = json.loads(text) if isinstance(text, str) else None
    except ValueError as exc:
        raise BadResponse("aws", f"CloudTrailEvent is not JSON: {exc}") from exc
    if not isinstance(record, dict) or "eventTime" not in record or "eventName" not in record:
        raise BadResponse("aws", "CloudTrailEvent lacks eventTime or eventName")
    return record


def _when(record: dict[str, Any]) -> datetime:
    try:
        moment = datetime.fromisoformat(str(record["eventTime"]).replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadResponse("aws", f"unreadable eventTime {record['eventTime']!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _principal(identity: dict[str, Any]) -> str:
    """The IAM principal behind a ``userIdentity``: a user's ARN, a session's role ARN."""
    if identity.get("type") == "AssumedRole":
        issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
        return str(issuer.get("arn", ""))
    return str(identity.get("arn", ""))


def _outcome(record: dict[str, Any]) -> Outcome:
    code = record.get("errorCode")
    if not code:
        return "success"
    return "denied" if code in _DENIED else "failure"


def _chain(identity: dict[str, Any]) -> tuple[Hop, ...]:
    """The hops the record itself shows: the key, or the source identity and session."""
    if identity.get("type") != "AssumedRole":
        key = identity.get("accessKeyId")
        return (Hop("access-key", key),) if key else ()
    context = identity.get("sessionContext") or {}
    hops = []
    source = context.get("sourceIdentity")
    if source:
        hops.append(Hop("source-identity", str(source)))
    arn = str(identity.get("arn", ""))
    hops.append(Hop("session", arn, arn.split(":assumed-role/", 1)[-1]))
    key = identity.get("accessKeyId")
    if key:
        hops.append(Hop("access-key", str(key)))
    return tuple(hops)


def _resource(record: dict[str, Any]) -> str:
    resources = record.get("resources") or []
    if resources and isinstance(resources[0], dict):
        return str(resources[0].get("ARN", ""))
    parameters = record.get("requestParameters") or {}
    for key in ("roleArn", "userName", "roleName", "bucketName", "policyArn"):
        if key in parameters:
            return str(parameters[key])
    return ""


def _event(record: dict[str, Any], identity: Identity) -> ActivityEvent:
    who = record.get("userIdentity") or {}
    service = str(record.get("eventSource", "")).split(".", 1)[0]
    session = ""
    if who.get("type") == "AssumedRole":
        session = str(who.get("arn", "")).rsplit("/", 1)[-1]
    return ActivityEvent(
        when=_when(record),
        provider="aws",
        identity_id=identity.id,
        identity=identity.name,
        action=f"{service}:{record['eventName']}",
        resource=_resource(record),
        outcome=_outcome(record),
        chain=_chain(who),
        source_ip=str(record.get("sourceIPAddress", "")),
        user_agent=str(record.get("userAgent", "")),
        request_id=str(record.get("requestID", "")),
        event_id=str(record.get("eventID", "")),
        session=session,
        account=str(record.get("recipientAccountId", "")),
        region=str(record.get("awsRegion", "")),
        error=str(record.get("errorCode", "")),
        raw=scrub(record),
    )


def scrub(value: Any, key: str = "") -> Any:
    """A copy of ``value`` without secret fields (session tokens, secret keys, passwords);
    access key ids stay: they name a credential, they do not grant it."""
    if isinstance(value, dict):
        return {
            k: scrub(v, k)
            for k, v in value.items()
            if k in _KEEP or not any(word in k.lower() for word in _SECRET_WORDS)
        }
    if isinstance(value, list):
        return [scrub(v, key) for v in value]
    return value


def lookup_through(call: Callable[..., Any]) -> LookupFn:
    """Adapt the adapter's per-account CloudTrail call to :class:`LookupFn`."""

    async def lookup(account: str, what: str, **kwargs: Any) -> dict[str, Any]:
        reply = await call(account, what, **kwargs)
        if not isinstance(reply, dict):
            raise BadResponse("aws", f"unexpected LookupEvents reply while {what}")
        return reply

    return lookup
