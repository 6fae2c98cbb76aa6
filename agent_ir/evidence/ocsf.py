"""The journal as OCSF events (schema pinned at :data:`OCSF_VERSION`).

One incident becomes:

- Remediation Activity (7001) for the run: one event when it starts, one per step
  (Isolate for cuts, Evict for credentials and sessions, Restore for undo steps), one when
  it ends, one per note or repair;
- per step that changed something (or tried to), the IAM change itself: Account Change
  (3001), Entity Management (3004) or User Access Management (3005).

Every event names the responder as ``actor``, the agent's identity as the affected user or
entity, and carries under ``unmapped.agent_ir`` the incident, reason, plan hash and the
journal chain (seq, hash, prev of the records it stands for), so a SIEM can tie each
event back to a verifiable record. Intent and snapshot records travel with their step's
result event. Snapshot data and prepared operations are never copied: ids and labels only.

Events are built with ``ocsf-emitter``'s generated models of OCSF 1.5.0 (``py-ocsf-models``
covers only the finding classes); the pinned version has no ``ai_agent`` object yet, so the
agent is a user or entity of type "AI Agent" (type_id 99, Other).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agent_ir import __version__
from agent_ir.engine.journal import Kind, Record

if TYPE_CHECKING:
    from pydantic import BaseModel

OCSF_VERSION = "1.5.0"
AGENT_TYPE = "AI Agent"

ISOLATE, EVICT, RESTORE, OTHER = 1, 2, 3, 99
_EVICTING = {"disable-credentials", "revoke-sessions"}

# action -> (class, activity when applied, activity when undone); activities are OCSF ids.
ACCOUNT_CHANGE, ENTITY_MANAGEMENT, USER_ACCESS = 3001, 3004, 3005
_CHANGES: dict[str, tuple[int, int, int, str]] = {
    "disable-identity": (ACCOUNT_CHANGE, 5, 2, "Account"),  # Disable / Enable
    "deny-all": (ACCOUNT_CHANGE, 7, 8, "Policy"),  # Attach / Detach Policy
    "revoke-sessions": (ACCOUNT_CHANGE, 99, 99, "Session"),  # Other: sessions revoked
    "disable-credentials": (ENTITY_MANAGEMENT, 11, 10, "Credential"),  # Deactivate / Activate
    "lock-trust": (ENTITY_MANAGEMENT, 3, 3, "Trust Policy"),  # Update
    "remove-grants": (USER_ACCESS, 2, 1, "Grant"),  # Revoke / Assign Privileges
    "remove-delegation": (USER_ACCESS, 2, 1, "Delegation"),
}
_ACTIVITY_NAMES = {
    (7001, ISOLATE): "Isolate",
    (7001, EVICT): "Evict",
    (7001, RESTORE): "Restore",
    (3001, 2): "Enable",
    (3001, 5): "Disable",
    (3001, 7): "Attach Policy",
    (3001, 8): "Detach Policy",
    (3001, 99): "Revoke Sessions",
    (3004, 3): "Update",
    (3004, 10): "Activate",
    (3004, 11): "Deactivate",
    (3005, 1): "Assign Privileges",
    (3005, 2): "Revoke Privileges",
}
_CHANGED = {"verified", "applied-unverified", "failed"}


@dataclass(slots=True)
class _Context:
    """What later records need from earlier ones: the start and each step's intent."""

    start: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    chain: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def events(records: Iterable[Record]) -> list[dict[str, Any]]:
    """Every OCSF event of one incident's records, oldest first, as plain JSON."""
    mapper = Mapper()
    return [event for record in records for event in mapper.map(record)]


class Mapper:
    """Maps one incident's records in order; keeps what later records need."""

    def __init__(self) -> None:
        self._ctx = _Context()

    def map(self, record: Record) -> list[dict[str, Any]]:
        """The OCSF events of one record (none for intents and snapshots: they travel
        with their step's result)."""
        return [_dump(model) for model in self._models(record)]

    def _models(self, record: Record) -> Iterator[BaseModel]:
        ctx = self._ctx
        link = {"seq": record.seq, "kind": record.kind, "hash": record.hash, "prev": record.prev}
        payload = record.payload
        if record.kind == Kind.START:
            ctx.start = payload
            yield _run_event(ctx, record, [link], started=True)
        elif record.kind in (Kind.INTENT, Kind.SNAPSHOT):
            step = str(payload.get("step", ""))
            if record.kind == Kind.INTENT:
                ctx.steps[step] = payload
            ctx.chain.setdefault(step, []).append(link)
        elif record.kind == Kind.RESULT:
            step = str(payload.get("step", ""))
            chain = [*ctx.chain.pop(step, []), link]
            yield _step_event(ctx, record, step, chain)
            change = _change_event(ctx, record, step, chain)
            if change is not None:
                yield change
        elif record.kind == Kind.END:
            yield _run_event(ctx, record, [link], started=False)
        else:
            yield _note_event(ctx, record, [link])


