"""CloudTrail for the lab: every call recorded as a CloudTrail record, served by LookupEvents.

moto's CloudTrail has no ``LookupEvents``; this module is the lab's own. What it keeps:

* a record for every IAM, STS and S3 call signed by a credential that is not the
  responder's (the console's own reads are not the story), refused ones included with
  ``errorCode`` ``AccessDenied``; a cross-account ``AssumeRole`` is kept in both accounts,
  as CloudTrail does;
* the seeded history of a world's ``activity:`` entries for AWS: each day's chain of
  ``AssumeRole`` records (with the session's temporary key id), then the calls;
* ``LookupEvents`` as CloudTrail answers it: one lookup attribute, ``StartTime`` /
  ``EndTime`` (inclusive), ``MaxResults`` 1 to 50 (default 50), an opaque ``NextToken``,
  newest first, management events only (S3 object reads are data events, which event
  history never returns), each ``CloudTrailEvent`` a JSON string.

Records follow "CloudTrail record contents" (eventVersion 1.08): ``userIdentity`` of type
``IAMUser`` or ``AssumedRole`` (with ``sessionContext.sessionIssuer`` and
``sourceIdentity``), ``accessKeyId``, ``requestID``, ``eventID``, ``resources``.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import re
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from agent_ir.lab.activity_world import DATA_EVENTS, ActivitySpec, PlannedCall, plan
from agent_ir.lab.server import LabResponse

REGION = "us-east-1"
LOOKUP_TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
MAX_RESULTS = 50
LOOKUP_KEYS = {
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
}


_READ_PREFIXES = ("Get", "List", "Describe", "Head", "Lookup", "Decrypt", "Search")
_RESOURCE_TYPES = {
    ("iam", "user"): "AWS::IAM::User",
    ("iam", "role"): "AWS::IAM::Role",
    ("iam", "policy"): "AWS::IAM::Policy",
    ("kms", "key"): "AWS::KMS::Key",
    ("glue", "table"): "AWS::Glue::Table",
    ("glue", "database"): "AWS::Glue::Database",
    ("athena", "workgroup"): "AWS::Athena::WorkGroup",
    ("secretsmanager", "secret"): "AWS::SecretsManager::Secret",
    ("dynamodb", "table"): "AWS::DynamoDB::Table",
}
_TAG = re.compile(r"<(AccessKeyId|SessionToken|Expiration|AssumedRoleId|Arn)>([^<]*)<")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who signed a call, in the terms a CloudTrail ``userIdentity`` needs."""

    account: str
    arn: str
    principal_id: str
    access_key_id: str
    user_name: str | None = None
    role_arn: str | None = None
    role_id: str | None = None
    issued: datetime | None = None
    source_identity: str | None = None
    service: str | None = None
    """An AWS service principal (``lambda.amazonaws.com``) assuming a role on its own."""

    def user_identity(self) -> dict[str, Any]:
        """The record's ``userIdentity`` element."""
        if self.service is not None:
            return {"type": "AWSService", "invokedBy": self.service}
        if self.role_arn is None:
            return {
                "type": "IAMUser",
                "principalId": self.principal_id,
                "arn": self.arn,
                "accountId": self.account,
                "accessKeyId": self.access_key_id,
                "userName": self.user_name or "",
            }
        context: dict[str, Any] = {
            "sessionIssuer": {
                "type": "Role",
                "principalId": self.role_id or "",
                "arn": self.role_arn,
                "accountId": self.account,
                "userName": self.role_arn.rsplit("/", 1)[-1],
            },
            "webIdFederationData": {},
            "attributes": {
                "creationDate": _stamp(self.issued or datetime.now(UTC)),
                "mfaAuthenticated": "false",
            },
        }
        if self.source_identity:
            context["sourceIdentity"] = self.source_identity
        return {
            "type": "AssumedRole",
            "principalId": self.principal_id,
            "arn": self.arn,
            "accountId": self.account,
            "accessKeyId": self.access_key_id,
            "sessionContext": context,
        }

    @property
    def lookup_name(self) -> str:
        """Event history's ``Username``: the user's name, or the role session's name."""
        if self.service is not None:
            return self.service
        if self.role_arn is None:
            return self.user_name or ""
        return self.arn.rsplit("/", 1)[-1]


