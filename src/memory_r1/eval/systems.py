"""The systems a LoCoMo run compares, each behind one small interface.

A ``System`` is built once per run from a ``Setup`` (the models and agent settings every
system shares); ``System.open(conversation, folder)`` gives a ``SystemRun`` for one
conversation, which ``ingest``s it once and then ``answer``s its questions (from several
threads at a time). Every system answers with the same Answer Agent prompt and parser, so the
difference between two rows of a report is what each put in front of that agent:

* ``memory-r1``: each turn through fact extraction and the Memory Manager
  (``Memory.add(infer=True)``, one call per turn with its session time and dia_id), then
  ``Memory.answer``: top-k memories per speaker, distillation, ``**Answer:**``.
* ``rag-turns``: the raw turns in the bank (``add_batch`` with ``infer=False``, no LLM), the
  same ``Memory.answer``: retrieval over turns, no manager.
* ``full-context``: no bank; the whole conversation, turn by turn with session times, in the
  answer prompt, when it fits ``Setup.context_budget`` tokens; otherwise every question is
  recorded as skipped with the reason.
* ``mem0``: mem0's own pipeline (``mem0ai``, if installed) on the same LLM and embedder, with
  mem0's LoCoMo protocol (see ``memory_r1.eval._mem0_system``).

An image turn's text carries its caption: ``"... [shares a photo: <caption>]"``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from memory_r1._core.agents import ask
from memory_r1._core.answer_parsing import REASK_ANSWER, parse_answer
from memory_r1._core.effects import run_sync
from memory_r1._core.prompts import answer_messages, answer_pattern
from memory_r1.eval._locomo_types import QA, Conversation
from memory_r1.eval._records import IngestRecord
from memory_r1.eval._system_base import (
    OnTurns,
    Prediction,
    Setup,
    System,
    SystemRun,
    approx_tokens,
    memory_dia_ids,
    turn_text,
    utc,
)
from memory_r1.exceptions import ConfigurationError, PolicyOutputError
from memory_r1.llms.base import Usage
from memory_r1.memory import Memory
from memory_r1.types import AnswerResult, MemoryItem, Scope, TraceEvent

__all__ = [
    "SYSTEMS",
    "FullContextSystem",
    "MemoryR1System",
    "Prediction",
    "RagTurnsSystem",
    "Setup",
    "System",
    "SystemRun",
    "approx_tokens",
    "make_system",
    "turn_text",
]

# --- systems on a memory-r1 bank ----------------------------------------------------------------


class _UsageMeter:
    """Adds up every LLM call a ``Memory`` makes (its ``on_event`` hook), failed ones too."""

    def __init__(self) -> None:
        self.usage = Usage()
        self._lock = threading.Lock()

    def __call__(self, event: TraceEvent) -> None:
        if event.kind != "llm_call":
            return
        call = Usage(
            calls=1,
            prompt_tokens=int(event.data.get("prompt_tokens", 0)),
            completion_tokens=int(event.data.get("completion_tokens", 0)),
            latency_s=float(event.data.get("latency_s", 0.0)),
        )
        with self._lock:
            self.usage += call


class _MemoryRun(SystemRun):
    """A conversation in a memory-r1 bank, scope ``user_id=<sample_id>``, one actor per speaker."""

    system = ""

    def __init__(self, setup: Setup, conversation: Conversation, folder: Path) -> None:
        self.setup, self.conversation = setup, conversation
        config = {"agents": setup.agents.model_dump(), "prompts": setup.prompts.model_dump()}
        self.meter = _UsageMeter()
        self.memory = Memory(
            config,
            path=folder,
            embedder=setup.embedder,
            llm=setup.llm,
            answer_llm=setup.answer_llm,
            on_event=self.meter,
        )
        self.user_id = conversation.sample_id

    def answer(self, qa: QA) -> Prediction:
        speakers = (self.conversation.speaker_a, self.conversation.speaker_b)
        result = self.memory.answer(qa.question, user_id=self.user_id, actors=speakers)
        return prediction_from(result)

    def close(self) -> None:
        self.memory.close()

    def _record(self, start: float, memories: int, failed: int = 0) -> IngestRecord:
        """The ingestion's record; every LLM call so far was made by the ingestion."""
        usage = self.meter.usage
        return IngestRecord(
            system=self.system,
            sample_id=self.user_id,
            turns=self.conversation.n_turns,
            failed_turns=failed,
            memories=memories,
            calls=usage.calls,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            seconds=time.perf_counter() - start,
        )


def prediction_from(result: AnswerResult) -> Prediction:
    """A ``Prediction`` from ``Memory.answer``'s result: memories mapped to their dia_ids."""
    chosen = set(result.selected)
    return Prediction(
        answer=result.answer,
        selected=memory_dia_ids(m for m in result.retrieved if m.id in chosen),
        retrieved=memory_dia_ids(result.retrieved),
        search_s=result.search_s,
        answer_s=result.answer_s,
        total_s=result.total_s,
        usage=result.usage,
    )


class _MemoryR1Run(_MemoryRun):
    system = "memory-r1"

    def ingest(self, on_turns: OnTurns) -> IngestRecord:
        start, memories, failed = time.perf_counter(), 0, 0
        for session in self.conversation.sessions:
            for turn in session.turns:
                message = {"role": "user", "name": turn.speaker, "content": turn_text(turn)}
                try:
                    result = self.memory.add(
                        [message],
                        user_id=self.user_id,
                        timestamp=session.date_time,
                        source=turn.dia_id,
                        infer=True,
                    )
                except PolicyOutputError:
                    failed += 1  # the manager's output stayed invalid: nothing written this turn
                else:
                    memories += len(result.events)
                on_turns(1)
        return self._record(start, memories, failed)


