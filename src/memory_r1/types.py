"""The typed values memory-r1 takes and returns (pydantic models).

A memory is one short fact in natural language, kept in exactly one scope. Its id never
changes; an update makes a new *version* and the old text stays in its history.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from memory_r1.llms.base import Usage

__all__ = [
    "AddResult",
    "AnswerResult",
    "EraseReport",
    "HistoryOp",
    "HistoryRecord",
    "ManagerOp",
    "MemoryEvent",
    "MemoryItem",
    "MemoryStatus",
    "Page",
    "Scope",
    "ScoredMemory",
    "TraceEvent",
]

SCOPE_FIELDS = ("user_id", "agent_id", "run_id")


class Scope(BaseModel):
    """Who a memory belongs to: any non-empty combination of user, agent and run.

    A memory stored under ``Scope(user_id="alice", run_id="r1")`` is *within* the scopes
    ``Scope(user_id="alice")`` and ``Scope(user_id="alice", run_id="r1")``, and within no
    scope of another user, agent or run.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None

    def fields(self) -> dict[str, str]:
        """The fields that are set, e.g. ``{"user_id": "alice"}``."""
        return {k: v for k in SCOPE_FIELDS if (v := getattr(self, k)) is not None}

    def is_empty(self) -> bool:
        """True when no field is set."""
        return not self.fields()

    def contains(self, other: Scope) -> bool:
        """True when every field set here has the same value in ``other``."""
        theirs = other.fields()
        return all(theirs.get(k) == v for k, v in self.fields().items())

    def __str__(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.fields().items()) or "<no scope>"


class MemoryStatus(StrEnum):
    """Lifecycle of a memory or of one of its versions."""

    ACTIVE = "active"
    SUPERSEDED = "superseded"  # an older version, kept in history
    DELETED = "deleted"  # hidden from search, restorable


class MemoryItem(BaseModel):
    """One memory: a fact in natural language, in one scope, with its version."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    text: str
    scope: Scope
    actor: str | None = None
    event_time: datetime | None = Field(
        default=None, description="When the thing happened, e.g. the dialogue session's date."
    )
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    sources: list[str] = Field(
        default_factory=list, description="Where it came from, e.g. dialogue turn ids."
    )
    status: MemoryStatus = MemoryStatus.ACTIVE
    version: int = 1


class ScoredMemory(MemoryItem):
    """A memory returned by a search, with its similarity score (higher is closer)."""

    score: float


class HistoryOp(StrEnum):
    """Mutations recorded in the history log."""

    ADD = "ADD"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    RESTORE = "RESTORE"


class HistoryRecord(BaseModel):
    """One entry of a memory's append-only history."""

    model_config = ConfigDict(frozen=True)

    seq: int = Field(description="Position in the bank's log; increases with every mutation.")
    memory_id: UUID
    operation: HistoryOp
    old_text: str | None
    new_text: str | None
    version: int = Field(description="The memory's version after this operation.")
    actor: str | None = None
    source: str | None = Field(default=None, description="e.g. the dialogue turn id")
    time: datetime
    item: MemoryItem = Field(description="The whole memory as it was after this operation.")


class MemoryEvent(BaseModel):
    """What one write did to one memory."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    event: HistoryOp
    text: str
    old_text: str | None = None


class ManagerOp(BaseModel):
    """One decision of the Memory Manager, NONE included (for reports and demos)."""

    model_config = ConfigDict(frozen=True)

    event: str = Field(description="ADD, UPDATE, DELETE or NONE")
    text: str
    old_text: str | None = None
    memory_id: UUID | None = Field(default=None, description="the memory it applies to (not ADD)")


class AddResult(BaseModel):
    """The outcome of ``Memory.add``: one event per memory written."""

    model_config = ConfigDict(frozen=True)

    events: list[MemoryEvent] = Field(default_factory=list)
    input_id: UUID | None = Field(default=None, description="Id of the stored raw input.")
    facts: list[str] = Field(default_factory=list, description="facts extracted (infer=True)")
    decisions: list[ManagerOp] = Field(default_factory=list, description="the manager's ops")
    usage: Usage = Field(default_factory=Usage, description="LLM calls, tokens and time")

    @property
    def ids(self) -> list[UUID]:
        """Ids of the memories written, in order."""
        return [e.id for e in self.events]


class Page(BaseModel):
    """One page of memories and the cursor of the next one (``None`` at the end)."""

    model_config = ConfigDict(frozen=True)

    items: list[MemoryItem]
    next_cursor: str | None = None

    def __iter__(self) -> Iterator[MemoryItem]:  # type: ignore[override]
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> MemoryItem:
        return self.items[index]


class EraseReport(BaseModel):
    """What ``Memory.erase`` removed for good."""

    model_config = ConfigDict(frozen=True)

    scope: Scope
    memories: int
    history_records: int
    inputs: int


class AnswerResult(BaseModel):
    """The Answer Agent's answer, what it chose from, and what it cost."""

    model_config = ConfigDict(frozen=True)

    question: str
    answer: str
    selected: list[UUID] = Field(description="ids of the memories the model distilled")
    retrieved: list[ScoredMemory] = Field(description="everything it was shown, with scores")
    reasoning: str = Field(default="", description="the model's text before the answer")
    usage: Usage = Field(default_factory=Usage)
    search_s: float = 0.0
    answer_s: float = 0.0
    total_s: float = 0.0


class TraceEvent(BaseModel):
    """What a hook receives: ``kind`` is "llm_call", "write" or "answer"."""

    model_config = ConfigDict(frozen=True)

    kind: str
    data: dict[str, Any]
