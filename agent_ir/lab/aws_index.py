"""Indexed lookups for moto's IAM, so a request costs O(1) however large the world.

moto finds a role by name or ARN by walking every role, and the last use of an access key
by walking every key of every user in every account: at 10,000 agents, discovery (one
``GetAccessKeyLastUsed`` per key) spends its time in the emulator, not in agent-ir. These
replacements answer from dictionaries: moto's own ``access_keys`` table (every key by id,
per account) and a name/ARN index of roles kept beside moto's table by role id, checked
on every hit and rebuilt on a miss (a role created or renamed since).

:data:`WORK` counts the entries each lookup examined, so a test can show the work per
request does not grow with the world (a count, never a time).
"""

from __future__ import annotations

import threading
from typing import Any

_installed = False
_install_lock = threading.Lock()


class WorkCounter:
    """Lookups made and table entries examined by the indexed replacements."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.lookups = 0
        self.examined = 0

    def add(self, examined: int) -> None:
        """Count one lookup that examined ``examined`` entries."""
        with self._lock:
            self.lookups += 1
            self.examined += examined

    def reset(self) -> None:
        """Start counting afresh."""
        with self._lock:
            self.lookups = self.examined = 0


WORK = WorkCounter()


def install() -> None:
    """Put the indexed lookups in place of moto's scans (once per process)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        from moto.iam.models import IAMBackend

        IAMBackend.get_role = _get_role  # type: ignore[method-assign]
        IAMBackend.get_role_by_arn = _get_role_by_arn  # type: ignore[method-assign]
        IAMBackend.get_access_key_last_used = _get_access_key_last_used  # type: ignore[method-assign]
        _installed = True


def _role_index(backend: Any, rebuild: bool) -> dict[str, str]:
    """``{name: role id, arn: role id}`` for one backend's roles."""
    index: dict[str, str] | None = getattr(backend, "_agent_ir_role_index", None)
    if index is None or rebuild:
        index = {}
        for role_id, role in backend.roles.items():
            index[role.name] = role_id
            index[role.arn] = role_id
        backend._agent_ir_role_index = index
        WORK.add(len(backend.roles))
    return index


def _find_role(backend: Any, key: str, field: str) -> Any | None:
    """The role whose ``field`` (name or arn) is ``key``, from the index; one rebuild on a
    miss or a stale entry, since roles are created, renamed and deleted by requests."""
    for rebuild in (False, True):
        role = backend.roles.get(_role_index(backend, rebuild).get(key, ""))
        if role is not None and getattr(role, field) == key:
            WORK.add(1)
            return role
    return None


def _get_role(self: Any, role_name: str) -> Any:
    from moto.iam.exceptions import NotFoundException

    role = _find_role(self, role_name, "name")
    if role is None:
        raise NotFoundException(f"Role {role_name} not found")
    return role


def _get_role_by_arn(self: Any, arn: str) -> Any:
    from moto.iam.exceptions import NotFoundException

    role = _find_role(self, arn, "arn")
    if role is None:
        raise NotFoundException(f"Role {arn} not found")
    return role


def _get_access_key_last_used(self: Any, access_key_id: str) -> dict[str, Any]:
    """As moto's (any account's user key, never a session key), by dictionary lookup."""
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import iam_backends

    examined = 0
    for account in iam_backends.values():
        backend = account.get(self.partition)
        if backend is None:
            continue
        examined += 1
        key = backend.access_keys.get(access_key_id)
        if key is not None and key.user_name in backend.users:
            WORK.add(examined)
            return {"user_name": key.user_name, "last_used": key.last_used}
    WORK.add(examined)
    raise NotFoundException(f"The Access Key with id {access_key_id} cannot be found")