def _lib() -> Any:
    """The OCSF model library, imported only when events are built (it is heavy)."""
    import ocsf_emitter

    return ocsf_emitter


def _time_ms(ts: str) -> int:
    return int(datetime.fromisoformat(ts).timestamp() * 1000)


def _product() -> Any:
    models = _lib().models
    return models.Product(name="agent-ir", vendor_name="agent-ir", version=__version__)


def _actor(ctx: _Context) -> Any:
    models = _lib().models
    who = ctx.start.get("who") or {}
    responder = str(who.get("responder") or who.get("os_user") or "unknown")
    user = models.User(name=responder, uid=responder, type_id=1, type="User")
    return models.Actor(user=user, app_name="agent-ir")


def _agent_user(ctx: _Context, intent: dict[str, Any], label: str) -> Any:
    models = _lib().models
    return models.User(
        name=label or str(intent.get("target", "")),
        uid=str(intent.get("target", "")),
        type_id=99,
        type=AGENT_TYPE,
        display_name=str(ctx.start.get("agent", "")),
    )


def _unmapped(ctx: _Context, chain: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    start = ctx.start
    return {
        "agent_ir": {
            "incident": start.get("incident"),
            "agent": start.get("agent"),
            "playbook": start.get("playbook"),
            "reason": start.get("why"),
            "plan_hash": start.get("plan_hash"),
            "restore_of": start.get("restore_of"),
            "lab": start.get("lab"),
            "journal": chain,
            **more,
        }
    }


def _with(model: Any, **updates: Any) -> Any:
    """A copy of ``model`` with ``updates``, validated again by its own class (assignment
    alone would skip validation, and extras would keep their empty fields)."""
    data = {**_plain(model), **{k: _plain(v) for k, v in updates.items() if v is not None}}
    return type(model).model_validate(data)


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True, by_alias=True)
    return value


def _finish(
    event: Any, ctx: _Context, record: Record, chain: list[dict[str, Any]], **updates: Any
) -> Any:
    """The fields every event shares: metadata, actor, the chain; then ``updates``."""
    meta = _with(
        event.metadata,
        uid=f"{record.hash}:{int(event.class_uid)}",
        correlation_uid=str(ctx.start.get("incident", "")),
        sequence=record.seq,
        log_name="agent-ir journal",
        labels=["lab"] if ctx.start.get("lab") else None,
        profiles=updates.pop("profiles", None),
    )
    activity = _ACTIVITY_NAMES.get((int(event.class_uid), int(event.activity_id)), "Other")
    return _with(event, metadata=meta, actor=_actor(ctx), activity_name=activity, **updates)


def _status(result: str) -> tuple[int, str]:
    """A step status as a Remediation Activity status_id and caption."""
    return {
        "verified": (1, "Success"),
        "already": (1, "Success"),
        "applied-unverified": (4, "Partial"),
        "skipped": (99, "Other"),
        "failed": (2, "Failure"),
    }.get(result, (0, "Unknown"))


def _run_event(ctx: _Context, record: Record, chain: list[dict[str, Any]], *, started: bool) -> Any:
    lib = _lib()
    start = ctx.start
    restoring = bool(start.get("restore_of"))
    activity = RESTORE if restoring else ISOLATE
    if started:
        message = (
            f"incident {start.get('incident')} started: playbook {start.get('playbook')} "
            f"on agent {start.get('agent')}"
        )
        status_id, status, detail = 99, "Started", None
    else:
        outcome = str(record.payload.get("status", ""))
        status_id, status = {"complete": (1, "Success"), "partial": (4, "Partial")}.get(
            outcome, (2, "Failure")
        )
        message = f"incident {start.get('incident')} ended: {outcome}"
        detail = ", ".join(f"{k} {v}" for k, v in (record.payload.get("counts") or {}).items() if v)
    event = lib.build_remediation_activity(
        command_uid=str(start.get("incident", "")),
        severity=lib.Severity.MEDIUM,
        activity=lib.RemediationActivityAction(activity),
        message=message,
        time_ms=_time_ms(record.ts),
        product=_product(),
    )
    return _remediation(
        event, ctx, record, chain, status_id=status_id, status=status, status_detail=detail or None
    )


def _remediation(
    event: Any,
    ctx: _Context,
    record: Record,
    chain: list[dict[str, Any]],
    *,
    status_id: int,
    status: str,
    status_detail: str | None = None,
    **more: Any,
) -> Any:
    """A Remediation Activity with its status, the reason and the host profile's actor."""
    models = _lib().models
    return _finish(
        event,
        ctx,
        record,
        chain,
        profiles=["host"],
        status_id=status_id,
        status=status,
        status_detail=status_detail,
        remediation=models.Remediation(desc=str(ctx.start.get("why") or "")),
        unmapped=models.Object(**_unmapped(ctx, chain, **more)),
    )


