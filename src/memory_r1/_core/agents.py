"""The two Memory-R1 agents as flows: fact extraction + Memory Manager, and the Answer Agent.

Prompt building and output validation are pure (prompts.py, parsing.py); here they are
chained with the LLM calls, retrieval and the atomic commit, as generators (effects.py).
A policy output is validated whole; an invalid one is re-asked with the error, a bounded
number of times, then ``PolicyOutputError`` is raised and nothing has been written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple, TypeVar
from uuid import UUID

from memory_r1._core.answer_parsing import REASK_ANSWER, parse_answer
from memory_r1._core.effects import Call, Complete, Embed, Flow
from memory_r1._core.filters import Bool, Match, scope_condition
from memory_r1._core.ops import WriteOp
from memory_r1._core.parsing import (
    OutputError,
    parse_facts,
    parse_manager,
    reask_messages,
    short_ids,
)
from memory_r1._core.prompts import (
    Prompts,
    answer_messages,
    answer_pattern,
    extraction_messages,
    manager_messages,
)
from memory_r1._core.schemas import facts_schema, manager_schema
from memory_r1.config import AgentConfig
from memory_r1.exceptions import PolicyOutputError
from memory_r1.llms.base import LLM, LLMResponse, Message, Usage
from memory_r1.store.bank import Bank
from memory_r1.types import AnswerResult, ManagerOp, MemoryItem, Scope, ScoredMemory

T = TypeVar("T")


def ask(
    llm: LLM,
    messages: Sequence[Message],
    parse: Callable[[str], T],
    *,
    purpose: str,
    max_tokens: int,
    max_reasks: int,
    schema: dict[str, Any] | None = None,
    pattern: str | None = None,
    reask: str | None = None,
) -> Flow[tuple[T, Usage]]:
    """Call ``llm`` until ``parse`` accepts its output (re-asking with the error).

    ``schema`` or ``pattern`` constrains the output where the backend can (``pattern`` is
    passed only when set, so LLMs written before it existed keep working).
    """
    usage, errors, current, budget = Usage(), [], list(messages), max_tokens
    last = ""
    for _ in range(max_reasks + 1):
        kwargs: dict[str, Any] = {"max_tokens": budget, "json_schema": schema}
        if pattern is not None:
            kwargs["pattern"] = pattern
        response: LLMResponse = yield Complete(llm, tuple(current), kwargs, purpose)
        usage, last = usage + response.usage, response.text
        try:
            if response.truncated:
                budget *= 2  # a cut-off output is a failure, never data: retry with more room
                raise OutputError(f"the output was cut off at {response.completion_tokens} tokens")
            return parse(response.text), usage
        except OutputError as exc:
            errors.append(str(exc))
            extra = {"instruction": reask} if reask else {}
            current = reask_messages(messages, response.text, exc, **extra)
    raise PolicyOutputError(
        f"{purpose}: the model's output was invalid {len(errors)} times; last error: {errors[-1]}",
        last_output=last,
        errors=errors,
    )


def speaker_groups(turns: Sequence[tuple[str | None, str]]) -> list[tuple[str | None, list[str]]]:
    """Texts grouped by speaker, in order of first appearance (one bank per speaker)."""
    groups: dict[str | None, list[str]] = {}
    for actor, text in turns:
        groups.setdefault(actor, []).append(text)
    return list(groups.items())


def related_memories(
    bank: Bank,
    facts: Sequence[str],
    vectors: Sequence[Any],
    scope: Scope,
    actor: str | None,
    k: int,
) -> Flow[list[MemoryItem]]:
    """The active memories of this speaker's bank closest to any of ``facts`` (embedded as
    ``vectors``), deduplicated."""
    where = _actor_scope(scope, actor)
    seen: dict[UUID, MemoryItem] = {}
    for fact, vector in zip(facts, vectors, strict=True):
        hits: list[ScoredMemory] = yield from _call(bank.search, vector, where, k, None, fact)
        for hit in hits:
            seen.setdefault(hit.id, hit)
    return list(seen.values())


class Managed(NamedTuple):
    """What the Memory Manager decided, and the facts' vectors (reused when a memory's text
    is a fact word for word, so no text is embedded twice)."""

    ops: list[WriteOp]
    facts: list[str]
    decisions: list[ManagerOp]
    usage: Usage
    vectors: dict[str, Any]


def extract(
    llm: LLM,
    prompts: Prompts,
    cfg: AgentConfig,
    actor: str | None,
    texts: Sequence[str],
    event_time: datetime | None,
) -> Flow[tuple[list[str], Usage]]:
    """One speaker's new facts: extracted by the LLM, or the turns themselves
    (``extraction="turns"``, no call)."""
    if cfg.extraction == "turns":
        return list(dict.fromkeys(t.strip() for t in texts if t.strip())), Usage()
    facts, usage = yield from ask(
        llm,
        extraction_messages(prompts, [(actor or "user", t) for t in texts], event_time),
        lambda t: parse_facts(t, cfg.max_facts),
        purpose="extract",
        max_tokens=cfg.extract_tokens,
        max_reasks=cfg.max_reasks,
        schema=facts_schema(cfg.max_facts),
    )
    return facts, usage


def manage(
    bank: Bank,
    llm: LLM,
    prompts: Prompts,
    cfg: AgentConfig,
    turns: Sequence[tuple[str | None, str]],
    scope: Scope,
    event_time: datetime | None,
    source: str | None,
) -> Flow[Managed]:
    """Extract facts per speaker and let the Memory Manager plan operations on their bank."""
    ops: list[WriteOp] = []
    all_facts: list[str] = []
    decisions: list[ManagerOp] = []
    known: dict[str, Any] = {}
    usage = Usage()
    for actor, texts in speaker_groups(turns):
        facts, u1 = yield from extract(llm, prompts, cfg, actor, texts, event_time)
        usage += u1
        if not facts:
            continue
        all_facts += facts
        vectors = yield Embed(tuple(facts))
        known.update(zip(facts, vectors, strict=True))
        related = yield from related_memories(bank, facts, vectors, scope, actor, cfg.related_k)
        shown = short_ids(related)
        decision, u2 = yield from ask(
            llm,
            manager_messages(prompts, facts, shown),
            partial(
                parse_manager,
                shown=shown,
                scope=scope,
                actor=actor,
                event_time=event_time,
                source=source,
                verbatim=facts if cfg.verbatim else None,
            ),
            purpose="manage",
            max_tokens=cfg.manager_tokens,
            max_reasks=cfg.max_reasks,
            schema=manager_schema(
                len(shown) + len(facts),
                list(shown),
                facts if cfg.verbatim else None,
                [m.text for m in shown.values()] if cfg.verbatim else None,
            ),
        )
        usage += u2
        ops += decision.ops
        decisions += [
            ManagerOp(
                event=r.event,
                text=r.text,
                old_text=r.old_text,
                memory_id=shown[r.short_id].id if r.event != "ADD" else None,
            )
            for r in decision.records
        ]
    return Managed(ops, all_facts, decisions, usage, known)


def answer(
    bank: Bank,
    llm: LLM,
    prompts: Prompts,
    cfg: AgentConfig,
    question: str,
    scope: Scope,
    actors: Sequence[str | None],
    distill: bool,
) -> Flow[AnswerResult]:
    """Retrieve top-k per speaker, let the Answer Agent distil and answer, parse both."""
    start = time.perf_counter()
    (vector,) = yield Embed((question,))
    groups: list[tuple[str, list[ScoredMemory]]] = []
    for actor in actors:
        hits: list[ScoredMemory] = yield from _call(
            bank.search, vector, _actor_scope(scope, actor), cfg.answer_k, None, question
        )
        groups.append((actor or "the user", hits))
    searched = time.perf_counter()
    retrieved = [m for _, hits in groups for m in hits]
    parsed, usage = yield from ask(
        llm,
        answer_messages(prompts, question, groups, distill),
        lambda t: parse_answer(t, retrieved, distill),
        purpose="answer",
        max_tokens=cfg.answer_tokens,
        max_reasks=cfg.max_reasks,
        pattern=answer_pattern(prompts, retrieved, distill),
        reask=REASK_ANSWER,
    )
    done = time.perf_counter()
    return AnswerResult(
        question=question,
        answer=parsed.answer,
        selected=parsed.selected,
        retrieved=retrieved,
        reasoning=parsed.reasoning,
        usage=usage,
        search_s=searched - start,
        answer_s=done - searched,
        total_s=done - start,
    )


def _actor_scope(scope: Scope, actor: str | None) -> Bool:
    base = scope_condition(scope.fields(), active_only=True)
    return base if actor is None else Bool(must=(*base.must, Match("actor", actor)))


def _call(fn: Callable[..., T], *args: Any) -> Flow[T]:
    result: T = yield Call(fn, args)
    return result