@dataclass(slots=True)
class _Entry:
    """One stored record with the values event history filters on."""

    when: datetime
    event_id: str
    record: dict[str, Any]
    attributes: dict[str, set[str]]
    summary: dict[str, Any]

    @property
    def order(self) -> tuple[datetime, str]:
        return (self.when, self.event_id)


@dataclass(slots=True)
class _AccountTrail:
    """One account's records, oldest first, with an index per lookup attribute."""

    entries: list[_Entry] = field(default_factory=list)
    index: dict[tuple[str, str], list[_Entry]] = field(default_factory=dict)

    def add(self, entry: _Entry) -> None:
        _insort(self.entries, entry)
        for key, values in entry.attributes.items():
            for value in values:
                _insort(self.index.setdefault((key, value), []), entry)


def _insort(rows: list[_Entry], entry: _Entry) -> None:
    if not rows or rows[-1].order <= entry.order:
        rows.append(entry)
    else:
        bisect.insort(rows, entry, key=lambda e: e.order)


class Trail:
    """Every account's CloudTrail event history; thread-safe."""

    def __init__(self, accounts: Sequence[str]) -> None:
        self.accounts = list(accounts)
        self._lock = threading.Lock()
        self._trails: dict[str, _AccountTrail] = {a: _AccountTrail() for a in self.accounts}

    def clear(self) -> None:
        """Forget every record (the lab was reset)."""
        with self._lock:
            self._trails = {a: _AccountTrail() for a in self.accounts}

    def export(self) -> dict[str, list[dict[str, Any]]]:
        """Every account's records (for a lab served from another process)."""
        with self._lock:
            return {a: [e.record for e in t.entries] for a, t in self._trails.items()}

    def restore(self, saved: dict[str, list[dict[str, Any]]]) -> None:
        """Hold exactly the records of :meth:`export`."""
        fresh = {a: _AccountTrail() for a in self.accounts}
        for account, records in saved.items():
            for data in records:
                fresh.setdefault(account, _AccountTrail()).add(_entry(data))
        with self._lock:
            self._trails = fresh

    def count(self, account: str) -> int:
        """How many records ``account`` holds."""
        with self._lock:
            return len(self._trails[account].entries)

    def add(self, record: dict[str, Any], accounts: Iterable[str] | None = None) -> None:
        """Keep ``record`` in its recipient account (and any further ``accounts``)."""
        targets = {record["recipientAccountId"], *(accounts or ())}
        for account in targets:
            copy = dict(record, recipientAccountId=account)
            entry = _entry(copy)
            with self._lock:
                trail = self._trails.get(account)
                if trail is not None:
                    trail.add(entry)

    # -- LookupEvents ---------------------------------------------------------------------

    def lookup(self, account: str, body: dict[str, Any]) -> LabResponse:
        """Answer one ``LookupEvents`` request of a caller in ``account``."""
        try:
            query = _Query.parse(body)
        except _Invalid as exc:
            return cloudtrail_error(400, exc.code, exc.message)
        with self._lock:
            trail = self._trails.get(account, _AccountTrail())
            rows = trail.index.get(query.attribute, []) if query.attribute else trail.entries
            page, more = query.page(rows)
        reply: dict[str, Any] = {"Events": [e.summary for e in page]}
        if more is not None:
            reply["NextToken"] = more
        return LabResponse.from_text(200, json.dumps(reply), "application/x-amz-json-1.1")


