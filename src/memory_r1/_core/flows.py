"""The flows behind every ``Memory`` / ``AsyncMemory`` method, written once (see effects.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from memory_r1._core import validate as v
from memory_r1._core.effects import Call, Embed, Flow
from memory_r1._core.filters import Bool, parse_filters, scope_condition
from memory_r1._core.ops import AddOp, DeleteOp, RestoreOp, UpdateOp, WriteOp, needs_vector
from memory_r1.exceptions import InvalidInputError, ScopeError
from memory_r1.store.bank import Bank
from memory_r1.store.history import RawInput
from memory_r1.types import (
    AddResult,
    EraseReport,
    HistoryRecord,
    MemoryItem,
    Page,
    Scope,
    ScoredMemory,
)

Messages = str | Sequence[Mapping[str, Any]]


class AddRequest(BaseModel):
    """One item of ``add_batch``: the arguments of one ``add`` call."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    messages: Any = Field(description="a string, or messages {'role', 'content', 'name'?}")
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    metadata: Any = Field(default=None, description="a JSON object (checked when added)")
    timestamp: Any = None
    source: str | None = None
    infer: bool = False


class MemoryCore:
    """Validation and planning for the facade; I/O happens only through yielded effects."""

    def __init__(self, bank: Bank) -> None:
        self.bank = bank

    # -- writes --------------------------------------------------------------------------

    def add_batch(
        self, requests: Sequence[AddRequest | Mapping[str, Any]]
    ) -> Flow[list[AddResult]]:
        """Validate every request, embed all texts at once, commit everything in one batch."""
        parsed = [make_request(r) for r in requests]
        if not parsed:
            return []
        ops_per_request: list[list[AddOp]] = []
        inputs: list[RawInput] = []
        now = self.bank.clock()
        for req in parsed:
            if req.infer:
                raise InvalidInputError("infer=True needs the Memory Manager: configure an llm")
            scope = v.check_scope(req.user_id, req.agent_id, req.run_id)
            ops, raw = _raw_adds(req, scope)
            ops_per_request.append(ops)
            inputs.append(RawInput(uuid.uuid4(), now, scope, raw))
        flat = [op for ops in ops_per_request for op in ops]
        vectors = yield Embed(tuple(op.text for op in flat))
        batch: list[WriteOp] = list(flat)
        plan = yield Call(self.bank.commit, (batch, dict(enumerate(vectors))), {"inputs": inputs})
        results, start = [], 0
        for ops, raw_input in zip(ops_per_request, inputs, strict=True):
            events = plan.events[start : start + len(ops)]
            start += len(ops)
            results.append(AddResult(events=events, input_id=raw_input.id))
        return results

    def write(self, ops: list[WriteOp], guard: Scope | None) -> Flow[list[MemoryItem]]:
        """Embed what needs a vector, then commit ``ops`` as one batch."""
        texts = {i: t for i, op in enumerate(ops) if (t := needs_vector(op)) is not None}
        vectors = yield Embed(tuple(texts.values()))
        by_op = dict(zip(texts, vectors, strict=True))
        plan = yield Call(self.bank.commit, (ops, by_op), {"guard": guard})
        return [plan.items[op.id] for op in ops if op.id in plan.items]

    def update(
        self, memory_id: Any, text: str | None, metadata: Any, scope: Scope | None
    ) -> Flow[MemoryItem]:
        """New text and/or metadata for one memory."""
        if text is None and metadata is None:
            raise InvalidInputError("update needs new text, new metadata, or both")
        op = UpdateOp(
            v.to_uuid(memory_id),
            text=None if text is None else v.check_text(text),
            metadata=None if metadata is None else v.check_metadata(metadata),
        )
        items = yield from self.write([op], scope)
        if items:
            return items[0]
        return (yield from self.get(memory_id, scope))  # nothing changed

    def set_status(self, memory_id: Any, *, delete: bool, scope: Scope | None) -> Flow[MemoryItem]:
        """Delete (non-destructively) or restore one memory."""
        mid = v.to_uuid(memory_id)
        op: WriteOp = DeleteOp(mid) if delete else RestoreOp(mid)
        items = yield from self.write([op], scope)
        return items[0]

    def delete_all(self, scope: Scope) -> Flow[int]:
        """Mark every active memory within ``scope`` deleted; returns how many."""
        if scope.is_empty():
            raise ScopeError("delete_all needs a scope; it never deletes everything")
        ids: list[WriteOp] = []
        cursor: str | None = None
        where = scope_condition(scope.fields(), active_only=True)
        while True:
            items, cursor = yield Call(self.bank.scroll, (where, 1000, cursor))
            ids.extend(DeleteOp(item.id) for item in items)
            if cursor is None:
                break
        if ids:
            yield from self.write(ids, scope)
        return len(ids)

    def erase(self, scope: Scope) -> Flow[EraseReport]:
        """Remove everything within ``scope`` for good."""
        if scope.is_empty():
            raise ScopeError("erase needs a scope; use reset(confirm=True) to wipe the bank")
        report: EraseReport = yield Call(self.bank.erase, (scope,))
        return report

    # -- reads ---------------------------------------------------------------------------

    def search(
        self, query: Any, scope: Scope, filters: Any, limit: Any, threshold: Any
    ) -> Flow[list[ScoredMemory]]:
        """The memories within ``scope`` closest to ``query``."""
        text = v.check_text(query, what="query")
        where = _where(scope, filters, active_only=True)
        limit = v.check_limit(limit)
        if threshold is not None and not isinstance(threshold, int | float):
            raise InvalidInputError(f"threshold must be a number, got {threshold!r}")
        (vector,) = yield Embed((text,))
        hits: list[ScoredMemory] = yield Call(self.bank.search, (vector, where, limit, threshold))
        return hits

    def get(self, memory_id: Any, scope: Scope | None) -> Flow[MemoryItem]:
        """One memory by id (deleted ones too), if it lies within ``scope``."""
        mid = v.to_uuid(memory_id)
        items = yield Call(self.bank.get_items, ([str(mid)],))
        return v.check_within(items[0] if items else None, mid, scope)

    def get_all(
        self, scope: Scope, filters: Any, limit: Any, cursor: str | None, include_deleted: bool
    ) -> Flow[Page]:
        """A page of the memories within ``scope``."""
        where = _where(scope, filters, active_only=not include_deleted)
        limit = v.check_limit(limit)
        if cursor is not None:
            cursor = str(v.to_uuid(cursor))
        items, nxt = yield Call(self.bank.scroll, (where, limit, cursor))
        return Page(items=items, next_cursor=nxt)

    def history(self, memory_id: Any, scope: Scope | None) -> Flow[list[HistoryRecord]]:
        """A memory's history, oldest first."""
        item = yield from self.get(memory_id, scope)
        records: list[HistoryRecord] = yield Call(self.bank.history, (item.id,))
        return records


