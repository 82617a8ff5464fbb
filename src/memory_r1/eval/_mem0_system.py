"""mem0 as a LoCoMo baseline: mem0's own pipeline and LoCoMo protocol, on memory-r1's models.

mem0ai is never a dependency of memory-r1: it is imported here, when the system is built, and
its absence is a ``MissingDependencyError``. Evaluation runs must not reach the network, so
mem0's telemetry is switched off (``MEM0_TELEMETRY=False`` is set unless the variable is
already set); mem0 reads it when first imported, and a mem0 imported earlier with telemetry
on is refused with a ``ConfigurationError``.

The protocol follows mem0's LoCoMo harness (``evaluation/src/memzero/{add,search}.py``):

* one mem0 user per speaker (``<sample_id>:<speaker>``); every session goes to both users in
  batches of two messages, rendered ``"<speaker>: <text>"``, with role ``user`` for the
  user's own turns and ``assistant`` for the other speaker's, and the session time in the
  metadata (mem0 OSS refuses ``timestamp=``); the batch's dia_ids ride along in the metadata
  so that evidence recall can be measured;
* custom extraction instructions asking for self-contained memories with names and dates;
* search: the question against each speaker's user, top-k each (``AgentConfig.answer_k``);
* answering: memory-r1's Answer Agent prompt and parser on those memories (mem0's harness used
  its ``ANSWER_PROMPT``, of which Memory-R1's is a superset), so only the memories differ.

Deviation: mem0's harness drops image captions; here every system sees the same turn texts.
mem0's extraction and embedding calls go to the run's LLM and embedder: its ``llm`` and
``embedding_model`` objects are built with placeholder OpenAI settings and their methods
replaced, so no OpenAI client is ever called.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import uuid4

from memory_r1._core.agents import ask
from memory_r1._core.answer_parsing import REASK_ANSWER, parse_answer
from memory_r1._core.effects import run_sync
from memory_r1._core.prompts import answer_messages, answer_pattern
from memory_r1.eval._locomo_types import QA, Conversation, Session
from memory_r1.eval._records import IngestRecord
from memory_r1.eval._system_base import (
    OnTurns,
    Prediction,
    Setup,
    System,
    SystemRun,
    memory_dia_ids,
    turn_text,
    utc,
)
from memory_r1.eval.locomo import parse_session_datetime
from memory_r1.exceptions import ConfigurationError, InvalidInputError, MissingDependencyError
from memory_r1.llms.base import Message, Usage
from memory_r1.types import MemoryItem, Scope

__all__ = ["MEM0_INSTRUCTIONS", "Mem0System", "session_batches"]

MEM0_INSTRUCTIONS = """\
Write memories about the user that stand on their own:
1. Name the person (never write "user"), and keep personal details: work and study, hobbies, \
family, plans, feelings, and the dates when things happened.
2. Prefer concrete details (names, places, numbers, titles) to general statements.
3. Take memories only from the user's own messages, not from the assistant's.
4. Write each memory as a short narrative of what the person did, felt or plans."""
"""Extraction instructions in the spirit of mem0's LoCoMo harness (reworded)."""


def _import_mem0() -> Any:
    os.environ.setdefault("MEM0_TELEMETRY", "False")  # read by mem0 at import: no network
    try:
        module = importlib.import_module("mem0")
    except ImportError as exc:
        raise MissingDependencyError(
            "the mem0 system needs mem0ai, which memory-r1 never depends on: pip install mem0ai "
            "(see benchmarks/mem0_env.sh for a separate environment)"
        ) from exc
    telemetry = sys.modules.get("mem0.memory.telemetry")
    if getattr(telemetry, "MEM0_TELEMETRY", False):
        raise ConfigurationError(
            "mem0's telemetry is on (MEM0_TELEMETRY was true, or unset when mem0 was first "
            "imported); an evaluation must not reach the network: set MEM0_TELEMETRY=False "
            "before mem0 is imported"
        )
    return module


def session_batches(
    session: Session, owner: str, *, captions: bool = True, size: int = 2
) -> list[tuple[list[dict[str, str]], list[str]]]:
    """A session as mem0's harness adds it for ``owner``: batches of ``size`` messages
    (role ``user`` for the owner's turns, ``assistant`` for the other's), with their dia_ids.

    Example:
        >>> from datetime import datetime
        >>> from memory_r1.eval import Turn
        >>> s = Session(number=1, date_time=datetime(2023, 5, 8), date_time_text="8 May",
        ...             turns=(Turn(dia_id="D1:1", speaker="Ann", text="Hi"),
        ...                    Turn(dia_id="D1:2", speaker="Bo", text="Yo")))
        >>> [(messages, ids)] = session_batches(s, "Bo")
        >>> [(m["role"], m["content"]) for m in messages], ids
        ([('assistant', 'Ann: Hi'), ('user', 'Bo: Yo')], ['D1:1', 'D1:2'])
    """
    out = []
    for i in range(0, len(session.turns), size):
        turns = session.turns[i : i + size]
        messages = [
            {
                "role": "user" if t.speaker == owner else "assistant",
                "content": f"{t.speaker}: {turn_text(t, captions=captions)}",
            }
            for t in turns
        ]
        out.append((messages, [t.dia_id for t in turns]))
    return out


