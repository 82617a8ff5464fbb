"""What every adapter shares: the bank, the scope, and how turns go in and memories come out.

``RecallSettings`` is a pydantic model (validated once, at construction) that the block,
the ``BaseMemory``, the retriever and the tools all build on; its two coroutines are the only
places that call memory-r1. The conversions around them are pure functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Self, TypedDict

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from memory_r1 import AddResult, AsyncMemory, Scope, ScoredMemory
from memory_r1 import Memory as SyncMemory
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["RecallSettings", "drop_lowest", "query_of", "render", "turns"]

_ROLES = frozenset(r.value for r in MessageRole) - {MessageRole.SYSTEM.value}


class ScopeArgs(TypedDict):
    """The scope as keyword arguments of memory-r1's methods."""

    user_id: str | None
    agent_id: str | None
    run_id: str | None


def utc_now() -> datetime:
    """The default clock: the time a turn reaches the Memory Manager."""
    return datetime.now(UTC)


class RecallSettings(BaseModel):
    """The bank, the scope and the options shared by every adapter in this package.

    Raises (at construction):
        TypeError: ``bank`` is not a ``memory_r1.AsyncMemory``.
        pydantic.ValidationError: no scope field is set, or an option is out of range.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    bank: AsyncMemory = Field(exclude=True, description="The memory-r1 bank (an AsyncMemory).")
    user_id: str | None = Field(default=None, description="Scope: the user.")
    agent_id: str | None = Field(default=None, description="Scope: the agent.")
    run_id: str | None = Field(default=None, description="Scope: the run or session.")
    top_k: int = Field(default=10, gt=0, description="How many memories to retrieve at most.")
    distill: bool = Field(
        default=False,
        description="Let the Answer Agent keep only the useful memories (one LLM call per read).",
    )
    min_score: float | None = Field(
        default=None, description="Drop retrieved memories with a lower cosine similarity."
    )
    filters: dict[str, Any] | None = Field(
        default=None, description="memory-r1 metadata filters for search (not with distill)."
    )
    infer: bool = Field(
        default=True,
        description="Run fact extraction and the Memory Manager on writes (False stores raw).",
    )
    roles: tuple[str, ...] = Field(
        default=("user", "assistant"), description="Roles whose messages are remembered."
    )
    names: dict[str, str] = Field(
        default_factory=dict,
        description='Speaker name per role, e.g. {"user": "Alice"}; the role otherwise.',
    )
    query_messages: int = Field(
        default=1, gt=0, description="How many recent user messages form the search query."
    )
    clock: Callable[[], datetime] | None = Field(
        default=utc_now,
        exclude=True,
        description="When a turn happened (relative dates resolve against it); None: unknown.",
    )

    @field_validator("bank", mode="before")
    @classmethod
    def _is_async_memory(cls, value: object) -> object:
        if isinstance(value, AsyncMemory):
            return value
        hint = (
            "; open the bank with memory_r1.AsyncMemory(...) instead of Memory(...)"
            if isinstance(value, SyncMemory)
            else ""
        )
        raise TypeError(
            f"bank must be a memory_r1.AsyncMemory, got {type(value).__name__}{hint} "
            "(the adapter is async-native; its sync methods drive the same coroutines)"
        )

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, roles: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(roles) - _ROLES)
        if not roles or unknown:
            raise ValueError(f"roles must be a non-empty subset of {sorted(_ROLES)}, got {roles}")
        return roles

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.scope.is_empty():
            raise ValueError("set at least one of user_id, agent_id, run_id (the memory scope)")
        if self.distill and self.filters:
            raise ValueError("filters apply to search; distill=True uses the Answer Agent")
        return self

    @property
    def scope(self) -> Scope:
        """The memory-r1 scope every read and write uses."""
        return Scope(**self.scope_args())

    def scope_args(self) -> ScopeArgs:
        """The scope as keyword arguments: ``bank.search(q, **settings.scope_args())``."""
        return {"user_id": self.user_id, "agent_id": self.agent_id, "run_id": self.run_id}

    async def remember(self, messages: Sequence[ChatMessage]) -> AddResult | None:
        """Send the messages of ``roles`` that carry text to the Memory Manager (one call).

        Returns None, without calling memory-r1, when no message qualifies.
        """
        batch = turns(messages, self.roles, self.names)
        if not batch:
            return None
        return await self.bank.add(
            batch,
            **self.scope_args(),
            infer=self.infer,
            timestamp=self.clock() if self.clock is not None else None,
            source=_session_of(messages),
        )

    async def recall(self, query: str) -> list[ScoredMemory]:
        """The memories for ``query``, best first: a search, or the Answer Agent's selection."""
        if not query.strip():
            return []
        if not self.distill:
            return await self.bank.search(
                query,
                **self.scope_args(),
                filters=self.filters,
                limit=self.top_k,
                threshold=self.min_score,
            )
        result = await self.bank.answer(query, **self.scope_args(), distill=True)
        chosen = set(result.selected)
        kept = [m for m in result.retrieved if m.id in chosen]
        if self.min_score is not None:
            kept = [m for m in kept if m.score >= self.min_score]
        return sorted(kept, key=lambda m: -m.score)[: self.top_k]


