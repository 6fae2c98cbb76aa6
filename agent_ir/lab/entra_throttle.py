"""Graph's throttling in the emulator: resource-unit budgets, their headers, and how Entra
answers injected faults.

Identity and access requests cost resource units (RU): a GET on ``applications``,
``oauth2PermissionGrants``, ``…/appRoleAssignments`` or ``users`` costs 2, any other GET 1,
a write 1 (and one write); ``$select`` takes one off, ``$expand`` adds one, ``$top`` under 20
takes one off, never below 1. Each calling app has a budget per tenant: 3,500 / 5,000 /
8,000 RU per 10 s for tenants under 50 / up to 500 / over 500 users, and 3,000 writes per
150 s. Every answer carries ``x-ms-resource-unit``; past 80 % of the budget also
``x-ms-throttle-limit-percentage``; a refusal is 429 with ``Retry-After`` and the
``x-ms-throttle-scope`` / ``x-ms-throttle-information`` headers.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from dataclasses import dataclass, field

from agent_ir.lab.entra_odata import graph_error
from agent_ir.lab.faults import FaultSpec
from agent_ir.lab.server import FaultShapes, LabRequest, LabResponse

_TWO_RU = (
    "applications",
    "oauth2PermissionGrants",
    "appRoleAssignments",
    "appRoleAssignedTo",
    "users",
)


def read_budget(users: int) -> int:
    """The read RU budget per 10 s for a tenant of ``users`` users."""
    if users < 50:
        return 3500
    return 5000 if users <= 500 else 8000


def request_cost(method: str, path: str, select: bool, expand: bool, small_top: bool) -> int:
    """The RU cost of one Graph request (see the module docstring)."""
    if method != "GET":
        return 1
    last = [p for p in path.split("/") if p and not p.startswith("microsoft.graph")]
    leaf = last[-1] if last else ""
    cost = 2 if leaf in _TWO_RU or (len(last) == 1 and last[0].split("(")[0] in _TWO_RU) else 1
    cost += (1 if expand else 0) - (1 if select else 0) - (1 if small_top else 0)
    return max(1, cost)


@dataclass
class _Bucket:
    capacity: float
    per_second: float
    level: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.level = self.capacity

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.level = min(self.capacity, self.level + (now - self.stamp) * self.per_second)
            self.stamp = now

    def wait_for(self, amount: float) -> float:
        return max(0.0, (amount - self.level) / self.per_second)


@dataclass(frozen=True, slots=True)
class Charge:
    """What one request cost, and whether the budget allowed it."""

    cost: int
    allowed: bool
    retry_after_s: int = 0
    used_fraction: float = 0.0
    scope: str = ""
    reason: str = ""

    def headers(self) -> list[tuple[str, str]]:
        """The throttling headers of the answer."""
        out = [("x-ms-resource-unit", str(self.cost))]
        if self.used_fraction >= 0.8:
            out.append(("x-ms-throttle-limit-percentage", f"{min(self.used_fraction, 1.8):.1f}"))
        if not self.allowed:
            out += [
                ("Retry-After", str(self.retry_after_s)),
                ("x-ms-throttle-scope", self.scope),
                ("x-ms-throttle-information", self.reason),
            ]
        return out


class Budgets:
    """Per calling app: a read RU bucket (10 s window) and a write bucket (150 s window)."""

    def __init__(self, enabled: bool, read_per_10s: int, writes_per_150s: int) -> None:
        self.enabled = enabled
        self.read_per_10s = read_per_10s
        self.writes_per_150s = writes_per_150s
        self._reads: dict[str, _Bucket] = {}
        self._writes: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def charge(self, app_id: str, tenant_id: str, cost: int, write: bool) -> Charge:
        """Take ``cost`` RU (and one write) from ``app_id``'s budget, or say how long to wait."""
        if not self.enabled:
            return Charge(cost, True)
        now = time.monotonic()
        with self._lock:
            reads = self._reads.setdefault(
                app_id, _Bucket(self.read_per_10s, self.read_per_10s / 10)
            )
            reads.refill(now)
            writes = self._writes.setdefault(
                app_id, _Bucket(self.writes_per_150s, self.writes_per_150s / 150)
            )
            writes.refill(now)
            kind = "Write" if write else "Read"
            scope = f"Tenant_Application/{kind}/{app_id}/{tenant_id}"
            if write and writes.level < 1:
                wait = writes.wait_for(1)
                return Charge(cost, False, math.ceil(wait), 1.0, scope, "WriteLimitExceeded")
            if reads.level < cost:
                wait = reads.wait_for(cost)
                used = 1 - reads.level / reads.capacity
                return Charge(
                    cost, False, max(1, math.ceil(wait)), used, scope, "ResourceUnitLimitExceeded"
                )
            reads.level -= cost
            if write:
                writes.level -= 1
            return Charge(cost, True, used_fraction=1 - reads.level / reads.capacity)


def caller_app_id(request: LabRequest) -> str:
    """The ``appid`` claim of the request's bearer token, unverified (for headers only)."""
    authorization = request.header("Authorization") or ""
    parts = authorization[7:].split(".") if authorization.lower().startswith("bearer ") else []
    if len(parts) != 3:
        return "unknown"
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return "unknown"
    return str(payload.get("appid", "unknown")) if isinstance(payload, dict) else "unknown"


def throttled(charge: Charge) -> LabResponse:
    """Graph's 429 for an exhausted budget."""
    response = graph_error(429, "TooManyRequests", "Too many requests", charge.headers())
    return response


def _is_token_path(request: LabRequest) -> bool:
    return "/oauth2/" in request.path or "/.well-known/" in request.path


def _fault_error(request: LabRequest) -> LabResponse:
    if _is_token_path(request):
        return LabResponse.from_json(
            503,
            {
                "error": "temporarily_unavailable",
                "error_description": "AADSTS90033: A transient error has occurred. Please try again.",
                "error_codes": [90033],
            },
        )
    return graph_error(
        503,
        "serviceNotAvailable",
        "The service is temporarily unavailable. Please try again later.",
    )


def _fault_throttle(request: LabRequest, spec: FaultSpec) -> LabResponse:
    retry = str(max(0, round(spec.retry_after_s)))
    if _is_token_path(request):
        return LabResponse.from_json(
            429,
            {
                "error": "temporarily_unavailable",
                "error_description": "AADSTS50196: The server terminated an operation because it "
                "encountered a client request loop. Please contact your app vendor.",
                "error_codes": [50196],
            },
            [("Retry-After", retry)],
        )
    app = caller_app_id(request)
    kind = "Read" if request.method == "GET" else "Write"
    return graph_error(
        429,
        "TooManyRequests",
        "Too many requests",
        [
            ("Retry-After", retry),
            ("x-ms-resource-unit", "1"),
            ("x-ms-throttle-scope", f"Tenant_Application/{kind}/{app}/lab"),
            ("x-ms-throttle-information", "ResourceUnitLimitExceeded"),
        ],
    )


ENTRA_SHAPES = FaultShapes(error=_fault_error, throttle=_fault_throttle)
"""How Graph and the token endpoint answer injected faults."""
