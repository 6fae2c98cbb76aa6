"""The toy provider's boundary: httpx errors and HTTP statuses into agent_ir.errors,
keeping the cause, so nothing above the adapter sees an httpx exception."""

from __future__ import annotations

from typing import Any

import httpx

from agent_ir.errors import (
    AuthenticationError,
    BadResponse,
    ObjectMissing,
    PermissionDenied,
    ProviderError,
    ProviderUnavailable,
    Throttled,
)

PROVIDER = "toy"


def transport(exc: httpx.HTTPError, what: str) -> ProviderError:
    """A request that got no answer: unreachable, reset, timed out."""
    error = ProviderUnavailable(PROVIDER, f"no answer while {what}: {type(exc).__name__}")
    error.__cause__ = exc
    return error


def status(reply: httpx.Response, what: str) -> ProviderError | None:
    """The error an answer means, or None for a success."""
    code = reply.status_code
    if code < 400:
        return None
    message = f"{what}: HTTP {code}"
    if code == 401:
        return AuthenticationError(PROVIDER, f"the API key was refused while {what}")
    if code == 403:
        return PermissionDenied(PROVIDER, f"not allowed while {what}")
    if code == 404:
        return ObjectMissing(PROVIDER, message)
    if code == 429:
        return Throttled(PROVIDER, message, retry_after=retry_after(reply), detail="429")
    if code >= 500:
        return ProviderUnavailable(PROVIDER, message, detail=str(code))
    return BadResponse(PROVIDER, message, detail=str(code))


def retry_after(reply: httpx.Response) -> float | None:
    """The wait a 429 asked for, in seconds."""
    value = reply.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def body(reply: httpx.Response, what: str) -> Any:
    """The JSON of a successful answer; anything else is a BadResponse keeping the cause."""
    try:
        return reply.json()
    except ValueError as exc:
        raise BadResponse(PROVIDER, f"unreadable answer while {what}") from exc
