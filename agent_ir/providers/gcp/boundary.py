"""The one place httpx, google-auth and Google API errors become agent-ir errors.

Google answers ``{"error": {"code", "message", "status", "details"}}``; the HTTP status and
the canonical ``status`` pick the error class, a ``google.rpc.RetryInfo`` detail or a
``Retry-After`` header the wait before a retry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from google.auth import exceptions as gx

from agent_ir import errors

_DELAY = re.compile(r"^(\d+(?:\.\d+)?)s$")
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class GcpThrottled(errors.Throttled):
    """Still throttled after retries; ``retry_after`` is the wait Google asked for."""

    def __init__(self, message: str, *, detail: str | None, retry_after: float | None) -> None:
        super().__init__("gcp", message, detail=detail)
        self.retry_after = retry_after


class GcpUnavailable(errors.ProviderUnavailable):
    """Google kept failing (5xx) or could not be reached; ``retry_after`` when it said."""

    def __init__(
        self, message: str, *, detail: str | None, retry_after: float | None = None
    ) -> None:
        super().__init__("gcp", message, detail=detail)
        self.retry_after = retry_after


def retry_after(response: httpx.Response) -> float | None:
    """The wait a throttled or failing reply asks for (RetryInfo, else Retry-After)."""
    for detail in _details(_error_body(response)):
        if str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = _DELAY.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    header = response.headers.get("Retry-After")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            return None
    return None


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def _details(error: dict[str, Any]) -> list[dict[str, Any]]:
    details = error.get("details")
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _reason(error: dict[str, Any]) -> str | None:
    for detail in _details(error):
        if str(detail.get("@type", "")).endswith("google.rpc.ErrorInfo") and detail.get("reason"):
            return str(detail["reason"])
    return None


def api_error(response: httpx.Response, what: str) -> errors.ProviderError:
    """The agent-ir error for a Google API reply that is not a success."""
    error = _error_body(response)
    code = response.status_code
    status = str(error.get("status") or "") or str(code)
    message = errors.brief(str(error.get("message") or response.reason_phrase or "no message"), 200)
    detail = _reason(error) or status
    text = f"{what}: {status}: {message}"
    if code == 401:
        return errors.AuthenticationError("gcp", f"credentials refused ({text})", detail=detail)
    if code == 403:
        return errors.PermissionDenied("gcp", f"not allowed ({text})", detail=detail)
    if code == 404:
        return errors.ObjectMissing("gcp", text, detail=detail)
    if code in (409, 412) or status == "ABORTED":
        return errors.Conflict("gcp", text, detail=detail)
    if code == 429:
        return GcpThrottled(
            f"still throttled after retries ({text})",
            detail=detail,
            retry_after=retry_after(response),
        )
    if code >= 500:
        return GcpUnavailable(
            f"service error after retries ({text})",
            detail=detail,
            retry_after=retry_after(response),
        )
    return errors.ProviderError("gcp", text, detail=detail)


@contextmanager
def gcp_errors(what: str) -> Iterator[None]:
    """Run a block of httpx / google-auth work, re-raising their errors as agent-ir errors."""
    try:
        yield
    except gx.RefreshError as exc:
        reason = _refresh_reason(exc)
        if getattr(exc, "retryable", False):
            raise GcpUnavailable(
                f"token endpoint failing while {what}: {reason}", detail="token"
            ) from exc
        raise errors.AuthenticationError(
            "gcp", f"could not get an access token while {what}: {reason}", detail="token"
        ) from exc
    except gx.DefaultCredentialsError as exc:
        raise errors.AuthenticationError(
            "gcp", f"no usable credentials while {what}: {exc}"
        ) from exc
    except gx.TransportError as exc:
        raise GcpUnavailable(
            f"cannot reach the token endpoint while {what}: {exc}", detail="transport"
        ) from exc
    except gx.GoogleAuthError as exc:
        raise errors.AuthenticationError("gcp", f"{what}: {exc}") from exc
    except httpx.TimeoutException as exc:
        raise GcpUnavailable(
            f"timed out while {what}: {type(exc).__name__}", detail="timeout"
        ) from exc
    except httpx.TransportError as exc:
        raise GcpUnavailable(
            f"connection failed while {what}: {exc!r}", detail="transport"
        ) from exc
    except RecursionError as exc:
        raise errors.BadResponse(
            "gcp", f"unreadable reply while {what}: nested too deeply"
        ) from exc
    except (KeyError, ValueError, TypeError) as exc:
        raise errors.BadResponse(
            "gcp", f"unexpected reply while {what}: {errors.brief(repr(exc))}"
        ) from exc


def _refresh_reason(exc: gx.RefreshError) -> str:
    """The token endpoint's own words (``error: description``), never the assertion."""
    args = exc.args
    if len(args) > 1 and isinstance(args[1], dict):
        data = args[1]
        return f"{data.get('error', 'error')}: {data.get('error_description', '')}".strip()
    return str(args[0]) if args else "refused"