class MemoryR1System(System):
    """Memory-R1: fact extraction and the Memory Manager per turn, then the Answer Agent."""

    name = "memory-r1"

    def open(self, conversation: Conversation, folder: Path) -> SystemRun:
        return _MemoryR1Run(self.setup, conversation, folder)


class _RagTurnsRun(_MemoryRun):
    system = "rag-turns"

    def ingest(self, on_turns: OnTurns) -> IngestRecord:
        start, memories = time.perf_counter(), 0
        for session in self.conversation.sessions:
            requests = [
                {
                    "messages": [{"role": "user", "name": t.speaker, "content": turn_text(t)}],
                    "user_id": self.user_id,
                    "timestamp": session.date_time,
                    "source": t.dia_id,
                    "infer": False,
                }
                for t in session.turns
            ]
            memories += sum(len(r.events) for r in self.memory.add_batch(requests))
            on_turns(len(requests))
        return self._record(start, memories)


class RagTurnsSystem(System):
    """The raw turns in the bank (no LLM at ingestion), answered by the same Answer Agent."""

    name = "rag-turns"

    def open(self, conversation: Conversation, folder: Path) -> SystemRun:
        return _RagTurnsRun(self.setup, conversation, folder)


# --- full context -------------------------------------------------------------------------------

_TURN_NAMESPACE = uuid.UUID("5d1c6f0e-3b7a-4c55-9e0f-6a1f0b2c7d41")


def conversation_items(conversation: Conversation, *, captions: bool = True) -> list[MemoryItem]:
    """Every turn as a ``MemoryItem`` (``"<speaker>: <text>"``, session time, dia_id), in order."""
    scope = Scope(user_id=conversation.sample_id)
    items = []
    for session, turn in conversation.iter_turns():
        when = utc(session.date_time)
        items.append(
            MemoryItem(
                id=uuid.uuid5(_TURN_NAMESPACE, f"{conversation.sample_id}/{turn.dia_id}"),
                text=f"{turn.speaker}: {turn_text(turn, captions=captions)}",
                scope=scope,
                actor=turn.speaker,
                event_time=when,
                created_at=when,
                updated_at=when,
                sources=[turn.dia_id],
            )
        )
    return items


class _FullContextRun(SystemRun):
    def __init__(self, setup: Setup, conversation: Conversation) -> None:
        self.setup, self.conversation = setup, conversation
        self.items = conversation_items(conversation, captions=setup.captions)
        a, b = conversation.speaker_a, conversation.speaker_b
        self.label = f"the whole conversation between {a} and {b}, turn by turn"

    def ingest(self, on_turns: OnTurns) -> IngestRecord:
        on_turns(len(self.items))
        return IngestRecord(
            system=FullContextSystem.name,
            sample_id=self.conversation.sample_id,
            turns=len(self.items),
        )

    def answer(self, qa: QA) -> Prediction:
        setup, cfg = self.setup, self.setup.agents
        messages = answer_messages(
            setup.prompts, qa.question, [(self.label, self.items)], cfg.distill
        )
        need = sum(approx_tokens(m["content"]) for m in messages) + cfg.answer_tokens
        if need > setup.context_budget:
            return Prediction(
                skipped=f"the conversation needs about {need} tokens (prompt + answer), "
                f"over the context budget of {setup.context_budget}"
            )
        start = time.perf_counter()
        flow = ask(
            setup.answer_llm,
            messages,
            lambda text: parse_answer(text, self.items, cfg.distill),
            purpose="answer",
            max_tokens=cfg.answer_tokens,
            max_reasks=cfg.max_reasks,
            pattern=answer_pattern(setup.prompts, self.items, cfg.distill),
            reask=REASK_ANSWER,
        )
        parsed, usage = run_sync(flow, setup.embedder)
        elapsed = time.perf_counter() - start
        chosen = set(parsed.selected)
        return Prediction(
            answer=parsed.answer,
            selected=memory_dia_ids([m for m in self.items if m.id in chosen]),
            retrieved=[m.sources[0] for m in self.items],
            answer_s=elapsed,
            total_s=elapsed,
            usage=usage,
        )


class FullContextSystem(System):
    """The whole conversation in the answer prompt, when it fits the context budget."""

    name = "full-context"

    def open(self, conversation: Conversation, folder: Path) -> SystemRun:
        return _FullContextRun(self.setup, conversation)


# --- the registry -------------------------------------------------------------------------------


def _mem0_factory(setup: Setup) -> System:
    from memory_r1.eval._mem0_system import Mem0System  # mem0ai itself is imported there, lazily

    system: System = Mem0System(setup)
    return system


SYSTEMS: dict[str, Callable[[Setup], System]] = {
    MemoryR1System.name: MemoryR1System,
    RagTurnsSystem.name: RagTurnsSystem,
    FullContextSystem.name: FullContextSystem,
    "mem0": _mem0_factory,
}
"""System name → factory; ``make_system`` builds one."""


def make_system(name: str, setup: Setup) -> System:
    """Build the system called ``name``.

    Raises:
        ConfigurationError: an unknown name.
        MissingDependencyError: ``mem0`` without ``mem0ai`` installed.
    """
    if name not in SYSTEMS:
        raise ConfigurationError(f"unknown system {name!r}; choose from {sorted(SYSTEMS)}")
    return SYSTEMS[name](setup)
