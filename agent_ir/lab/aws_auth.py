"""Who signed an AWS request, and may they do it: the lab's authentication and authorisation
in front of moto (whose own is switched off).

moto's checks fall short where containment is judged: they ignore ``aws:TokenIssueTime``
(so ``AWSRevokeOlderSessions`` denies everything, fresh sessions too), match trust
principals literally and skip a role's trust policy when it lives in another account,
ignore ``Resource`` for IAM actions, and find the caller by scanning every IAM user on every
request. Here instead:

* :class:`CredentialIndex` finds the key behind a request in moto's own per-account key
  tables and the session behind a temporary key in an index kept in step with moto's
  session lists, so the work per request does not grow with the number of users;
* the signature is checked with botocore's SigV4 (as moto does);
* identity policies, permissions boundaries and trust policies are evaluated by
  :mod:`agent_ir.lab.aws_policy` with the condition keys AWS sets, ``aws:TokenIssueTime``
  being when STS issued the session;
* only the actions in :data:`EVALUATED_ACTIONS` are evaluated; any other is refused with
  ``AccessDenied`` saying it was not evaluated, never silently allowed;
* S3 is authorised but not emulated (:func:`s3_action`): a denied request gets S3's own
  ``AccessDenied``, an allowed one the answer of an account without buckets, so a probe can
  tell by behaviour whether a session still holds its data permissions.

``GetCallerIdentity`` is answered here: AWS never denies it, and moto's answer scans users.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from agent_ir.lab.aws_policy import (
    Decision,
    NotEvaluated,
    RequestContext,
    identity_decision,
    trust_decision,
)
from agent_ir.lab.server import LabRequest, LabResponse

STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
REGION = "us-east-1"

_USER_ACTIONS = frozenset(
    [
        "GetUser",
        "CreateUser",
        "DeleteUser",
        "UpdateUser",
        "TagUser",
        "UntagUser",
        "ListUserTags",
        "ListAccessKeys",
        "CreateAccessKey",
        "UpdateAccessKey",
        "DeleteAccessKey",
        "ListUserPolicies",
        "GetUserPolicy",
        "PutUserPolicy",
        "DeleteUserPolicy",
        "ListAttachedUserPolicies",
        "AttachUserPolicy",
        "DetachUserPolicy",
        "ListGroupsForUser",
        "GetLoginProfile",
        "CreateLoginProfile",
        "UpdateLoginProfile",
        "DeleteLoginProfile",
        "ListSigningCertificates",
        "ListSSHPublicKeys",
        "ListMFADevices",
        "ListServiceSpecificCredentials",
        "PutUserPermissionsBoundary",
        "DeleteUserPermissionsBoundary",
    ]
)
_ROLE_ACTIONS = frozenset(
    [
        "GetRole",
        "CreateRole",
        "DeleteRole",
        "UpdateRole",
        "UpdateRoleDescription",
        "TagRole",
        "UntagRole",
        "ListRoleTags",
        "ListRolePolicies",
        "GetRolePolicy",
        "PutRolePolicy",
        "DeleteRolePolicy",
        "ListAttachedRolePolicies",
        "AttachRolePolicy",
        "DetachRolePolicy",
        "UpdateAssumeRolePolicy",
        "PutRolePermissionsBoundary",
        "DeleteRolePermissionsBoundary",
        "ListInstanceProfilesForRole",
    ]
)
_POLICY_ACTIONS = frozenset(
    [
        "GetPolicy",
        "GetPolicyVersion",
        "ListPolicyVersions",
        "CreatePolicyVersion",
        "DeletePolicyVersion",
        "SetDefaultPolicyVersion",
        "DeletePolicy",
        "ListEntitiesForPolicy",
    ]
)
_ACCOUNT_ACTIONS = frozenset(
    [
        "ListUsers",
        "ListRoles",
        "ListPolicies",
        "ListGroups",
        "ListAccountAliases",
        "GetAccountSummary",
        "GetAccountAuthorizationDetails",
        "GetAccessKeyLastUsed",
        "CreatePolicy",
        "GetSessionToken",
        "GetAccessKeyInfo",
    ]
)
_S3_ACTIONS = frozenset(
    ["ListAllMyBuckets", "ListBucket", "GetObject", "PutObject", "DeleteObject"]
)
EVALUATED_ACTIONS: frozenset[str] = (
    _USER_ACTIONS
    | _ROLE_ACTIONS
    | _POLICY_ACTIONS
    | _ACCOUNT_ACTIONS
    | _S3_ACTIONS
    | {"AssumeRole", "GetCallerIdentity"}
)
"""The IAM, STS and S3 actions whose policies the lab evaluates (by action name)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """The principal behind one access key: an IAM user, or a role session."""

    account: str
    arn: str
    user_id: str
    key_id: str
    secret: str = field(repr=False)
    token: str | None = field(repr=False)
    active: bool
    user: Any | None = None
    role: Any | None = None
    issued: datetime | None = None
    expires: datetime | None = None

    @property
    def principals(self) -> list[str]:
        """The ARNs a trust policy may name this caller by."""
        return [self.arn] + ([self.role.arn] if self.role is not None else [])


