"""The one place botocore errors become agent-ir errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore import exceptions as bx
from botocore.parsers import ResponseParserError

from agent_ir import errors

_AUTH = {
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "AuthFailure",
}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
_THROTTLE = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
}
_CONFLICT = {"ConcurrentModification", "EntityTemporarilyUnmodifiable", "DeleteConflict"}
_MISSING = {"NoSuchEntity", "NoSuchEntityException"}


def map_client_error(exc: bx.ClientError) -> errors.ProviderError:
    """Translate one botocore ``ClientError`` by its code."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = errors.brief(str(error.get("Message", "")) or code, 200)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    text = f"{code}: {message}"
    if code in _AUTH:
        return errors.AuthenticationError("aws", f"credentials refused ({text})", detail=code)
    if code in _DENIED:
        return errors.PermissionDenied("aws", f"not allowed ({text})", detail=code)
    if code in _THROTTLE or status == 429:
        return errors.Throttled("aws", f"still throttled after retries ({text})", detail=code)
    if code in _CONFLICT:
        return errors.Conflict("aws", text, detail=code)
    if code in _MISSING:
        return errors.ObjectMissing("aws", text, detail=code)
    if status >= 500:
        return errors.ProviderUnavailable(
            "aws", f"service error after retries ({text})", detail=code
        )
    return errors.ProviderError("aws", text, detail=code)


@contextmanager
def boto_errors(what: str) -> Iterator[None]:
    """Run a block of boto3 calls, re-raising every botocore error as an agent-ir error."""
    try:
        yield
    except bx.ClientError as exc:
        raise map_client_error(exc) from exc
    except (bx.NoCredentialsError, bx.PartialCredentialsError) as exc:
        raise errors.AuthenticationError(
            "aws", f"no usable credentials while {what}: {exc}"
        ) from exc
    except bx.ProfileNotFound as exc:
        raise errors.AuthenticationError("aws", f"{exc} (while {what})") from exc
    except (bx.EndpointConnectionError, bx.ConnectionClosedError, bx.SSLError) as exc:
        raise errors.ProviderUnavailable(
            "aws", f"cannot reach the endpoint while {what}: {exc}"
        ) from exc
    except (bx.ConnectTimeoutError, bx.ReadTimeoutError) as exc:
        raise errors.ProviderUnavailable("aws", f"timed out while {what}: {exc}") from exc
    except bx.HTTPClientError as exc:
        raise errors.ProviderUnavailable("aws", f"connection failed while {what}: {exc}") from exc
    except bx.BotoCoreError as exc:
        raise errors.ProviderError("aws", f"{what}: {exc}") from exc
    except (ResponseParserError, RecursionError) as exc:
        raise errors.BadResponse(
            "aws", f"unreadable reply while {what}: {errors.brief(exc)}"
        ) from exc
    except (KeyError, ValueError, TypeError) as exc:
        raise errors.BadResponse("aws", f"unexpected reply while {what}: {exc!r}") from exc
