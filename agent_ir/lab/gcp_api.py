"""Request plumbing of the Google Cloud emulator: routing, Google's error bodies, bearer
authentication, permission checks, per-minute quotas and page tokens.

One HTTPS port serves every emulated service; their paths do not collide::

    POST /token                                              oauth2 (JWT-bearer grant)
    POST /v1/token                                           sts v1 (token exchange, AWS)
    GET  /v1/projects/P/serviceAccounts[/SA[/keys[/K]]]      iam v1
    POST /v1/projects/P/serviceAccounts/SA:VERB              disable, enable, getIamPolicy,
                                                             setIamPolicy, testIamPermissions
    POST /v1/projects/P/serviceAccounts/SA/keys/K:VERB       disable, enable; DELETE …/keys/K
    GET  /v1/projects/P/locations/global/workloadIdentityPools[/POOL/providers]
    POST /v1/projects/-/serviceAccounts/SA:generateAccessToken   iamcredentials v1
    GET  /v3/projects/P;  POST /v3/projects/P:VERB           cloudresourcemanager v3 (v1 too)
    GET  /v1/projects/P/locations/global/activityTypes/serviceAccountKeyLastAuthentication/activities:query
                                                             policyanalyzer v1
    POST /v2/entries:list                                    logging v2 (Cloud Audit Logs,
                                                             :mod:`agent_ir.lab.gcp_logging`)
    GET  /v1/projects/P:searchAllIamPolicies (organizations/0 too)  cloudasset v1
                                                             (:mod:`agent_ir.lab.gcp_asset`)
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.gcp_auth import KeyVault, bearer_caller, token_endpoint
from agent_ir.lab.gcp_aws_verify import AwsLink
from agent_ir.lab.gcp_call import Call as Call
from agent_ir.lab.gcp_call import Handler as Handler
from agent_ir.lab.gcp_call import page as page
from agent_ir.lab.gcp_errors import STATUS_BY_CODE as STATUS_BY_CODE
from agent_ir.lab.gcp_errors import ApiError as ApiError
from agent_ir.lab.gcp_errors import denied as denied
from agent_ir.lab.gcp_errors import not_found as not_found
from agent_ir.lab.gcp_state import GcpState
from agent_ir.lab.gcp_world import QuotaSpec
from agent_ir.lab.server import LabRequest, LabResponse

_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_READ_VERBS = {"getIamPolicy", "testIamPermissions", "query"}
LOGGING_LIST_PATH = "/v2/entries:list"
"""Cloud Logging v2 (``logging.googleapis.com``): reading the audit log."""
OAUTH_PATHS = ("/token", "/v1/token")
"""The OAuth endpoints (their errors are OAuth's ``{"error", "error_description"}``)."""


def google_error(error: ApiError, domain: str = "googleapis.com") -> LabResponse:
    """``{"error": {"code", "message", "status", "details"}}`` as Google sends it."""
    details: list[dict[str, Any]] = []
    if error.reason:
        details.append(
            {
                "@type": _ERROR_INFO,
                "reason": error.reason,
                "domain": domain,
                "metadata": error.metadata,
            }
        )
    headers: list[tuple[str, str]] = []
    if error.retry_after_s is not None:
        details.append({"@type": _RETRY_INFO, "retryDelay": f"{error.retry_after_s:g}s"})
        headers.append(("Retry-After", str(max(0, round(error.retry_after_s)))))
    body = {
        "code": error.code,
        "message": error.message,
        "status": error.status,
        "details": details,
    }
    return LabResponse.from_json(error.code, {"error": body}, headers)


def fault_error(request: LabRequest) -> LabResponse:
    """An injected server fault: 503 UNAVAILABLE (OAuth's shape on the token endpoint)."""
    if request.path in OAUTH_PATHS:
        return LabResponse.from_json(
            503, {"error": "temporarily_unavailable", "error_description": "Try again later."}
        )
    return google_error(
        ApiError(503, "The service is currently unavailable.", reason="UNAVAILABLE")
    )


def fault_throttle(request: LabRequest, spec: FaultSpec) -> LabResponse:
    """An injected throttle: 429 RESOURCE_EXHAUSTED with a RetryInfo detail."""
    if request.path in OAUTH_PATHS:
        return LabResponse.from_json(
            429,
            {"error": "rate_limit_exceeded", "error_description": "Rate limit exceeded."},
            [("Retry-After", str(max(0, round(spec.retry_after_s))))],
        )
    return google_error(
        ApiError(
            429,
            "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute'.",
            reason="RATE_LIMIT_EXCEEDED",
            retry_after_s=spec.retry_after_s,
        )
    )


@dataclass(slots=True)
class _Window:
    stamps: collections.deque[float] = field(default_factory=collections.deque)


class GcpApi:
    """The emulator app: authenticates, applies quotas, routes to handlers."""

    def __init__(self, state: GcpState, vault: KeyVault, quota: QuotaSpec | None) -> None:
        self.state = state
        self.vault = vault
        self.quota = quota
        self.lock = threading.RLock()
        self.on_set_iam_policy: Callable[[str], None] | None = None
        """Test hook: runs (outside the lock) when a setIamPolicy arrives, before its etag
        is checked, with the resource name; a concurrent writer can be simulated here."""
        self.aws: AwsLink | None = None
        """The lab's AWS endpoint, for the token exchange (set when the lab runs AWS too)."""
        self.calls: collections.deque[tuple[str, str, int]] = collections.deque(maxlen=20_000)
        self._windows: dict[tuple[str, str], _Window] = {}

    def __call__(self, request: LabRequest) -> LabResponse:
        response = self._answer(request)
        self.calls.append((request.method, unquote(request.path), response.status))
        return response

    def _answer(self, request: LabRequest) -> LabResponse:
        if request.path == "/token":
            with self.lock:
                return token_endpoint(self.state, self.vault, request)
        if request.path == "/v1/token":
            from agent_ir.lab.gcp_sts import token_exchange

            return token_exchange(self, request)
        path = unquote(request.path)
        if path == LOGGING_LIST_PATH:
            return self._entries_list(request)
        segments = path.strip("/").split("/")
        verb = ""
        if ":" in segments[-1]:
            segments[-1], _, verb = segments[-1].partition(":")
        from agent_ir.lab.gcp_routes import route

        handler = route(request.method, segments, verb)
        if handler is None:
            return google_error(
                ApiError(404, f"The requested URL {path} was not found.", status="NOT_FOUND")
            )
        if verb == "setIamPolicy" and self.on_set_iam_policy is not None:
            self.on_set_iam_policy("/".join(segments[1:]))
        with self.lock:
            caller, why = bearer_caller(self.state, self.vault, request)
            if caller is None:
                return google_error(
                    ApiError(
                        401,
                        "Request had invalid authentication credentials. Expected OAuth 2 access "
                        f"token, login cookie or other valid authentication credential ({why}).",
                        reason="ACCESS_TOKEN_TYPE_UNSUPPORTED"
                        if why == "missing credentials"
                        else "ACCESS_TOKEN_EXPIRED",
                    )
                )
            call = Call(request, self.state, caller, self, segments, verb)
            try:
                self._charge(caller, request.method == "GET" or verb in _READ_VERBS)
                payload = handler(call)
            except ApiError as error:
                self._audit(call, handler, error)
                return google_error(error)
            self._audit(call, handler, None)
        return LabResponse.from_json(200, payload)

    def _audit(self, call: Call, handler: Handler, error: ApiError | None) -> None:
        """Log the call in Cloud Audit Logs unless the lab's responder made it (a quota
        refusal never reached the service, so it is not logged)."""
        if call.caller == self.state.responder_email or (error and error.code == 429):
            return
        from agent_ir.lab import gcp_logging

        service, method = gcp_logging.method_of(handler, call.segments)
        resource = "/".join(call.segments[1:])
        account = self.state.account(call.segments[4]) if len(call.segments) > 4 else None
        project_ref = account.project if account is not None else call.segments[2]
        project = self.state.project(project_ref) if len(call.segments) > 2 else None
        entry = gcp_logging.audit_entry(
            project=project.id if project is not None else self.state.world.projects[0].id,
            caller=call.caller,
            delegation=self.state.delegation_of(call.request.header("Authorization") or ""),
            service=service,
            method=method,
            resource=resource,
            when=datetime.now(UTC),
            status=gcp_logging.rpc_status(error.code, error.message) if error else None,
            ip=gcp_logging.caller_ip(call.request),
            user_agent=call.request.header("User-Agent") or "",
            write=gcp_logging.is_write(method),
        )
        gcp_logging.record(self.state, entry)

    def _entries_list(self, request: LabRequest) -> LabResponse:
        """Cloud Logging v2 ``entries:list`` (never itself logged: reading the log is the
        responder's work, and a data-access entry per page would bury the agent's)."""
        from agent_ir.lab import gcp_logging

        if request.method != "POST":
            return google_error(ApiError(405, "entries:list takes POST."))
        with self.lock:
            caller, why = bearer_caller(self.state, self.vault, request)
            if caller is None:
                return google_error(
                    ApiError(
                        401,
                        f"Request had invalid authentication credentials ({why}).",
                        reason="ACCESS_TOKEN_EXPIRED",
                    )
                )
            try:
                body = request.json() if request.body.strip() else {}
                if not isinstance(body, dict):
                    raise ApiError(400, "Invalid JSON payload received: expected an object.")
                self._charge(caller, True)
                payload = gcp_logging.entries_list(self.state, caller, body)
            except ValueError:
                return google_error(ApiError(400, "Invalid JSON payload received."))
            except ApiError as error:
                return google_error(error, "logging.googleapis.com")
        return LabResponse.from_json(200, payload)

    def _charge(self, caller: str, read: bool) -> None:
        """Count the request against the caller's project's per-minute quota."""
        if self.quota is None:
            return
        limit = self.quota.reads_per_minute if read else self.quota.writes_per_minute
        if limit is None:
            return
        account = self.state.accounts.get(caller)
        project = account.project if account is not None else "-"
        window = self._windows.setdefault((project, "read" if read else "write"), _Window())
        now = time.monotonic()
        while window.stamps and window.stamps[0] <= now - 60:
            window.stamps.popleft()
        if len(window.stamps) >= limit:
            kind = "Read" if read else "Write"
            raise ApiError(
                429,
                f"Quota exceeded for quota metric '{kind} requests' and limit "
                f"'{kind} requests per minute' of service 'iam.googleapis.com' for consumer "
                f"'project_number:{account.number if account else '0'}'.",
                reason="RATE_LIMIT_EXCEEDED",
                retry_after_s=max(0.1, window.stamps[0] + 60 - now),
            )
        window.stamps.append(now)
