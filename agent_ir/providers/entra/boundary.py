"""The one place httpx, requests and MSAL failures become agent-ir errors.

Graph answers errors as ``{"error": {"code", "message", "innerError"}}``; the token
endpoint (through MSAL) as a dict with ``error`` and ``error_description`` (AADSTS…).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import requests
from msal.exceptions import MsalError, MsalServiceError  # type: ignore[import-untyped]

from agent_ir import boundedjson, errors

PROVIDER = "entra"
_TRANSIENT_TOKEN_ERRORS = {"temporarily_unavailable", "server_error", "throttled"}


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds a ``Retry-After`` header asks for (None when absent or unreadable)."""
    value = headers.get("Retry-After") or headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def graph_error_parts(text: str) -> tuple[str, str]:
    """The Graph error ``code`` and ``message`` of a response body (best effort)."""
    try:
        data = boundedjson.loads(text)
    except ValueError:
        return "Unknown", text[:200] or "no body"
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or "Unknown"), str(error.get("message") or "")
    return "Unknown", text[:200]


def graph_failure(
    status: int, text: str, headers: Mapping[str, str], what: str
) -> errors.ProviderError:
    """Map one failed Graph response to the error tree."""
    code, message = graph_error_parts(text)
    message = errors.brief(message, 200)
    detail = f"{code}: {message}".strip()
    wait = retry_after(headers)
    if status == 401:
        return errors.AuthenticationError(
            PROVIDER, f"Graph refused the token while {what} ({detail})", detail=code
        )
    if status == 403:
        return errors.PermissionDenied(PROVIDER, f"not allowed to {what} ({detail})", detail=code)
    if status == 404:
        return errors.ObjectMissing(PROVIDER, f"{what}: not found ({detail})", detail=code)
    if status in (409, 412):
        return errors.Conflict(PROVIDER, f"{what}: {detail}", detail=code)
    if status == 429:
        return errors.Throttled(
            PROVIDER,
            f"still throttled after retries while {what} ({detail})",
            detail=code,
            retry_after=wait,
        )
    if status >= 500:
        return errors.ProviderUnavailable(
            PROVIDER,
            f"Graph failed while {what} (HTTP {status}, {detail})",
            detail=code,
            retry_after=wait,
        )
    return errors.ProviderError(PROVIDER, f"{what}: HTTP {status} {detail}", detail=code)


@contextmanager
def http_errors(what: str) -> Iterator[None]:
    """Run an httpx call, re-raising transport and decoding failures as agent-ir errors."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise errors.ProviderUnavailable(
            PROVIDER, f"timed out while {what}: {type(exc).__name__}"
        ) from exc
    except httpx.TransportError as exc:
        raise errors.ProviderUnavailable(
            PROVIDER, f"cannot reach Graph while {what}: {exc or type(exc).__name__}"
        ) from exc
    except httpx.HTTPError as exc:
        raise errors.ProviderError(PROVIDER, f"{what}: {errors.brief(exc)}") from exc
    except RecursionError as exc:
        raise errors.BadResponse(
            PROVIDER, f"unreadable reply while {what}: nested too deeply"
        ) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.BadResponse(PROVIDER, f"unexpected reply while {what}: {exc!r}") from exc


def token_failure(result: Mapping[str, Any], what: str) -> errors.ProviderError:
    """Map MSAL's error dict (the token endpoint's answer) to the error tree."""
    error = str(result.get("error") or "unknown_error")
    description = str(result.get("error_description") or "").split(" Trace ID:")[0]
    text = f"{error}: {description}".strip(": ")
    if error in _TRANSIENT_TOKEN_ERRORS:
        return errors.ProviderUnavailable(
            PROVIDER, f"the token endpoint failed while {what} ({text})", detail=error
        )
    return errors.AuthenticationError(
        PROVIDER, f"the token endpoint refused the responder while {what} ({text})", detail=error
    )


def msal_failure(exc: MsalError, what: str) -> errors.ProviderError:
    """Map any exception of MSAL's own family: a service error by its HTTP status (5xx is
    an outage, not refused credentials), anything else as a configuration refusal."""
    status = getattr(exc, "status_code", None) or getattr(
        getattr(exc, "response", None), "status_code", None
    )
    code = str(getattr(exc, "error", "") or type(exc).__name__)
    text = errors.brief(getattr(exc, "error_description", None) or exc)
    if isinstance(status, int) and (status >= 500 or status == 429):
        return errors.ProviderUnavailable(
            PROVIDER, f"the token endpoint failed while {what} (HTTP {status}, {text})", detail=code
        )
    return errors.AuthenticationError(
        PROVIDER, f"the token endpoint refused the responder while {what} ({text})", detail=code
    )


@contextmanager
def msal_errors(what: str) -> Iterator[None]:
    """Run MSAL (requests underneath), re-raising its failures as agent-ir errors."""
    try:
        yield
    except requests.exceptions.Timeout as exc:
        raise errors.ProviderUnavailable(
            PROVIDER, f"the token endpoint timed out while {what}: {exc}"
        ) from exc
    except MsalServiceError as exc:
        # MSAL raises this when the authority's metadata (OpenID configuration) answers an
        # HTTP error: the identity platform is not answering, the credentials are not at fault.
        raise errors.ProviderUnavailable(
            PROVIDER, f"the identity platform failed while {what}: {str(exc)[:200]}"
        ) from exc
    except requests.exceptions.RequestException as exc:
        raise errors.ProviderUnavailable(
            PROVIDER, f"cannot reach the token endpoint while {what}: {type(exc).__name__}"
        ) from exc
    except MsalError as exc:
        raise msal_failure(exc, what) from exc
    except RecursionError as exc:
        raise errors.BadResponse(
            PROVIDER, f"unreadable token endpoint reply while {what}: nested too deeply"
        ) from exc
    except json.JSONDecodeError as exc:
        raise errors.BadResponse(
            PROVIDER, f"unreadable token endpoint reply while {what}: {errors.brief(exc)}"
        ) from exc
    except ValueError as exc:
        raise errors.AuthenticationError(
            PROVIDER, f"MSAL refused the configuration while {what}: {exc}"
        ) from exc
    except OSError as exc:
        raise errors.AuthenticationError(
            PROVIDER, f"cannot read a credential file while {what}: {exc}"
        ) from exc
