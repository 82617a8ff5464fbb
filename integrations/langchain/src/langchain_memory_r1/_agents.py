"""The two Memory-R1 agents as flows, shared by the tools and ``AutoMemory``; text rendering.

``manage`` hands new information to the Memory Manager (fact extraction, then ADD / UPDATE
/ DELETE / NONE against related memories, decided by the model). ``recall`` asks the Answer
Agent (top-k retrieval per speaker, distillation, answer) or, without an LLM, runs a plain
search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memory_r1 import AddResult, AnswerResult, MemoryItem, ScoredMemory

from langchain_memory_r1._bridge import Call, Flow

Messages = str | list[dict[str, str]]


@dataclass(frozen=True)
class Recall:
    """What a recall found: the memories to use, everything retrieved, the draft answer."""

    memories: list[ScoredMemory]
    retrieved: list[ScoredMemory]
    answer: str | None


def manage(messages: Messages, scope: dict[str, str]) -> Flow[AddResult]:
    """Run the Memory Manager on ``messages`` within ``scope``."""
    result: AddResult = yield Call("add", (messages,), {**scope, "infer": True})
    return result


def recall(query: str, scope: dict[str, str], *, answer_agent: bool, limit: int) -> Flow[Recall]:
    """The Answer Agent's distilled memories for ``query`` (or the top ``limit`` hits).

    An empty scope skips the Answer Agent: no LLM call when there is nothing to recall.
    """
    if answer_agent:
        probe: list[ScoredMemory] = yield Call("search", (query,), {**scope, "limit": 1})
        if not probe:
            return Recall(memories=[], retrieved=[], answer=None)
        result: AnswerResult = yield Call("answer", (query,), scope)
        chosen = set(result.selected)
        memories = [m for m in result.retrieved if m.id in chosen]
        return Recall(memories=memories, retrieved=result.retrieved, answer=result.answer)
    hits: list[ScoredMemory] = yield Call("search", (query,), {**scope, "limit": limit})
    return Recall(memories=hits, retrieved=hits, answer=None)


def describe(result: AddResult) -> str:
    """The Memory Manager's decisions as short lines, for a ``ToolMessage``."""
    if not result.decisions:
        return "Nothing worth remembering was found."
    lines = []
    for d in result.decisions:
        if d.event == "ADD":
            lines.append(f"Added: {d.text}")
        elif d.event == "UPDATE":
            lines.append(f"Updated: {d.old_text or '?'} -> {d.text}")
        elif d.event == "DELETE":
            lines.append(f"Deleted: {d.old_text or d.text}")
        else:
            lines.append(f"Already known: {d.text}")
    return "\n".join(lines)


def bullet_lines(memories: Sequence[MemoryItem]) -> str:
    """One ``- text`` line per memory, dated when the memory has an event time."""
    lines = []
    for m in memories:
        when = f" ({m.event_time.date().isoformat()})" if m.event_time is not None else ""
        lines.append(f"- {m.text}{when}")
    return "\n".join(lines)


def render_recall(found: Recall) -> str:
    """A ``Recall`` as the ``search_memory`` tool's content."""
    body = (
        "Relevant memories:\n" + bullet_lines(found.memories)
        if found.memories
        else "No relevant memories."
    )
    if found.answer is not None:
        body += f"\nAnswer Agent's draft answer: {found.answer}"
    return body


def record(memory: MemoryItem, *, selected: bool | None = None) -> dict[str, Any]:
    """A memory as a JSON-ready dict (tool artifacts, document metadata)."""
    out: dict[str, Any] = {
        "id": str(memory.id),
        "text": memory.text,
        "score": memory.score if isinstance(memory, ScoredMemory) else None,
        "scope": memory.scope.fields(),
        "actor": memory.actor,
        "created_at": memory.created_at.isoformat(),
        "updated_at": memory.updated_at.isoformat(),
        "event_time": memory.event_time.isoformat() if memory.event_time else None,
        "version": memory.version,
        "metadata": dict(memory.metadata),
    }
    if selected is not None:
        out["selected"] = selected
    return out