class CredentialIndex:
    """Access key id → caller, without scanning users or sessions per request.

    User keys are found in moto's per-account ``access_keys`` tables (one dictionary lookup
    per account). Sessions are indexed as moto appends them to its session lists; each new
    session is visited once. ``visited`` counts the users and sessions ever looked at, so a
    test can show the work per request does not grow with the world.
    """

    def __init__(self, accounts: Sequence[str]) -> None:
        self.accounts = list(accounts)
        self.visited = 0
        self._sessions: dict[str, Any] = {}
        self._seen: dict[str, tuple[list[Any], int]] = {}
        self._roles = RoleIndex()

    @property
    def roles(self) -> RoleIndex:
        """The role lookup the index shares with the gate."""
        return self._roles

    def caller(self, key_id: str) -> Caller | None:
        """The principal ``key_id`` belongs to, or None if no account knows it."""
        for account in self.accounts:
            key = _iam(account).access_keys.get(key_id)
            if key is None:
                continue
            if key.user_name is not None:
                return self._user_caller(account, key)
            return self._session_caller(account, key_id)
        return None

    def _user_caller(self, account: str, key: Any) -> Caller | None:
        user = _iam(account).users.get(key.user_name)
        if user is None:
            return None
        self.visited += 1
        return Caller(
            account,
            user.arn,
            user.id,
            key.access_key_id,
            key.secret_access_key,
            None,
            key.status != "Inactive",
            user=user,
        )

    def _session_caller(self, account: str, key_id: str) -> Caller | None:
        session = self._session(account, key_id)
        if session is None:
            return None
        role = self._roles.by_arn(account, session.role_arn)
        issued = _aware(session.access_key.create_date)
        role_id = role.id if role is not None else "AROA"
        return Caller(
            account,
            session.arn,
            f"{role_id}:{session.session_name}",
            key_id,
            session.secret_access_key,
            session.session_token,
            True,
            role=role,
            issued=issued,
            expires=_aware(session.expiration),
        )

    def _session(self, account: str, key_id: str) -> Any | None:
        sessions = _sts(account).assumed_roles
        seen_list, seen_count = self._seen.get(account, ([], 0))
        if seen_list is not sessions or seen_count > len(sessions):
            self._sessions = {k: s for k, s in self._sessions.items() if s.account_id != account}
            seen_count = 0
        for session in sessions[seen_count:]:
            self.visited += 1
            self._sessions[session.access_key_id] = session
        self._seen[account] = (sessions, len(sessions))
        return self._sessions.get(key_id)


