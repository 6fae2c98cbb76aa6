"""Editing allow policies member by member, safely under concurrent writers.

A policy is named by a resource string: ``projects/<id>`` (Resource Manager) or
``serviceAccounts/<email>`` (IAM). Every edit is a read-modify-write that sends the etag it
read and version 3 (so conditional bindings survive); a 409 ``ABORTED`` (someone else wrote
in between) re-reads and re-applies the same change to the fresh policy, so their binding
survives ours. Edits only ever add or remove one member from named bindings: a binding is
named by its role and its condition, never by position.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent_ir.errors import Conflict

if TYPE_CHECKING:
    from agent_ir.providers.gcp.adapter import GcpProvider

MAX_EDIT_ATTEMPTS = 6
_BACKOFF_S = 0.1

Bindings = list[dict[str, Any]]


def key_of(role: str, condition: dict[str, Any] | None) -> str:
    """What names a binding: its role and condition."""
    return role + "|" + json.dumps(condition, sort_keys=True)


def binding_ref(binding: dict[str, Any]) -> dict[str, Any]:
    """The JSON-able name of a binding (role and condition, no members)."""
    return {"role": binding["role"], "condition": binding.get("condition")}


def held(policy: dict[str, Any], member: str, wanted: list[dict[str, Any]] | None) -> Bindings:
    """The bindings of ``policy`` that hold ``member``: all of them, or those ``wanted``
    names; each as ``{"role", "condition"}``, sorted so states compare equal."""
    names = None if wanted is None else {key_of(w["role"], w.get("condition")) for w in wanted}
    out = [
        binding_ref(b)
        for b in policy.get("bindings", [])
        if member in b.get("members", [])
        and (names is None or key_of(b["role"], b.get("condition")) in names)
    ]
    return sorted(out, key=lambda b: key_of(b["role"], b["condition"]))


def without_member(
    bindings: Bindings, member: str, wanted: list[dict[str, Any]] | None
) -> Bindings:
    """``bindings`` with ``member`` taken out of the named (or every) binding; bindings
    left with no member are dropped."""
    names = None if wanted is None else {key_of(w["role"], w.get("condition")) for w in wanted}
    out = []
    for binding in bindings:
        name = key_of(binding["role"], binding.get("condition"))
        if member in binding.get("members", []) and (names is None or name in names):
            binding = {**binding, "members": [m for m in binding["members"] if m != member]}
        if binding.get("members"):
            out.append(binding)
    return out


def with_member(bindings: Bindings, member: str, targets: list[dict[str, Any]]) -> Bindings:
    """``bindings`` with ``member`` put back into each target binding (made when missing,
    condition included)."""
    out = copy.deepcopy(bindings)
    for target in targets:
        name = key_of(target["role"], target.get("condition"))
        found = next((b for b in out if key_of(b["role"], b.get("condition")) == name), None)
        if found is None:
            found = {"role": target["role"], "members": []}
            if target.get("condition") is not None:
                found["condition"] = target["condition"]
            out.append(found)
        if member not in found["members"]:
            found["members"].append(member)
    return out


async def edit_policy(
    adapter: GcpProvider, resource: str, change: Callable[[Bindings], Bindings]
) -> dict[str, Any]:
    """Apply ``change`` to the live bindings of ``resource``, retrying on etag conflicts."""
    delay = _BACKOFF_S
    for attempt in range(1, MAX_EDIT_ATTEMPTS + 1):
        policy = await adapter.get_policy(resource)
        bindings = policy.get("bindings", [])
        new = change(copy.deepcopy(bindings))
        if new == bindings:
            return policy
        try:
            return await adapter.set_policy(
                resource, {"version": 3, "etag": policy.get("etag"), "bindings": new}
            )
        except Conflict:
            adapter.conflicts += 1
            if attempt == MAX_EDIT_ATTEMPTS:
                raise
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay *= 2
    raise Conflict("gcp", f"{resource}: the policy kept changing under every retry")