class _Bridge:
    """mem0's ``generate_response`` and ``embed`` on memory-r1's LLM and embedder."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.usage = Usage()
        self._lock = threading.Lock()

    def generate(self, messages: list[dict[str, Any]], *args: Any, **kwargs: Any) -> str:
        wants_json = (kwargs.get("response_format") or {}).get("type") == "json_object"
        msgs: list[Message] = [
            {"role": str(m["role"]), "content": str(m["content"])} for m in messages
        ]
        response = self.setup.llm.complete(
            msgs, json_schema={"type": "object"} if wants_json else None
        )
        with self._lock:
            self.usage += response.usage
        return response.text

    def embed(self, text: str, memory_action: str | None = None) -> list[float]:
        return [float(x) for x in self.setup.embedder.embed([text])[0]]

    def embed_batch(self, texts: Sequence[str], memory_action: str = "add") -> list[list[float]]:
        return [[float(x) for x in row] for row in self.setup.embedder.embed(list(texts))]


def _config(setup: Setup, folder: Path) -> dict[str, Any]:
    dim = setup.embedder.dim
    placeholder = {"model": "memory-r1-bridge", "api_key": "unused"}
    return {
        "vector_store": {
            "provider": "qdrant",
            "config": {
                "path": str(folder / "qdrant"),
                "collection_name": "locomo",
                "embedding_model_dims": dim,
                "on_disk": True,  # without it mem0 deletes the folder on open
            },
        },
        "embedder": {"provider": "openai", "config": {**placeholder, "embedding_dims": dim}},
        "llm": {"provider": "openai", "config": placeholder},
        "history_db_path": str(folder / "history.db"),
        "custom_instructions": MEM0_INSTRUCTIONS,
    }


class _Mem0Run(SystemRun):
    def __init__(self, setup: Setup, conversation: Conversation, folder: Path) -> None:
        mem0 = _import_mem0()
        folder.mkdir(parents=True, exist_ok=True)
        self.setup, self.conversation = setup, conversation
        self.bridge = _Bridge(setup)
        self.mem = mem0.Memory.from_config(_config(setup, folder))
        self.mem.llm.generate_response = self.bridge.generate
        self.mem.embedding_model.embed = self.bridge.embed
        self.mem.embedding_model.embed_batch = self.bridge.embed_batch
        self._lock = threading.Lock()  # qdrant-client's local mode is not thread-safe

    def user(self, speaker: str) -> str:
        return f"{self.conversation.sample_id}:{speaker}"

    def ingest(self, on_turns: OnTurns) -> IngestRecord:
        start, written = time.perf_counter(), 0
        conv = self.conversation
        for session in conv.sessions:
            for owner in (conv.speaker_a, conv.speaker_b):
                for messages, dia_ids in session_batches(
                    session, owner, captions=self.setup.captions
                ):
                    metadata = {"timestamp": session.date_time_text, "dia_ids": dia_ids}
                    result = self.mem.add(messages, user_id=self.user(owner), metadata=metadata)
                    written += len(result.get("results", []))
            on_turns(len(session.turns))
        usage = self.bridge.usage
        return IngestRecord(
            system=Mem0System.name,
            sample_id=conv.sample_id,
            turns=conv.n_turns,
            memories=written,
            calls=usage.calls,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            seconds=time.perf_counter() - start,
        )

    def _search(self, question: str, speaker: str) -> list[MemoryItem]:
        k = self.setup.agents.answer_k
        with self._lock:
            found = self.mem.search(
                question, filters={"user_id": self.user(speaker)}, top_k=k, threshold=0.0
            )
        return [_item(hit, speaker) for hit in found.get("results", [])]

    def answer(self, qa: QA) -> Prediction:
        setup, cfg = self.setup, self.setup.agents
        start = time.perf_counter()
        speakers = (self.conversation.speaker_a, self.conversation.speaker_b)
        groups = [(s, self._search(qa.question, s)) for s in speakers]
        searched = time.perf_counter()
        shown = [m for _, items in groups for m in items]
        flow = ask(
            setup.answer_llm,
            answer_messages(setup.prompts, qa.question, groups, cfg.distill),
            lambda text: parse_answer(text, shown, cfg.distill),
            purpose="answer",
            max_tokens=cfg.answer_tokens,
            max_reasks=cfg.max_reasks,
            pattern=answer_pattern(setup.prompts, shown, cfg.distill),
            reask=REASK_ANSWER,
        )
        parsed, usage = run_sync(flow, setup.embedder)
        done = time.perf_counter()
        chosen = set(parsed.selected)
        return Prediction(
            answer=parsed.answer,
            selected=memory_dia_ids(m for m in shown if m.id in chosen),
            retrieved=memory_dia_ids(shown),
            search_s=searched - start,
            answer_s=done - searched,
            total_s=done - start,
            usage=usage,
        )

    def close(self) -> None:
        close = getattr(self.mem, "close", None)
        if close is not None:
            close()


def _item(hit: dict[str, Any], speaker: str) -> MemoryItem:
    """A mem0 search hit as a ``MemoryItem`` timed by its session (for the answer prompt)."""
    metadata = hit.get("metadata") or {}
    when = None
    if isinstance(metadata.get("timestamp"), str):
        try:
            when = utc(parse_session_datetime(metadata["timestamp"]))
        except InvalidInputError:
            when = None
    created = hit.get("created_at") or "1970-01-01T00:00:00+00:00"
    dia_ids = metadata.get("dia_ids") or []
    return MemoryItem.model_validate(
        {
            "id": hit.get("id") or uuid4(),
            "text": str(hit.get("memory", "")),
            "scope": Scope(user_id=speaker),
            "actor": speaker,
            "event_time": when,
            "created_at": created,
            "updated_at": hit.get("updated_at") or created,
            "sources": [str(d) for d in dia_ids if isinstance(d, str)],
        }
    )


class Mem0System(System):
    """mem0 (``mem0ai``) with its LoCoMo protocol on the run's LLM and embedder.

    Raises:
        MissingDependencyError: mem0ai is not installed (raised when built, before any work).
    """

    name = "mem0"

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        _import_mem0()

    def open(self, conversation: Conversation, folder: Path) -> SystemRun:
        return _Mem0Run(self.setup, conversation, folder)