class RoleIndex:
    """Role name or ARN → moto's role, rebuilt for an account only when a lookup misses
    (moto keys roles by id and finds them by name with a scan)."""

    def __init__(self) -> None:
        self._by_name: dict[str, dict[str, Any]] = {}
        self._by_arn: dict[str, dict[str, Any]] = {}

    def by_name(self, account: str, name: str) -> Any | None:
        """The role called ``name`` in ``account``, if any."""
        return self._lookup(account, name, self._by_name)

    def by_arn(self, account: str, arn: str) -> Any | None:
        """The role with ``arn`` in ``account``, if any."""
        return self._lookup(account, arn, self._by_arn)

    def _lookup(self, account: str, key: str, table: dict[str, dict[str, Any]]) -> Any | None:
        roles = _iam(account).roles
        role = table.get(account, {}).get(key)
        if role is not None and roles.get(role.id) is role:
            return role
        self._by_name[account] = {r.name: r for r in roles.values()}
        self._by_arn[account] = {r.arn: r for r in roles.values()}
        return table[account].get(key)


class AwsGate:
    """Authenticates and authorises one request; see the module docstring."""

    def __init__(self, accounts: Sequence[str], clock: Callable[[], datetime]) -> None:
        self.index = CredentialIndex(accounts)
        self.clock = clock

    def check(
        self, request: LabRequest, key_id: str, service: str
    ) -> tuple[LabResponse | None, Caller | None]:
        """``(refusal, None)``, ``(answer, caller)`` for a call answered here, or
        ``(None, caller)`` when moto may carry the request out."""
        caller = self.index.caller(key_id)
        token = request.header("X-Amz-Security-Token")
        if caller is None or not caller.active:
            return _refusal(service, "unknown-key"), None
        if token != caller.token:
            # a temporary key without its token is a key no one knows
            return _refusal(service, "unknown-key" if token is None else "bad-token"), None
        if not _signature_matches(request, caller, service):
            return _refusal(service, "signature"), None
        now = self.clock()
        if caller.expires is not None and caller.expires <= now:
            return _refusal(service, "expired"), None
        if service == "s3":
            return self._s3(caller, request, now), caller
        if service == "cloudtrail":
            return self._json_call(caller, request, now), caller
        params = form_params(request)
        action = params.get("Action", "")
        if action == "GetCallerIdentity" and service == "sts":
            return caller_identity(caller), caller
        return self._authorise(caller, service, action, params, now), caller

    def _s3(self, caller: Caller, request: LabRequest, now: datetime) -> LabResponse:
        """Authorise an S3 request; answer as an account that holds no buckets."""
        action, resource = s3_action(request)
        context = RequestContext(
            caller.arn,
            caller.account,
            f"s3:{action}",
            resource,
            self._condition_keys(caller, {}, now),
        )
        try:
            decision = identity_decision(self._policies(caller), self._boundary(caller), context)
        except NotEvaluated:
            decision = Decision.IMPLICIT_DENY
        if decision is not Decision.ALLOW:
            return s3_error(403, "AccessDenied", "Access Denied")
        if action == "ListAllMyBuckets":
            body = (
                '<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                f"<Owner><ID>{caller.account}</ID></Owner><Buckets></Buckets>"
                "</ListAllMyBucketsResult>"
            )
            return LabResponse.from_text(200, body, "application/xml")
        return s3_error(404, "NoSuchBucket", "The specified bucket does not exist")

    def _json_call(self, caller: Caller, request: LabRequest, now: datetime) -> LabResponse | None:
        """Authorise a JSON-protocol call (CloudTrail): the action is the target's suffix."""
        target = request.header("X-Amz-Target") or ""
        action = f"cloudtrail:{target.rsplit('.', 1)[-1]}"
        context = RequestContext(
            caller.arn, caller.account, action, "*", self._condition_keys(caller, {}, now)
        )
        try:
            decision = identity_decision(self._policies(caller), self._boundary(caller), context)
        except NotEvaluated:
            decision = Decision.IMPLICIT_DENY
        if decision is Decision.ALLOW:
            return None
        message = f"User: {caller.arn} is not authorized to perform: {action} {_why(decision)}"
        body = json.dumps({"__type": "AccessDeniedException", "Message": message})
        return LabResponse.from_text(400, body, "application/x-amz-json-1.1")

    def _authorise(
        self, caller: Caller, service: str, action: str, params: Mapping[str, str], now: datetime
    ) -> LabResponse | None:
        full = f"{service}:{action}"
        if action not in EVALUATED_ACTIONS:
            return _denied(caller, full, "*", "because the lab does not evaluate this action")
        keys = self._condition_keys(caller, params, now)
        try:
            if full == "sts:AssumeRole":
                return self._assume_role(caller, params, keys)
            resource = self._resource(caller, action, params)
            context = RequestContext(caller.arn, caller.account, full, resource, keys)
            decision = identity_decision(self._policies(caller), self._boundary(caller), context)
        except NotEvaluated as exc:
            return _denied(caller, full, "*", f"because the lab does not evaluate {exc}")
        if decision is Decision.ALLOW:
            return None
        return _denied(caller, full, resource, _why(decision))

    def _assume_role(
        self, caller: Caller, params: Mapping[str, str], keys: dict[str, list[str]]
    ) -> LabResponse | None:
        role_arn = params.get("RoleArn", "")
        parts = role_arn.split(":")
        account = parts[4] if len(parts) > 5 else ""
        role = (
            self.index.roles.by_arn(account, role_arn) if account in self.index.accounts else None
        )
        identity = identity_decision(
            self._policies(caller),
            self._boundary(caller),
            RequestContext(caller.arn, caller.account, "sts:AssumeRole", role_arn, keys),
        )
        if role is None or identity is Decision.EXPLICIT_DENY:
            return _denied(caller, "sts:AssumeRole", role_arn, _why(identity), "sts")
        trust_context = RequestContext(caller.arn, caller.account, "sts:AssumeRole", role_arn, keys)
        trust = trust_decision(
            _document(role.assume_role_policy_document), caller.principals, trust_context
        )
        if "SourceIdentity" in params and trust != "deny":
            identity_trust = RequestContext(
                caller.arn, caller.account, "sts:SetSourceIdentity", role_arn, keys
            )
            if (
                trust_decision(
                    _document(role.assume_role_policy_document), caller.principals, identity_trust
                )
                == "none"
            ):
                trust = "none"
        same_account = account == caller.account
        allowed = trust == "named" and (same_account or identity is Decision.ALLOW)
        allowed = allowed or (trust == "account" and identity is Decision.ALLOW)
        if allowed:
            return None
        reason = "because the role's trust policy does not allow it"
        if trust in ("named", "account"):
            reason = _why(identity)
        return _denied(caller, "sts:AssumeRole", role_arn, reason, "sts")

    def _condition_keys(
        self, caller: Caller, params: Mapping[str, str], now: datetime
    ) -> dict[str, list[str]]:
        keys: dict[str, list[str]] = {
            "aws:CurrentTime": [_iso(now)],
            "aws:EpochTime": [str(int(now.timestamp()))],
            "aws:SecureTransport": ["true"],
            "aws:PrincipalAccount": [caller.account],
            "aws:PrincipalArn": [caller.role.arn if caller.role is not None else caller.arn],
            "aws:PrincipalType": ["AssumedRole" if caller.role is not None else "User"],
            "aws:userid": [caller.user_id],
            "aws:RequestedRegion": [REGION],
        }
        if caller.user is not None:
            keys["aws:username"] = [caller.user.name]
        if caller.issued is not None:
            keys["aws:TokenIssueTime"] = [_iso(caller.issued)]
        for tag_key, value in self._tags(caller).items():
            keys[f"aws:PrincipalTag/{tag_key}"] = [value]
        for param, key in (
            ("ExternalId", "sts:ExternalId"),
            ("SourceIdentity", "sts:SourceIdentity"),
            ("RoleSessionName", "sts:RoleSessionName"),
        ):
            if param in params:
                keys[key] = [params[param]]
        return keys

    def _tags(self, caller: Caller) -> dict[str, str]:
        if caller.role is not None:
            return {t["Key"]: t["Value"] for t in caller.role.tags or []}
        if caller.user is not None:
            tags = _iam(caller.account).tagger.list_tags_for_resource(caller.user.arn)["Tags"]
            return {t["Key"]: t["Value"] for t in tags}
        return {}

    def _policies(self, caller: Caller) -> list[Any]:
        principal = caller.role if caller.role is not None else caller.user
        if principal is None:
            return []
        documents = [_document(text) for text in principal.policies.values()]
        documents += [_managed_document(p) for p in principal.managed_policies.values()]
        if caller.user is not None:
            documents += self._group_policies(caller)
        return documents

    def _group_policies(self, caller: Caller) -> list[Any]:
        documents: list[Any] = []
        for group in _iam(caller.account).groups.values():
            if caller.user in group.users:
                documents += [_document(text) for text in group.policies.values()]
                documents += [_managed_document(p) for p in group.managed_policies.values()]
        return documents

    def _boundary(self, caller: Caller) -> Any | None:
        arn: str | None = None
        if caller.role is not None:
            arn = caller.role.permissions_boundary_arn
        elif caller.user is not None:
            boundary = getattr(caller.user, "permissions_boundary", None)
            arn = boundary.get("PermissionsBoundaryArn") if isinstance(boundary, dict) else None
        if not arn:
            return None
        policy = _iam(caller.account).managed_policies.get(arn)
        # A boundary naming a policy that is gone allows nothing.
        return _managed_document(policy) if policy is not None else {"Statement": []}

    def _resource(self, caller: Caller, action: str, params: Mapping[str, str]) -> str:
        account = caller.account
        if action in _USER_ACTIONS:
            name = params.get("UserName") or (caller.user.name if caller.user else "")
            user = _iam(account).users.get(name)
            path = params.get("Path", "/")
            return user.arn if user is not None else f"arn:aws:iam::{account}:user{path}{name}"
        if action in _ROLE_ACTIONS:
            name = params.get("RoleName", "")
            role = self.index.roles.by_name(account, name)
            path = params.get("Path", "/")
            return role.arn if role is not None else f"arn:aws:iam::{account}:role{path}{name}"
        if action in _POLICY_ACTIONS:
            return params.get("PolicyArn", "*")
        if action == "CreatePolicy":
            path = params.get("Path", "/")
            return f"arn:aws:iam::{account}:policy{path}{params.get('PolicyName', '')}"
        return "*"


