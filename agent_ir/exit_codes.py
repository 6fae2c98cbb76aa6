"""Exit codes of the ``agent-ir`` command, derived from the error tree.

| code | name        | meaning                                                              |
|------|-------------|----------------------------------------------------------------------|
| 0    | OK          | success; for a run: every step verified, already so, or skipped      |
| 1    | INTERNAL    | a defect in agent-ir (please report it with ``--debug`` output)      |
| 2    | USAGE       | bad command-line use                                                 |
| 3    | BAD_INPUT   | invalid configuration, world or playbook file (each problem located) |
| 4    | NOT_FOUND   | unknown agent, incident or playbook                                  |
| 5    | PROVIDER    | no provider could answer (unreachable, bad credentials, denied); or a sink did not take its events |
| 6    | PARTIAL     | some providers answered and some did not; or a run left steps unverified |
|      |             | (a run with any provider unavailable is never OK)                    |
| 7    | FAILED      | a run had failed steps                                               |
| 8    | REFUSED     | a safety rule refused: confirmation, blast radius, read-only, busy   |
| 9    | JOURNAL     | a journal failed verification or cannot be read                     |
| 10   | LAB         | the lab could not start                                              |
| 130  | INTERRUPTED | interrupted (Ctrl-C)                                                 |
"""

from __future__ import annotations

from enum import IntEnum

from agent_ir import errors


class ExitCode(IntEnum):
    """Process exit codes; the table is in this module's docstring and in README."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    BAD_INPUT = 3
    NOT_FOUND = 4
    PROVIDER = 5
    PARTIAL = 6
    FAILED = 7
    REFUSED = 8
    JOURNAL = 9
    LAB = 10
    INTERRUPTED = 130


_BY_TYPE: tuple[tuple[type[errors.AgentIRError], ExitCode], ...] = (
    (errors.UsageError, ExitCode.USAGE),
    (errors.InputError, ExitCode.BAD_INPUT),
    (errors.NotFoundError, ExitCode.NOT_FOUND),
    (errors.LabError, ExitCode.LAB),
    (errors.ProviderError, ExitCode.PROVIDER),
    (errors.RefusedError, ExitCode.REFUSED),
    (errors.JournalError, ExitCode.JOURNAL),
    (errors.DeliveryError, ExitCode.PROVIDER),
)


def for_error(error: BaseException) -> ExitCode:
    """Return the exit code for an error, by its place in the error tree."""
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    for kind, code in _BY_TYPE:
        if isinstance(error, kind):
            return code
    return ExitCode.INTERNAL