def _where(scope: Scope, filters: Any, *, active_only: bool) -> Bool:
    if scope.is_empty():
        raise ScopeError("give at least one of user_id, agent_id or run_id")
    base = scope_condition(scope.fields(), active_only=active_only)
    return Bool(must=(*base.must, parse_filters(filters)))


def make_request(r: AddRequest | Mapping[str, Any]) -> AddRequest:
    """An ``AddRequest`` from itself or a dict of ``add``'s arguments (typed errors)."""
    if isinstance(r, AddRequest):
        return r
    try:
        return AddRequest.model_validate(r)
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        error = ScopeError if fields & {"user_id", "agent_id", "run_id"} else InvalidInputError
        raise error(f"invalid add request: {exc}") from exc


def _raw_adds(req: AddRequest, scope: Scope) -> tuple[list[AddOp], Any]:
    """``infer=False``: each message (or the text) becomes one memory, as given."""
    metadata = v.check_metadata(req.metadata)
    event_time = None if req.timestamp is None else v.to_datetime(req.timestamp)
    sources = (req.source,) if req.source else ()
    pairs = _messages(req.messages)
    ops = [
        AddOp(
            uuid.uuid4(),
            text,
            scope,
            actor=actor,
            event_time=event_time,
            metadata=metadata,
            sources=sources,
            source=req.source,
        )
        for actor, text in pairs
    ]
    raw = req.messages if isinstance(req.messages, str) else [dict(m) for m in req.messages]
    return ops, raw


def _messages(messages: Any) -> list[tuple[str | None, str]]:
    """(actor, text) for each message worth storing; system messages are skipped."""
    if isinstance(messages, str):
        return [(None, v.check_text(messages))]
    if not isinstance(messages, Sequence) or not messages:
        raise InvalidInputError("messages must be a string or a non-empty list of messages")
    out: list[tuple[str | None, str]] = []
    for m in messages:
        if not isinstance(m, Mapping) or "content" not in m:
            raise InvalidInputError("each message must be a dict with 'role' and 'content'")
        role = m.get("role", "user")
        if role == "system":
            continue
        actor = m.get("name") or role
        if not isinstance(actor, str):
            raise InvalidInputError(f"message name/role must be a string, got {actor!r}")
        out.append((actor, v.check_text(m["content"], what="message content")))
    if not out:
        raise InvalidInputError("no message with content to store (system messages are skipped)")
    return out