class _Invalid(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class _Query:
    attribute: tuple[str, str] | None
    start: datetime | None
    end: datetime | None
    limit: int
    after: tuple[datetime, str] | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> _Query:
        attrs = body.get("LookupAttributes") or []
        if len(attrs) > 1:
            raise _Invalid(
                "InvalidLookupAttributesException", "You cannot specify more than one attribute."
            )
        attribute = None
        if attrs:
            key, value = attrs[0].get("AttributeKey"), attrs[0].get("AttributeValue")
            if key not in LOOKUP_KEYS or not isinstance(value, str) or not value:
                raise _Invalid(
                    "InvalidLookupAttributesException", f"Invalid lookup attribute: {key}"
                )
            attribute = (str(key), value)
        start, end = _epoch(body.get("StartTime")), _epoch(body.get("EndTime"))
        if start and end and start > end:
            raise _Invalid("InvalidTimeRangeException", "Start time is after end time.")
        limit = body.get("MaxResults", MAX_RESULTS)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_RESULTS:
            raise _Invalid("InvalidMaxResultsException", "MaxResults must be 1 to 50.")
        token = body.get("NextToken")
        after = _untoken(token) if token else None
        return cls(attribute, start, end, limit, after)

    def page(self, rows: list[_Entry]) -> tuple[list[_Entry], str | None]:
        """Newest first, within the window, after the token's position."""
        keys = [e.order for e in rows]
        top = len(rows)
        if self.end is not None:
            top = bisect.bisect_right(keys, (self.end, "\uffff"))
        if self.after is not None:
            top = min(top, bisect.bisect_left(keys, self.after))
        bottom = 0 if self.start is None else bisect.bisect_left(keys, (self.start, ""))
        picked: list[_Entry] = []
        index = top - 1
        while index >= bottom and len(picked) < self.limit:
            picked.append(rows[index])
            index -= 1
        more = _token(picked[-1].order) if index >= bottom and picked else None
        return picked, more


def _token(order: tuple[datetime, str]) -> str:
    text = f"{order[0].isoformat()}|{order[1]}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def _untoken(token: Any) -> tuple[datetime, str]:
    try:
        when, _, event_id = base64.urlsafe_b64decode(str(token)).decode().partition("|")
        return datetime.fromisoformat(when), event_id
    except ValueError as exc:
        raise _Invalid("InvalidNextTokenException", "Invalid NextToken.") from exc


def _epoch(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError as exc:
        raise _Invalid("InvalidTimeRangeException", f"Invalid time {value!r}.") from exc


def cloudtrail_error(status: int, code: str, message: str) -> LabResponse:
    """CloudTrail's JSON-protocol error body."""
    return LabResponse.from_text(
        status,
        json.dumps({"__type": code, "Message": message}),
        "application/x-amz-json-1.1",
        [("x-amzn-RequestId", str(uuid.uuid4()))],
    )


# -- records ----------------------------------------------------------------------------


def record(
    who: Principal,
    when: datetime,
    action: str,
    *,
    resource: str = "",
    request_parameters: dict[str, Any] | None = None,
    response_elements: dict[str, Any] | None = None,
    error: tuple[str, str] | None = None,
    source_ip: str = "127.0.0.1",
    user_agent: str = "",
    request_id: str | None = None,
    event_id: str | None = None,
    recipient: str | None = None,
) -> dict[str, Any]:
    """One CloudTrail record of ``action`` (``service:Name``) by ``who`` at ``when``."""
    service, _, name = action.partition(":")
    data: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": who.user_identity(),
        "eventTime": _stamp(when),
        "eventSource": f"{service}.amazonaws.com",
        "eventName": name,
        "awsRegion": REGION,
        "sourceIPAddress": who.service or source_ip,
        "userAgent": who.service or user_agent or "aws-cli/2.15.0 Python/3.11",
        "requestParameters": request_parameters,
        "responseElements": response_elements,
        "requestID": request_id or str(uuid.uuid4()),
        "eventID": event_id or str(uuid.uuid4()),
        "readOnly": name.startswith(_READ_PREFIXES),
        "eventType": "AwsApiCall",
        "managementEvent": action not in DATA_EVENTS,
        "recipientAccountId": recipient or who.account,
        "eventCategory": "Management" if action not in DATA_EVENTS else "Data",
    }
    if resource:
        data["resources"] = [_resource(resource, recipient or who.account)]
    if error is not None:
        data["errorCode"], data["errorMessage"] = error
    return data


def _resource(arn: str, account: str) -> dict[str, str]:
    parts = arn.split(":", 5)
    service = parts[2] if len(parts) > 2 else ""
    kind = parts[5].split("/", 1)[0] if len(parts) > 5 else ""
    if service == "s3":
        kind = "object" if "/" in parts[5] else "bucket"
        rtype = "AWS::S3::Object" if kind == "object" else "AWS::S3::Bucket"
    else:
        rtype = _RESOURCE_TYPES.get((service, kind), f"AWS::{service.upper()}::{kind.title()}")
    owner = parts[4] if len(parts) > 4 and parts[4] else account
    return {"accountId": owner, "type": rtype, "ARN": arn}


def _entry(data: dict[str, Any]) -> _Entry:
    when = datetime.fromisoformat(data["eventTime"].replace("Z", "+00:00"))
    identity = data.get("userIdentity") or {}
    username = _lookup_username(identity)
    resources = data.get("resources") or []
    attributes: dict[str, set[str]] = {
        "EventId": {data["eventID"]},
        "EventName": {data["eventName"]},
        "ReadOnly": {"true" if data.get("readOnly") else "false"},
        "EventSource": {data["eventSource"]},
        "ResourceName": {r["ARN"] for r in resources},
        "ResourceType": {r["type"] for r in resources},
    }
    if username:
        attributes["Username"] = {username}
    if identity.get("accessKeyId"):
        attributes["AccessKeyId"] = {identity["accessKeyId"]}
    if not data.get("managementEvent", True):
        attributes = {}  # data events are kept, never looked up
    summary: dict[str, Any] = {
        "EventId": data["eventID"],
        "EventName": data["eventName"],
        "ReadOnly": "true" if data.get("readOnly") else "false",
        "EventTime": when.timestamp(),
        "EventSource": data["eventSource"],
        "Resources": [{"ResourceType": r["type"], "ResourceName": r["ARN"]} for r in resources],
        "CloudTrailEvent": json.dumps(data, separators=(",", ":")),
    }
    if identity.get("accessKeyId"):
        summary["AccessKeyId"] = identity["accessKeyId"]
    if username:
        summary["Username"] = username
    return _Entry(when, data["eventID"], data, attributes, summary)


def _lookup_username(identity: dict[str, Any]) -> str:
    if identity.get("type") == "IAMUser":
        return str(identity.get("userName", ""))
    if identity.get("type") == "AssumedRole":
        return str(identity.get("arn", "")).rsplit("/", 1)[-1]
    return str(identity.get("invokedBy", ""))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _expiration(moment: datetime) -> str:
    """STS's expiration as CloudTrail writes it (``Mar 1, 2026, 3:00:00 AM``)."""
    text = moment.astimezone(UTC).strftime("%b %-d, %Y, %-I:%M:%S %p")
    return text


def assume_role_elements(reply: bytes) -> dict[str, Any] | None:
    """``responseElements`` of an AssumeRole from STS's XML reply (as CloudTrail logs it)."""
    found: dict[str, str] = {}
    for tag, value in _TAG.findall(reply.decode("utf-8", "replace")):
        found.setdefault(tag, value)
    if "AccessKeyId" not in found:
        return None
    expires = datetime.fromisoformat(found.get("Expiration", "").replace("Z", "+00:00"))
    return {
        "credentials": {
            "accessKeyId": found["AccessKeyId"],
            "sessionToken": found.get("SessionToken", ""),
            "expiration": _expiration(expires),
        },
        "assumedRoleUser": {
            "assumedRoleId": found.get("AssumedRoleId", ""),
            "arn": found.get("Arn", ""),
        },
    }


# -- seeded history ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signer:
    """A world principal able to sign seeded calls: an IAM user's key, or a role."""

    account: str
    arn: str
    principal_id: str
    access_key_id: str = ""


def seed_history(
    trail: Trail,
    entries: Sequence[tuple[int, ActivitySpec]],
    signers: dict[str, Signer],
    now: datetime,
    world_name: str,
) -> int:
    """Write the seeded ``activity:`` of AWS into ``trail``; returns the records written."""
    written = 0
    for index, spec in entries:
        calls = plan(spec, now, f"{world_name}:{index}")
        for day, group in _by_day(calls):
            acting, chain = _session_chain(spec, signers, day, group[0].when, index)
            for hop in chain:
                trail.add(hop, _other_accounts(hop))
                written += 1
            for call in group:
                trail.add(_seeded_call(spec, acting, call, index))
                written += 1
    return written


def _by_day(calls: Sequence[PlannedCall]) -> list[tuple[str, list[PlannedCall]]]:
    days: dict[str, list[PlannedCall]] = {}
    for call in calls:
        days.setdefault(call.when.date().isoformat(), []).append(call)
    return list(days.items())


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _key_id(*parts: object) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    number = int(_digest(*parts), 16)
    return "ASIA" + "".join(alphabet[(number >> (5 * i)) & 31] for i in range(16))


def _uuid(*parts: object) -> str:
    return str(uuid.UUID(_digest(*parts)[:32]))


def _session_chain(
    spec: ActivitySpec, signers: dict[str, Signer], day: str, first: datetime, index: int
) -> tuple[Principal, list[dict[str, Any]]]:
    """The principal that makes the day's calls, and the AssumeRole records leading to it."""
    origin = signers[spec.identity]
    roles = list(spec.via)
    if ":role/" in spec.identity:
        roles.insert(0, spec.identity)
        current = Principal(origin.account, "", "", "", service="lambda.amazonaws.com")
    else:
        current = Principal(
            origin.account,
            origin.arn,
            origin.principal_id,
            origin.access_key_id,
            user_name=origin.arn.rsplit("/", 1)[-1],
        )
    source = spec.identity.rsplit("/", 1)[-1] if current.service is None else None
    session = spec.session or f"{source or 'session'}-{day}"
    records = []
    moment = first - timedelta(seconds=2 * len(roles) + 1)
    for n, role_arn in enumerate(roles):
        role = signers[role_arn]
        key_id = _key_id(spec.seed, index, day, role_arn)
        issued = moment + timedelta(seconds=1)
        session_arn = f"arn:aws:sts::{role.account}:assumed-role/{role_arn.rsplit('/', 1)[-1]}"
        session_arn += f"/{session}"
        elements: dict[str, Any] = {
            "credentials": {
                "accessKeyId": key_id,
                "sessionToken": "lab-seeded-" + _digest("token", key_id)[:48],
                "expiration": _expiration(issued + timedelta(hours=1)),
            },
            "assumedRoleUser": {
                "assumedRoleId": f"{role.principal_id}:{session}",
                "arn": session_arn,
            },
        }
        parameters: dict[str, Any] = {"roleArn": role_arn, "roleSessionName": session}
        if source:
            parameters["sourceIdentity"] = source
            elements["sourceIdentity"] = source
        records.append(
            record(
                current,
                issued,
                "sts:AssumeRole",
                resource=role_arn,
                request_parameters=parameters,
                response_elements=elements,
                source_ip=spec.source_ip,
                user_agent=spec.user_agent,
                request_id=_uuid("req", spec.seed, index, day, n),
                event_id=_uuid("evt", spec.seed, index, day, n),
                recipient=role.account,
            )
        )
        current = Principal(
            role.account,
            session_arn,
            f"{role.principal_id}:{session}",
            key_id,
            role_arn=role_arn,
            role_id=role.principal_id,
            issued=issued,
            source_identity=source,
        )
        moment = issued + timedelta(seconds=1)
    return current, records


def _other_accounts(data: dict[str, Any]) -> list[str]:
    """A cross-account AssumeRole is logged in the caller's account too."""
    caller = data["userIdentity"].get("accountId")
    return [caller] if caller and caller != data["recipientAccountId"] else []


def _seeded_call(
    spec: ActivitySpec, who: Principal, call: PlannedCall, index: int
) -> dict[str, Any]:
    error = None
    if call.outcome == "denied":
        error = (
            "AccessDenied",
            f"User: {who.arn} is not authorized to perform: {call.action} on resource: "
            f"{call.resource or '*'} because no identity-based policy allows the action",
        )
    return record(
        who,
        call.when,
        call.action,
        resource=call.resource,
        request_parameters=_parameters(call.action, call.resource),
        error=error,
        source_ip=spec.source_ip,
        user_agent=spec.user_agent,
        request_id=seeded_request_id(spec, index, call.number),
        event_id=_uuid("evt", spec.seed, index, call.number),
    )


def seeded_request_id(spec: ActivitySpec, index: int, number: int) -> str:
    """The request id of the ``number``th seeded call of entry ``index`` (the lab's story
    trace carries the same, as an agent's SDK would have seen it)."""
    return _uuid("req", spec.seed, index, number)


def _parameters(action: str, resource: str) -> dict[str, Any] | None:
    """Plausible ``requestParameters`` for the seeded actions the stories use."""
    tail = resource.split(":", 5)[-1] if resource else ""
    if action == "kms:Decrypt":
        return {"keyId": resource, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    if action.startswith("glue:") and tail.startswith("table/"):
        _, database, table = ([*tail.split("/"), "", ""])[:3]
        return {"databaseName": database, "name": table}
    if action == "athena:StartQueryExecution":
        return {"workGroup": tail.removeprefix("workgroup/")}
    if action.startswith("athena:GetQuery"):
        return {"queryExecutionId": _uuid(resource)}
    return None


# -- live calls -------------------------------------------------------------------------

_ERROR = re.compile(r"<Code>([^<]*)</Code>\s*<Message>([^<]*)</Message>")


class Recorder:
    """Turns each call the lab answers into a record; remembers each session's source
    identity (moto does not), which role chaining carries on as AWS does."""

    def __init__(self, trail: Trail) -> None:
        self.trail = trail
        self._sources: dict[str, str] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget the sessions' source identities (the lab was reset)."""
        with self._lock:
            self._sources.clear()

    def export(self) -> dict[str, str]:
        """The sessions' source identities, by temporary key id."""
        with self._lock:
            return dict(self._sources)

    def restore(self, saved: dict[str, str]) -> None:
        """Hold exactly the source identities of :meth:`export`."""
        with self._lock:
            self._sources = dict(saved)

    def principal(self, caller: Any) -> Principal:
        """A ``userIdentity`` source for the lab gate's caller."""
        if caller.role is None:
            return Principal(
                caller.account,
                caller.arn,
                caller.user_id,
                caller.key_id,
                user_name=caller.arn.rsplit("/", 1)[-1],
            )
        with self._lock:
            source = self._sources.get(caller.key_id)
        return Principal(
            caller.account,
            caller.arn,
            caller.user_id,
            caller.key_id,
            role_arn=caller.role.arn,
            role_id=caller.role.id,
            issued=caller.issued,
            source_identity=source,
        )

    def call(
        self,
        caller: Any,
        service: str,
        action: str,
        resource: str,
        parameters: dict[str, str],
        response: LabResponse,
        when: datetime,
    ) -> None:
        """Record one answered call (refused ones with their error code)."""
        who = self.principal(caller)
        error = None
        if response.status >= 400:
            found = _ERROR.search(response.body.decode("utf-8", "replace"))
            code, message = found.groups() if found else (f"HTTP{response.status}", "")
            error = (code, message)
        elements = None
        if service == "sts" and action == "AssumeRole" and error is None:
            elements = assume_role_elements(response.body)
            if elements is not None:
                source = parameters.get("SourceIdentity") or who.source_identity
                if source:
                    elements["sourceIdentity"] = source
                    with self._lock:
                        self._sources[elements["credentials"]["accessKeyId"]] = source
        request_id = _header(response, "x-amzn-RequestId") or _header(response, "x-amz-request-id")
        data = record(
            who,
            when,
            f"{service}:{action}",
            resource=resource if resource not in ("", "*") else "",
            request_parameters={_camel(k): v for k, v in parameters.items()} or None,
            response_elements=elements,
            error=error,
            request_id=request_id,
        )
        recipient = resource.split(":")[4] if action == "AssumeRole" and resource else ""
        if recipient and recipient != who.account:
            data["recipientAccountId"] = recipient
        self.trail.add(data, _other_accounts(data))


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _header(response: LabResponse, name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in response.headers if k.lower() == wanted), None)