def form_params(request: LabRequest) -> dict[str, str]:
    """A query-protocol request's parameters (form body, else query string), first values."""
    source = request.query
    if (request.header("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
        source = request.body.decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(source, keep_blank_values=True).items()}


def s3_action(request: LabRequest) -> tuple[str, str]:
    """The S3 action and resource ARN of a path-style request (the lab's address is an IP)."""
    bucket, _, key = request.path.lstrip("/").partition("/")
    if not bucket:
        return "ListAllMyBuckets", "*"
    if not key:
        return "ListBucket", f"arn:aws:s3:::{bucket}"
    verb = {"PUT": "PutObject", "DELETE": "DeleteObject"}.get(request.method, "GetObject")
    return verb, f"arn:aws:s3:::{bucket}/{key}"


def s3_error(status: int, code: str, message: str) -> LabResponse:
    """S3's REST error answer: ``<Error>`` with code, message and request id (S3 API
    Reference, Error responses)."""
    request_id = str(uuid.uuid4())
    body = (
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<RequestId>{request_id}</RequestId></Error>"
    )
    return LabResponse.from_text(
        status, body, "application/xml", [("x-amz-request-id", request_id)]
    )


def caller_identity(caller: Caller) -> LabResponse:
    """STS's ``GetCallerIdentity`` reply for ``caller``."""
    request_id = str(uuid.uuid4())
    body = (
        f'<GetCallerIdentityResponse xmlns="{STS_NAMESPACE}"><GetCallerIdentityResult>'
        f"<Arn>{caller.arn}</Arn><UserId>{caller.user_id}</UserId>"
        f"<Account>{caller.account}</Account></GetCallerIdentityResult>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    )
    return LabResponse.from_text(200, body, "text/xml", [("x-amzn-RequestId", request_id)])


def aws_error(status: int, code: str, message: str, service: str = "iam") -> LabResponse:
    """An AWS query-protocol (IAM/STS) XML error response."""
    request_id = str(uuid.uuid4())
    kind = "Receiver" if status >= 500 else "Sender"
    namespace = STS_NAMESPACE if service == "sts" else "https://iam.amazonaws.com/doc/2010-05-08/"
    body = (
        f'<ErrorResponse xmlns="{namespace}">'
        f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return LabResponse.from_text(status, body, "text/xml", [("x-amzn-RequestId", request_id)])


_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details."
)
_REFUSALS: dict[str, dict[str, tuple[int, str, str]]] = {
    "query": {
        "unknown-key": (
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ),
        "bad-token": (
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ),
        "signature": (403, "SignatureDoesNotMatch", _SIGNATURE_MESSAGE),
        "expired": (403, "ExpiredToken", "The security token included in the request is expired"),
    },
    "s3": {
        "unknown-key": (
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
        ),
        "bad-token": (400, "InvalidToken", "The provided token is malformed or otherwise invalid."),
        "signature": (403, "SignatureDoesNotMatch", _SIGNATURE_MESSAGE),
        "expired": (400, "ExpiredToken", "The provided token has expired."),
    },
}
"""How each service refuses a request it cannot authenticate: IAM and STS with the query
protocol's common errors, S3 with its own codes, statuses and ``<Error>`` body."""


def _refusal(service: str, why: str) -> LabResponse:
    if service == "s3":
        return s3_error(*_REFUSALS["s3"][why])
    return aws_error(*_REFUSALS["query"][why], service)


def _denied(
    caller: Caller, action: str, resource: str, reason: str, service: str | None = None
) -> LabResponse:
    """AWS's AccessDenied: ``User: … is not authorized to perform: … on resource: … <why>``."""
    message = f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource}"
    return aws_error(403, "AccessDenied", f"{message} {reason}", service or action.split(":")[0])


def _why(decision: Decision) -> str:
    if decision is Decision.EXPLICIT_DENY:
        return "with an explicit deny in an identity-based policy"
    return "because no identity-based policy allows the action"


def _signature_matches(request: LabRequest, caller: Caller, service: str) -> bool:
    """Recompute the SigV4 signature with the caller's secret, as moto does."""
    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    authorization = request.header("Authorization") or ""
    signed = _between(authorization, "SignedHeaders=", ",").split(";")
    region = _between(authorization, "Credential=", ",").split("/")[2:3] or [REGION]
    headers = {name: value for name, value in request.headers if name.lower() in signed}
    url = request.path + ("?" + request.query if request.query else "")
    aws_request = AWSRequest(method=request.method, url=url, data=request.body, headers=headers)
    aws_request.context["timestamp"] = request.header("X-Amz-Date") or ""
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    auth = signer(Credentials(caller.key_id, caller.secret, caller.token), service, region[0])
    canonical = auth.canonical_request(aws_request)
    expected = auth.signature(auth.string_to_sign(aws_request, canonical), aws_request)
    return _between(authorization, "Signature=", ",") == expected


def _between(text: str, start: str, end: str) -> str:
    return text.partition(start)[2].partition(end)[0].strip()


def _document(text: Any) -> Any:
    import json
    from urllib.parse import unquote

    if isinstance(text, dict):
        return text
    raw = str(text)
    return json.loads(raw if raw.lstrip().startswith("{") else unquote(raw))


def _managed_document(policy: Any) -> Any:
    version = next((v for v in policy.versions if v.is_default), None)
    return _document(version.document) if version is not None else {"Statement": []}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _iam(account: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account]["aws"]


def _sts(account: str) -> Any:
    from moto.sts.models import sts_backends

    return sts_backends[account]["aws"]