def _step_activity(action: str, undo: bool) -> int:
    if undo:
        return RESTORE
    return EVICT if action in _EVICTING else ISOLATE


def _step_event(ctx: _Context, record: Record, step: str, chain: list[dict[str, Any]]) -> Any:
    lib = _lib()
    intent = ctx.steps.get(step, {})
    action = str(intent.get("action", ""))
    undo = step.startswith("undo.")
    result = str(record.payload.get("status", ""))
    status_id, status = _status(result)
    event = lib.build_remediation_activity(
        command_uid=f"{ctx.start.get('incident', '')}/{step}",
        severity=lib.Severity.MEDIUM,
        activity=lib.RemediationActivityAction(_step_activity(action, undo)),
        message=f"{step}: {action} {intent.get('provider', '')} {intent.get('target', '')}: {result}",
        time_ms=_time_ms(record.ts),
        product=_product(),
    )
    return _remediation(
        event,
        ctx,
        record,
        chain,
        status_id=status_id,
        status=status,
        status_detail=record.payload.get("error") or result,
        step=step,
        provider=intent.get("provider"),
        action=action,
        target=intent.get("target"),
        result=result,
    )


def _change_event(
    ctx: _Context, record: Record, step: str, chain: list[dict[str, Any]]
) -> Any | None:
    """The IAM change a step made or tried to make; None when it changed nothing."""
    lib = _lib()
    models = lib.models
    intent = ctx.steps.get(step, {})
    action = str(intent.get("action", ""))
    result = str(record.payload.get("status", ""))
    if result not in _CHANGED or action not in _CHANGES:
        return None
    undo = step.startswith("undo.")
    uid, applied, undone, noun = _CHANGES[action]
    activity = undone if undo else applied
    target = str(intent.get("target", ""))
    message = f"{'undo ' if undo else ''}{action} on {intent.get('provider', '')} {target}"
    common = {"message": message, "time_ms": _time_ms(record.ts), "product": _product()}
    severity = lib.Severity.MEDIUM
    if uid == ACCOUNT_CHANGE:
        event = lib.build_account_change(
            user=lib.UserRef(name=target, uid=target),
            severity=severity,
            activity=lib.AccountChangeAction(activity),
            **common,
        )
        extra: dict[str, Any] = {"user": _agent_user(ctx, intent, target)}
    elif uid == ENTITY_MANAGEMENT:
        event = lib.build_entity_management(
            entity=lib.ManagedEntityRef(name=target, uid=target, type=noun, type_id=99),
            severity=severity,
            activity=lib.EntityManagementAction(activity),
            **common,
        )
        extra = {"comment": str(ctx.start.get("why") or "") or None}
    else:
        event = lib.build_user_access(
            user=lib.UserRef(name=target, uid=target),
            privileges=[f"{action}:{target}"],
            severity=severity,
            activity=lib.UserAccessAction(activity),
            **common,
        )
        extra = {"user": _agent_user(ctx, intent, target)}
    failed = result == "failed"
    more = {"provider": intent.get("provider"), "action": action, "target": target}
    return _finish(
        event,
        ctx,
        record,
        chain,
        status_id=2 if failed else 1,
        status="Failure" if failed else "Success",
        status_detail=record.payload.get("error") or result,
        unmapped=models.Object(**_unmapped(ctx, chain, step=step, object=noun, **more)),
        **extra,
    )


def _note_event(ctx: _Context, record: Record, chain: list[dict[str, Any]]) -> Any:
    lib = _lib()
    payload = record.payload
    text = payload.get("text") or payload.get("reason") or record.kind
    if record.kind == "signal":  # a Shared Signals delivery (see agent_ir.evidence.signals)
        text = f"{payload.get('event_type')} to {payload.get('receiver')}: {payload.get('status')}"
    event = lib.build_remediation_activity(
        command_uid=str(ctx.start.get("incident", "")),
        severity=lib.Severity.INFORMATIONAL,
        activity=lib.RemediationActivityAction(OTHER),
        message=f"{record.kind}: {text}",
        time_ms=_time_ms(record.ts),
        product=_product(),
    )
    return _remediation(event, ctx, record, chain, status_id=99, status=record.kind)


def _dump(model: BaseModel) -> dict[str, Any]:
    """Validate through the library's model, then plain JSON without empty fields."""
    checked = _lib().validate(model)
    data: dict[str, Any] = checked.model_dump(mode="json", exclude_none=True, by_alias=True)
    return data
