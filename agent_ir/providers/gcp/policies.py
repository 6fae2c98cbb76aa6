"""Editing allow policies member by member, safely under concurrent writers.

A policy is named by a resource string: ``projects/<id>`` (Resource Manager) or
``serviceAccounts/<email>`` (IAM). Every edit is a read-modify-write that sends the etag it
read and version 3 (so conditional bindings survive); a 409 ``ABORTED`` (someone else wrote
in between) re-reads and re-applies the same change to the fresh policy, so their binding
survives ours. Edits only ever add or remove one member from named bindings: a binding is
named by its role and its condition, never by position.

Edits of one policy that are waiting at the same time (a mass containment removing many
members from one project's policy) are merged: one writer per policy takes every edit
queued so far, applies them in order to one read, and writes once; a conflict re-applies
them all to the fresh policy. Every caller learns the outcome of the write its edit was in.
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


Change = Callable[[Bindings], Bindings]


class PolicyEdits:
    """The edits waiting per policy, and whether a writer is draining them."""

    def __init__(self) -> None:
        self.queued: dict[str, list[tuple[Change, asyncio.Future[dict[str, Any]]]]] = {}
        self.writes = 0
        """Policy writes sent (one per merged batch that changed something)."""
        self.merged = 0
        """Edits that rode along in another edit's write."""


async def edit_policy(adapter: GcpProvider, resource: str, change: Change) -> dict[str, Any]:
    """Apply ``change`` to the live bindings of ``resource``, merged with the other edits
    of the same policy waiting now, retrying on etag conflicts."""
    edits = adapter.policy_edits
    future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    queue = edits.queued.get(resource)
    if queue is not None:
        # A writer is draining this policy: it takes this edit into its next write.
        queue.append((change, future))
        return await future
    edits.queued[resource] = [(change, future)]
    try:
        while edits.queued[resource]:
            batch, edits.queued[resource] = edits.queued[resource], []
            edits.merged += len(batch) - 1
            try:
                result = await _write_merged(adapter, resource, [c for c, _ in batch])
            except BaseException as exc:
                for _, waiting in batch:
                    if not waiting.done():
                        waiting.set_exception(exc)
                if isinstance(exc, Exception):
                    continue
                raise
            for _, waiting in batch:
                if not waiting.done():
                    waiting.set_result(result)
    finally:
        for _, waiting in edits.queued.pop(resource, []):
            if not waiting.done():
                waiting.cancel()
    return await future


async def _write_merged(
    adapter: GcpProvider, resource: str, changes: list[Change]
) -> dict[str, Any]:
    """One read-modify-write applying ``changes`` in order, retried on etag conflicts."""

    def change(bindings: Bindings) -> Bindings:
        for one in changes:
            bindings = one(bindings)
        return bindings

    delay = _BACKOFF_S
    for attempt in range(1, MAX_EDIT_ATTEMPTS + 1):
        policy = await adapter.get_policy(resource)
        bindings = policy.get("bindings", [])
        new = change(copy.deepcopy(bindings))
        if new == bindings:
            return policy
        try:
            adapter.policy_edits.writes += 1
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
