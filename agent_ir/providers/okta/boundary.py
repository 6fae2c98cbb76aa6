"""The one place okta SDK errors become agent-ir errors.

The SDK reports most failures in the ``err`` slot of its ``(data, response, err)``
tuples, but some escape as exceptions, and these are wrapped here too:

* a refused connection, TLS failure or timeout surfaces as ``AttributeError``
  (``'NoneType' object has no attribute 'status'``): mapped to ProviderUnavailable,
  with the network error the HTTP layer saw (:func:`note_network_error`);
* data its pydantic models reject raises ``ValidationError``: BadResponse;
* a 429 without ``Date`` / ``X-Rate-Limit-Reset`` comes back as a bare ``Exception``:
  Throttled.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from agent_ir import errors

_NETWORK_ERROR: contextvars.ContextVar[BaseException | None] = contextvars.ContextVar(
    "okta_network_error", default=None
)


class OktaThrottled(errors.Throttled):
    """Still rate-limited after the SDK's retries; ``retry_after`` is the wait Okta asked for."""

    def __init__(self, message: str, *, retry_after: float | None, detail: str | None) -> None:
        super().__init__("okta", message, detail=detail)
        self.retry_after = retry_after


def note_network_error(error: BaseException | None) -> None:
    """Remember the transport error of the current task's last request (or clear it)."""
    _NETWORK_ERROR.set(error)


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds until ``X-Rate-Limit-Reset``, when the headers carry it."""
    if not headers:
        return None
    reset = headers.get("X-Rate-Limit-Reset") or headers.get("x-rate-limit-reset")
    try:
        return max(0.0, float(reset) - time.time()) + 1.0 if reset else None
    except ValueError:
        return None


def map_error(err: BaseException, what: str) -> errors.ProviderError:
    """Translate one error from the SDK's ``err`` slot, keeping it as the cause (the SDK
    hands errors back instead of raising them, so ``raise … from`` cannot say so)."""
    mapped = _mapped(err, what)
    mapped.__cause__ = err
    return mapped


def _mapped(err: BaseException, what: str) -> errors.ProviderError:
    status = getattr(err, "status", None)
    code = getattr(err, "error_code", None)
    summary = getattr(err, "error_summary", None) or getattr(err, "message", None) or str(err)
    causes = getattr(err, "error_causes", None) or []
    reasons = "; ".join(str(c.get("errorSummary", "")) for c in causes if isinstance(c, dict))
    text = f"{code}: {summary}" if code else str(summary)
    if reasons:
        text = f"{text} ({reasons})"
    text = errors.brief(text, 240)
    detail = str(code) if code else (str(status) if status else None)
    if isinstance(err, asyncio.TimeoutError | TimeoutError):
        return errors.ProviderUnavailable("okta", f"timed out while {what}")
    if status is None:
        message = str(err)
        if "429" in message:
            return OktaThrottled(
                f"rate-limited while {what}: {message}", retry_after=None, detail="429"
            )
        if "Timeout" in message:
            return errors.ProviderUnavailable("okta", f"timed out while {what}")
        return errors.ProviderUnavailable("okta", f"no answer while {what}: {message}")
    headers = getattr(err, "headers", None) or getattr(err, "response_headers", None)
    if status == 401 or code in ("invalid_client", "E0000011"):
        return errors.AuthenticationError(
            "okta", f"credentials refused while {what}: {text}", detail=detail
        )
    if status == 403:
        return errors.PermissionDenied("okta", f"not allowed to {what}: {text}", detail=detail)
    if status == 404:
        return errors.ObjectMissing("okta", f"{what}: {text}", detail=detail)
    if status == 429:
        return OktaThrottled(
            f"still rate-limited after retries while {what} ({text})",
            retry_after=retry_after(headers),
            detail=detail,
        )
    if status == 409:
        return errors.Conflict("okta", f"{what}: {text}", detail=detail)
    if status >= 500:
        return errors.ProviderUnavailable(
            "okta", f"service error while {what}: {text}", detail=detail
        )
    return errors.ProviderError("okta", f"{what} refused: {text}", detail=detail)


@contextmanager
def sdk_errors(what: str) -> Iterator[None]:
    """Run okta SDK calls, re-raising whatever escapes them as agent-ir errors."""
    import aiohttp
    from pydantic import ValidationError

    note_network_error(None)
    try:
        yield
    except AttributeError as exc:
        # The SDK swallows a transport error and then trips over the missing answer: the
        # transport error it swallowed is the cause worth keeping.
        seen = _NETWORK_ERROR.get()
        cause = f" ({type(seen).__name__}: {seen})" if seen else ""
        raise errors.ProviderUnavailable(
            "okta", f"no answer while {what}: the connection failed{cause}"
        ) from (seen or exc)
    except ValidationError as exc:
        fields = ", ".join(
            ".".join(str(part) for part in error["loc"]) or "(value)"
            for error in exc.errors(include_url=False)[:5]
        )
        raise errors.BadResponse(
            "okta", f"unexpected data while {what}: {exc.error_count()} invalid field(s): {fields}"
        ) from exc
    except TimeoutError as exc:
        raise errors.ProviderUnavailable("okta", f"timed out while {what}") from exc
    except RecursionError as exc:
        raise errors.BadResponse(
            "okta", f"unreadable reply while {what}: nested too deeply"
        ) from exc
    except aiohttp.ContentTypeError as exc:
        raise errors.BadResponse(
            "okta", f"unreadable reply while {what}: {errors.brief(exc)}"
        ) from exc
    except aiohttp.ClientError as exc:
        raise errors.ProviderUnavailable(
            "okta", f"no answer while {what}: {errors.brief(exc)}"
        ) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise errors.BadResponse("okta", f"unexpected reply while {what}: {exc!r}") from exc


def transport_error(error: BaseException, what: str) -> errors.ProviderError:
    """A network failure reported by a raw request, keeping it as the cause."""
    mapped = errors.ProviderUnavailable("okta", f"no answer while {what}: {error}")
    mapped.__cause__ = error
    return mapped


def plain(model: Any) -> Any:
    """An SDK model (or list of them) as the JSON Okta sent: aliases as keys, ``None``s
    dropped, ``additional_properties`` folded into their object, one-of wrappers opened."""
    if isinstance(model, list):
        return [plain(item) for item in model]
    dump = getattr(model, "model_dump", None)
    data = dump(by_alias=True, mode="json", exclude_none=True) if dump else model
    return _fold(data)


def _fold(node: Any) -> Any:
    if isinstance(node, list):
        return [_fold(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "actual_instance" in node and "one_of_schemas" in node:
        return _fold(node["actual_instance"])
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "additional_properties" and isinstance(value, dict):
            out.update(_fold(value))
        else:
            out[key] = _fold(value)
    return out
