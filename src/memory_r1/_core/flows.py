"""The flows behind every ``Memory`` / ``AsyncMemory`` method, written once (see effects.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import groupby
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from memory_r1._core import agents
from memory_r1._core import validate as v
from memory_r1._core.effects import Call, Embed, Emit, Flow
from memory_r1._core.filters import Bool, parse_filters, scope_condition
from memory_r1._core.ops import (
    AddOp,
    DeleteOp,
    RestoreOp,
    UpdateOp,
    WriteOp,
    WritePlan,
    needs_vector,
)
from memory_r1._core.prompts import Prompts
from memory_r1.config import AgentConfig
from memory_r1.exceptions import ConfigurationError, InvalidInputError, ScopeError
from memory_r1.llms.base import LLM
from memory_r1.store.bank import Bank
from memory_r1.store.history import RawInput
from memory_r1.types import (
    AddResult,
    AnswerResult,
    EraseReport,
    HistoryRecord,
    MemoryItem,
    Page,
    Scope,
    ScoredMemory,
    TraceEvent,
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

    def __init__(
        self,
        bank: Bank,
        *,
        llm: LLM | None = None,
        answer_llm: LLM | None = None,
        prompts: Prompts | None = None,
        agents: AgentConfig | None = None,
    ) -> None:
        self.bank, self.llm, self.answer_llm = bank, llm, answer_llm or llm
        self.prompts = prompts or Prompts()
        self.agents = agents or AgentConfig()

    # -- writes --------------------------------------------------------------------------

    def add_batch(
        self, requests: Sequence[AddRequest | Mapping[str, Any]]
    ) -> Flow[list[AddResult]]:
        """Check every request first; then store runs of raw requests as one atomic batch and
        run each ``infer=True`` request through the Memory Manager (atomic per request)."""
        checked = [self._check(make_request(r)) for r in requests]
        results: list[AddResult] = []
        for infer, run in groupby(checked, key=lambda c: c.req.infer):
            if infer:
                for c in run:
                    results.append((yield from self._add_inferred(c)))
            else:
                results += yield from self._add_raw(list(run))
        return results

    def _check(self, req: AddRequest) -> _Checked:
        if req.infer and self.llm is None:
            raise ConfigurationError(
                "add(infer=True) runs the Memory Manager and needs an llm, e.g. "
                "Memory(llm='litellm:openai/gpt-4o-mini'); infer=False stores text as given"
            )
        return _Checked(
            req=req,
            scope=v.check_scope(req.user_id, req.agent_id, req.run_id),
            turns=_messages(req.messages),
            metadata=v.check_metadata(req.metadata),
            event_time=None if req.timestamp is None else v.to_datetime(req.timestamp),
        )

    def _add_raw(self, batch: Sequence[_Checked]) -> Flow[list[AddResult]]:
        per_request = [_raw_adds(c) for c in batch]
        inputs = [_raw_input(self.bank, c) for c in batch]
        flat: list[WriteOp] = [op for ops in per_request for op in ops]
        plan = yield from self.write(flat, None, inputs)
        results, start = [], 0
        for ops, raw_input in zip(per_request, inputs, strict=True):
            events = plan.events[start : start + len(ops)]
            start += len(ops)
            results.append(AddResult(events=events, input_id=raw_input.id))
        return results

    def _add_inferred(self, c: _Checked) -> Flow[AddResult]:
        assert self.llm is not None  # _check made sure
        managed = yield from agents.manage(
            self.bank,
            self.llm,
            self.prompts,
            self.agents,
            c.turns,
            c.scope,
            c.event_time,
            c.req.source,
        )
        ops = [
            replace(op, metadata=c.metadata) if isinstance(op, AddOp) else op for op in managed.ops
        ]
        raw = _raw_input(self.bank, c)
        plan = yield from self.write(ops, c.scope, [raw], known=managed.vectors)
        result = AddResult(
            events=plan.events,
            input_id=raw.id,
            facts=managed.facts,
            decisions=managed.decisions,
            usage=managed.usage,
        )
        yield Emit(TraceEvent(kind="write", data=result.model_dump(mode="json")))
        return result

    def write(
        self,
        ops: list[WriteOp],
        guard: Scope | None,
        inputs: Sequence[RawInput] = (),
        known: Mapping[str, Any] | None = None,
    ) -> Flow[WritePlan]:
        """Embed what needs a vector (unless ``known`` has that text's vector already), then
        commit ``ops`` (and raw inputs) as one batch."""
        known = known or {}
        texts = {i: t for i, op in enumerate(ops) if (t := needs_vector(op)) is not None}
        todo = {i: t for i, t in texts.items() if t not in known}
        vectors = yield Embed(tuple(todo.values()))
        fresh = dict(zip(todo, vectors, strict=True))
        by_op = {i: fresh[i] if i in fresh else known[t] for i, t in texts.items()}
        plan: WritePlan = yield Call(
            self.bank.commit, (ops, by_op), {"guard": guard, "inputs": inputs}
        )
        return plan

    def _changed(self, ops: list[WriteOp], guard: Scope | None) -> Flow[list[MemoryItem]]:
        plan = yield from self.write(ops, guard)
        return [plan.items[op.id] for op in ops if op.id in plan.items]

    def answer(
        self, question: Any, scope: Scope, actors: Sequence[str | None] | None, distill: bool | None
    ) -> Flow[AnswerResult]:
        """Memory-R1's Answer Agent over the scope's memories, top-k per speaker."""
        if self.answer_llm is None:
            raise ConfigurationError("answer() needs an llm (or answer_llm) to be configured")
        text = v.check_text(question, what="question")
        if scope.is_empty():
            raise ScopeError("give at least one of user_id, agent_id or run_id")
        if actors is None:
            actors = (yield Call(self.bank.actors, (scope,))) or [None]
        result = yield from agents.answer(
            self.bank,
            self.answer_llm,
            self.prompts,
            self.agents,
            text,
            scope,
            list(actors),
            self.agents.distill if distill is None else distill,
        )
        yield Emit(
            TraceEvent(
                kind="answer",
                data={
                    "question": text,
                    "answer": result.answer,
                    "selected": len(result.selected),
                    "retrieved": len(result.retrieved),
                    "total_s": result.total_s,
                },
            )
        )
        return result

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
        items = yield from self._changed([op], scope)
        if items:
            return items[0]
        return (yield from self.get(memory_id, scope))  # nothing changed

    def set_status(self, memory_id: Any, *, delete: bool, scope: Scope | None) -> Flow[MemoryItem]:
        """Delete (non-destructively) or restore one memory."""
        mid = v.to_uuid(memory_id)
        op: WriteOp = DeleteOp(mid) if delete else RestoreOp(mid)
        items = yield from self._changed([op], scope)
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
            yield from self._changed(ids, scope)
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
        hits: list[ScoredMemory] = yield Call(
            self.bank.search, (vector, where, limit, threshold, text)
        )
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

    def scopes(self, within: Scope) -> Flow[list[Scope]]:
        """The scopes (exact user/agent/run combinations) that hold active memories."""
        found: list[Scope] = yield Call(self.bank.scopes, (within,))
        return found

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


@dataclass(frozen=True)
class _Checked:
    """An add request after every check: nothing about it can fail any more."""

    req: AddRequest
    scope: Scope
    turns: list[tuple[str | None, str]]
    metadata: dict[str, JsonValue]
    event_time: datetime | None


def _raw_input(bank: Bank, c: _Checked) -> RawInput:
    messages = c.req.messages
    raw = messages if isinstance(messages, str) else [dict(m) for m in messages]
    return RawInput(uuid.uuid4(), bank.clock(), c.scope, raw)


def _raw_adds(c: _Checked) -> list[WriteOp]:
    """``infer=False``: each message (or the text) becomes one memory, as given."""
    sources = (c.req.source,) if c.req.source else ()
    return [
        AddOp(
            uuid.uuid4(),
            text,
            c.scope,
            actor=actor,
            event_time=c.event_time,
            metadata=c.metadata,
            sources=sources,
            source=c.req.source,
        )
        for actor, text in c.turns
    ]


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
