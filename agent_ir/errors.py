"""The one exception tree of agent-ir.

Every error a user can cause or meet is one of these; lower-level errors (botocore,
httpx, YAML, pydantic) are mapped into it at one boundary each. The CLI derives its exit
code from the type (see ``exit_codes.py``), so a new error class picks its code by where
it sits in the tree::

    AgentIRError
    ├── UsageError                   bad command-line use
    ├── InputError                   a user file is wrong; carries every located problem
    │   ├── ConfigError              the configuration file
    │   │   └── SecretInConfigError  a literal secret where only its source belongs
    │   ├── WorldError               a lab world file
    │   ├── PlaybookError            a playbook file
    │   └── TraceError               an OpenTelemetry trace file (``activity --trace``)
    ├── NotFoundError                unknown agent, incident or playbook
    ├── LabError                     the lab cannot start or is not installed
    ├── ProviderError                a provider failed; carries the provider name
    │   ├── ProviderUnavailable      cannot connect, reset, timed out, 5xx after retries
    │   ├── AuthenticationError      the responder's credentials were refused
    │   ├── PermissionDenied         authenticated, but not allowed
    │   ├── Throttled                still rate-limited after retries
    │   ├── ObjectMissing            the object a call names does not exist
    │   ├── Conflict                 concurrent change or precondition failed
    │   └── BadResponse              the provider answered something we cannot read
    ├── RefusedError                 a safety rule said no (confirmation, blast radius, read-only)
    ├── JournalError                 a journal is unreadable or fails verification
    └── DeliveryError                a sink or signal receiver did not take an event
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem in a user file."""

    file: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        location = self.file if self.line is None else f"{self.file}:{self.line}"
        place = f" {self.where}:" if self.where else ""
        return f"{location}:{place} {self.message}"


class AgentIRError(Exception):
    """Base of every error agent-ir raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(AgentIRError):
    """The command line was used wrongly."""


class InputError(AgentIRError):
    """A user file is invalid; ``problems`` lists every problem found, each located."""

    kind = "file"

    def __init__(self, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(file="", line=None, where="", message=problems)]
        self.problems = problems
        lines = [str(p).strip() for p in problems]
        count = len(problems)
        head = f"invalid {self.kind} ({count} problem{'s' if count != 1 else ''})"
        super().__init__(head + ":\n  " + "\n  ".join(lines))


class ConfigError(InputError):
    """The configuration file is invalid or missing."""

    kind = "configuration"


class SecretInConfigError(ConfigError):
    """The configuration holds a secret value; it may only name where a secret comes from."""


class WorldError(InputError):
    """A lab world file is invalid."""

    kind = "world"


class PlaybookError(InputError):
    """A playbook file is invalid."""

    kind = "playbook"


class TraceError(InputError):
    """An OpenTelemetry trace file (OTLP JSON) cannot be read."""

    kind = "trace file"


class NotFoundError(AgentIRError):
    """A named agent, incident or playbook does not exist."""


class LabError(AgentIRError):
    """The lab could not start, or its extra is not installed."""


class ProviderError(AgentIRError):
    """A provider call failed. ``provider`` names it; ``detail`` keeps the provider's own code;
    ``retry_after`` is how long the provider asked us to wait, when it said."""

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        detail: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.detail = detail
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """The provider could not be reached, reset the connection, timed out or kept failing."""


class AuthenticationError(ProviderError):
    """The provider refused the responder's credentials."""


class PermissionDenied(ProviderError):
    """The responder's identity is not allowed to make this call."""


class Throttled(ProviderError):
    """The provider kept rate-limiting after every retry."""


class ObjectMissing(ProviderError):
    """The object a call named does not exist (any more)."""


class Conflict(ProviderError):
    """A concurrent change or failed precondition (stale etag, modification in progress)."""


class BadResponse(ProviderError):
    """The provider answered with something that cannot be understood."""


class RefusedError(AgentIRError):
    """A safety rule refused the operation: no confirmation, blast radius, read-only mode."""


class JournalError(AgentIRError):
    """A journal cannot be read, or it fails verification."""


def brief(error: BaseException | str, limit: int = 160) -> str:
    """The first line of an error's text, clipped: a library's exception can carry a whole
    response body (botocore puts the XML in its parser errors), which no message should."""
    try:
        whole = str(error).strip()
    except Exception:  # noqa: BLE001 - some library errors cannot render themselves
        whole = ""
    text = whole.splitlines()[0] if whole else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


class DeliveryError(AgentIRError):
    """A sink or Shared Signals receiver did not accept what was sent; it stays queued."""


def unexpected(provider: str, exc: BaseException) -> ProviderError:
    """An exception an adapter let through unmapped, as that provider's error.

    One provider's defect must not end a run for the others (or hide that the provider
    did not answer); the type is named so the defect can be found, the cause is kept.
    """
    error = ProviderError(
        provider, f"unexpected {type(exc).__name__} in the adapter (a defect; run with --debug)"
    )
    error.__cause__ = exc
    return error
