"""Google API error answers raised by the GCP emulator's handlers (rendered by
:mod:`agent_ir.lab.gcp_api`); kept apart so that handler modules need not import the
dispatcher."""

from __future__ import annotations

STATUS_BY_CODE = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """A Google API error answer (raised by handlers, rendered by the dispatcher)."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        status: str | None = None,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_BY_CODE.get(code, "UNKNOWN")
        self.reason = reason
        self.metadata = metadata or {}
        self.retry_after_s = retry_after_s


def denied(permission: str, resource: str) -> ApiError:
    """IAM's permission-denied answer."""
    return ApiError(
        403,
        f"Permission '{permission}' denied on resource '{resource}' (or it may not exist).",
        reason="IAM_PERMISSION_DENIED",
        metadata={"permission": permission, "resource": resource},
    )


def not_found(what: str) -> ApiError:
    """A plain 404."""
    return ApiError(404, f"{what} not found.", reason="NOT_FOUND")
