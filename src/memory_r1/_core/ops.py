"""Write operations and the pure function that plans them against the current bank state.

``plan_writes`` decides everything: the new version of each memory, the history entries
and the store operations. It raises before anything is written, so a batch is applied
whole or not at all; ``Bank.commit`` only carries the plan out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import JsonValue

from memory_r1._core.payload import item_to_payload
from memory_r1._core.validate import check_within
from memory_r1.exceptions import InvalidInputError
from memory_r1.store.base import Overwrite, StoreOp, Upsert
from memory_r1.types import HistoryOp, MemoryEvent, MemoryItem, MemoryStatus, Scope


@dataclass(frozen=True)
class AddOp:
    """Store a new memory under a fresh id."""

    id: UUID
    text: str
    scope: Scope
    actor: str | None = None
    event_time: datetime | None = None
    metadata: dict[str, JsonValue] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    source: str | None = None


@dataclass(frozen=True)
class UpdateOp:
    """New text and/or metadata for an existing memory (a new version)."""

    id: UUID
    text: str | None = None
    metadata: dict[str, JsonValue] | None = None
    event_time: datetime | None = None
    sources: tuple[str, ...] = ()  # appended to the memory's sources
    actor: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class DeleteOp:
    """Hide a memory from search; it stays restorable."""

    id: UUID
    actor: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class RestoreOp:
    """Bring a deleted memory back."""

    id: UUID
    actor: str | None = None
    source: str | None = None


WriteOp = AddOp | UpdateOp | DeleteOp | RestoreOp


def needs_vector(op: WriteOp) -> str | None:
    """The text to embed for this operation, if it needs a new vector."""
    if isinstance(op, AddOp):
        return op.text
    if isinstance(op, UpdateOp):
        return op.text
    return None


@dataclass(frozen=True)
class LogEntry:
    """One history entry before the log numbers it."""

    memory_id: UUID
    operation: HistoryOp
    old_text: str | None
    new_text: str | None
    item: MemoryItem
    actor: str | None
    source: str | None
    time: datetime


@dataclass
class WritePlan:
    """What a batch does: store operations, history entries, and events for the caller."""

    store_ops: list[StoreOp] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    events: list[MemoryEvent] = field(default_factory=list)
    items: dict[UUID, MemoryItem] = field(default_factory=dict)


def plan_writes(
    ops: list[WriteOp],
    current: dict[UUID, MemoryItem],
    vectors: dict[int, list[float]],
    now: datetime,
    guard: Scope | None = None,
) -> WritePlan:
    """Plan ``ops`` in order against ``current`` (the touched memories as stored now).

    Args:
        ops: the batch, applied in order; later ops see earlier ones' results.
        current: the stored state of every id that the non-ADD ops name.
        vectors: the new vector of op ``i`` for each op that ``needs_vector``.
        now: the time stamped on every change.
        guard: when given, every touched memory must lie within this scope.

    Raises:
        NotFoundError: an id is unknown, or outside ``guard``.
        InvalidInputError: an op does not fit the memory's state.
    """
    plan = WritePlan()
    state = dict(current)
    for i, op in enumerate(ops):
        if isinstance(op, AddOp):
            if op.id in state:
                raise InvalidInputError(f"memory {op.id} already exists")
            if guard is not None and not guard.contains(op.scope):
                raise InvalidInputError(f"cannot add to scope {op.scope} from scope {guard}")
            new = MemoryItem(
                id=op.id,
                text=op.text,
                scope=op.scope,
                actor=op.actor,
                event_time=op.event_time,
                created_at=now,
                updated_at=now,
                metadata=op.metadata,
                sources=list(op.sources),
            )
            _record(plan, HistoryOp.ADD, None, new, op.actor, op.source, now, vectors.get(i))
        else:
            old = check_within(state.get(op.id), op.id, guard)
            changed = _transition(op, old, now)
            if changed is None:
                continue
            new = changed
            kind = {UpdateOp: HistoryOp.UPDATE, DeleteOp: HistoryOp.DELETE}.get(
                type(op), HistoryOp.RESTORE
            )
            vector = vectors.get(i) if new.text != old.text else None
            _record(plan, kind, old, new, op.actor, op.source, now, vector)
        state[new.id] = new
    return plan


def _transition(op: WriteOp, old: MemoryItem, now: datetime) -> MemoryItem | None:
    changes: dict[str, Any]
    if isinstance(op, UpdateOp):
        if old.status is MemoryStatus.DELETED:
            raise InvalidInputError(f"memory {op.id} is deleted; restore it before updating")
        changes = {}
        if op.text is not None and op.text != old.text:
            changes["text"] = op.text
        if op.metadata is not None and op.metadata != old.metadata:
            changes["metadata"] = op.metadata
        if op.event_time is not None and op.event_time != old.event_time:
            changes["event_time"] = op.event_time
        extra = [s for s in op.sources if s not in old.sources]
        if extra:
            changes["sources"] = [*old.sources, *extra]
        if not changes:
            return None
    elif isinstance(op, DeleteOp):
        if old.status is MemoryStatus.DELETED:
            raise InvalidInputError(f"memory {op.id} is already deleted")
        changes = {"status": MemoryStatus.DELETED}
    else:
        if old.status is not MemoryStatus.DELETED:
            raise InvalidInputError(f"memory {op.id} is not deleted; nothing to restore")
        changes = {"status": MemoryStatus.ACTIVE}
    return old.model_copy(update={**changes, "updated_at": now, "version": old.version + 1})


def _record(
    plan: WritePlan,
    kind: HistoryOp,
    old: MemoryItem | None,
    new: MemoryItem,
    actor: str | None,
    source: str | None,
    now: datetime,
    vector: list[float] | None,
) -> None:
    payload = item_to_payload(new)
    if vector is not None:
        plan.store_ops.append(Upsert(str(new.id), vector, payload))
    elif kind is HistoryOp.ADD or (old is not None and old.text != new.text):
        raise InvalidInputError(f"no vector was computed for the new text of {new.id}")
    else:
        plan.store_ops.append(Overwrite(str(new.id), payload))
    old_text = old.text if old is not None else None
    plan.log.append(LogEntry(new.id, kind, old_text, new.text, new, actor, source, now))
    plan.events.append(MemoryEvent(id=new.id, event=kind, text=new.text, old_text=old_text))
    plan.items[new.id] = new