def turns(
    messages: Sequence[ChatMessage], roles: Sequence[str], names: Mapping[str, str]
) -> list[dict[str, str]]:
    """memory-r1 messages for the ones of ``roles`` with text; tool calls and images drop out.

    Example:
        >>> turns([ChatMessage(role="user", content="I live in Lisbon"),
        ...        ChatMessage(role="system", content="be nice")], ["user"], {"user": "Ana"})
        [{'role': 'user', 'content': 'I live in Lisbon', 'name': 'Ana'}]
    """
    out: list[dict[str, str]] = []
    for message in messages:
        role = message.role.value
        text = (message.content or "").strip()
        if role not in roles or not text:
            continue
        turn = {"role": role, "content": text}
        if role in names:
            turn["name"] = names[role]
        out.append(turn)
    return out


def _session_of(messages: Sequence[ChatMessage]) -> str | None:
    """The llama-index session the messages came from, when they share one."""
    ids = {m.additional_kwargs.get("session_id") for m in messages}
    if len(ids) != 1:
        return None
    (only,) = ids
    return only if isinstance(only, str) else None


def query_of(messages: Sequence[ChatMessage], count: int) -> str:
    """The search query: the text of the last ``count`` user messages.

    Example:
        >>> query_of([ChatMessage(role="user", content="hi"),
        ...           ChatMessage(role="assistant", content="hello"),
        ...           ChatMessage(role="user", content="Where do I live?")], 1)
        'Where do I live?'
    """
    texts = [m.content for m in messages if m.role == MessageRole.USER and m.content]
    return "\n".join(texts[-count:])


def render(memories: Sequence[ScoredMemory]) -> str:
    """One line per memory, best first, dated when the memory has a date.

    Each memory stays on one line, so ``drop_lowest`` can cut whole memories.
    """
    lines = []
    for m in memories:
        text = " ".join(m.text.split())
        when = f"[{m.event_time.date().isoformat()}] " if m.event_time is not None else ""
        lines.append(f"- {when}{text}")
    return "\n".join(lines)


def drop_lowest(content: str, tokens: int, tokenizer: Callable[[str], list[Any]]) -> str | None:
    """Drop memory lines from the bottom (the lowest-scored) until ``tokens`` are saved.

    Returns None when nothing is left.

    Example:
        >>> drop_lowest("- best\\n- good\\n- weak", 1, str.split)
        '- best\\n- good'
    """
    lines = content.splitlines()
    target = len(tokenizer(content)) - tokens
    while lines and len(tokenizer("\n".join(lines))) > target:
        lines.pop()
    return "\n".join(lines) or None
