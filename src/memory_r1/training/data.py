"""Training tuples for the two agents (Memory-R1, App. B.2, Alg. 1-2), and their dataset rows.

* ``AnswerTuple`` (Alg. 2): a question, the memories retrieved for it from the conversation
  bank - the top ``k`` (30) of each speaker, 60 in all - and the gold answer.
* ``ManagerTuple`` (Alg. 1): a dialogue turn that questions cite as evidence, the temporal
  bank built from the turns before it, the teacher's facts of the turn, the memories the
  Memory Manager is shown for those facts, and the linked questions with their answers.

Adversarial questions (category 5) have no gold answer and are left out, so LoCoMo's
conv-26 (the paper's training split) gives exactly 152 answer tuples; conv-30 is validation.

``answer_rows`` / ``manager_rows`` turn tuples into rows for ``datasets.Dataset.from_list``:
a conversational ``prompt`` (the messages memory-r1 itself would send) and the columns the
rewards read (``gold`` for the Answer Agent, ``manager_tuple`` - the tuple as JSON - for the
Memory Manager).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from memory_r1._core.parsing import short_ids
from memory_r1._core.prompts import Prompts, answer_messages, manager_messages
from memory_r1.eval._system_base import turn_text
from memory_r1.eval.locomo import QA, Conversation
from memory_r1.llms.base import Message
from memory_r1.training.banks import BankBuilder, BankSnapshot
from memory_r1.training.retrieval import EmbeddingCache, related_memories, top_k_per_speaker
from memory_r1.types import MemoryItem

__all__ = [
    "AnswerTuple",
    "LinkedQA",
    "ManagerTuple",
    "answer_rows",
    "answer_tuples",
    "linked_turns",
    "manager_rows",
    "manager_tuples",
]

log = logging.getLogger(__name__)


class LinkedQA(BaseModel):
    """A question linked to a turn by its evidence, with its gold answer."""

    model_config = ConfigDict(frozen=True)

    qa_id: str
    question: str
    gold: str
    category: int


class AnswerTuple(BaseModel):
    """One Answer Agent training example: question, retrieved memories, gold answer."""

    model_config = ConfigDict(frozen=True)

    qa_id: str
    question: str
    gold: str
    category: int
    groups: tuple[tuple[str, tuple[MemoryItem, ...]], ...]
    """``(speaker, memories)`` for each speaker, best first."""

    def messages(self, prompts: Prompts | None = None, *, distill: bool = True) -> list[Message]:
        """The Answer Agent's prompt, as ``Memory.answer`` builds it."""
        return answer_messages(prompts or Prompts(), self.question, self.groups, distill)


class ManagerTuple(BaseModel):
    """One Memory Manager training state: a turn, its temporal bank and its linked questions."""

    model_config = ConfigDict(frozen=True)

    sample_id: str
    dia_id: str
    speaker: str
    text: str
    session_time: datetime
    speakers: tuple[str, ...]
    facts: tuple[str, ...]
    bank: tuple[MemoryItem, ...]
    """The temporal bank: memories written from the turns before this one."""
    shown: tuple[UUID, ...]
    """The bank memories the manager is shown for ``facts``, in short-id order."""
    questions: tuple[LinkedQA, ...]

    def shown_memories(self) -> dict[str, MemoryItem]:
        """The shown memories under the short ids the manager sees (``"0"``, ``"1"``, ...)."""
        by_id = {m.id: m for m in self.bank}
        return short_ids(by_id[i] for i in self.shown)

    def messages(self, prompts: Prompts | None = None) -> list[Message]:
        """The Memory Manager's prompt, as ``Memory.add`` builds it."""
        return manager_messages(prompts or Prompts(), self.facts, self.shown_memories())


def _linked(qa: QA) -> LinkedQA:
    return LinkedQA(qa_id=qa.qa_id, question=qa.question, gold=qa.gold, category=qa.category)


def linked_turns(conv: Conversation) -> dict[str, list[LinkedQA]]:
    """Each turn cited as evidence by a non-adversarial question, in dialogue order, with
    those questions.

    Example:
        >>> from memory_r1.eval import parse_locomo
        >>> sample = {"sample_id": "s1", "conversation": {"speaker_a": "Ann", "speaker_b": "Bo",
        ...     "session_1_date_time": "9:05 am on 2 March, 2024",
        ...     "session_1": [{"speaker": "Ann", "dia_id": "D1:1", "text": "I moved to Oslo."}]},
        ...     "qa": [{"question": "Where does Ann live?", "answer": "Oslo",
        ...             "evidence": ["D1:1"], "category": 4}]}
        >>> {d: [q.gold for q in qs] for d, qs in linked_turns(
        ...     parse_locomo([sample]).conversations[0]).items()}
        {'D1:1': ['Oslo']}
    """
    by_turn: dict[str, list[LinkedQA]] = {}
    for qa in conv.questions():
        for dia_id in qa.evidence:
            by_turn.setdefault(dia_id, []).append(_linked(qa))
    order = [turn.dia_id for _, turn in conv.iter_turns()]
    return {d: by_turn[d] for d in order if d in by_turn}


def answer_tuples(
    conv: Conversation, bank: BankSnapshot, builder: BankBuilder, *, k: int = 30
) -> list[AnswerTuple]:
    """One tuple per non-adversarial question: the top ``k`` memories of each speaker.

    Args:
        conv: the conversation.
        bank: its conversation bank (``builder.conversation_bank(conv)``).
        builder: gives the embedder used for retrieval.
        k: memories per speaker (the paper: 30).
    """
    cache = EmbeddingCache(builder.embedder)
    speakers = (conv.speaker_a, conv.speaker_b)
    out: list[AnswerTuple] = []
    for qa in conv.questions():
        groups = top_k_per_speaker(cache, qa.question, bank.memories, speakers, k)
        out.append(
            AnswerTuple(
                qa_id=qa.qa_id,
                question=qa.question,
                gold=qa.gold,
                category=qa.category,
                groups=tuple((speaker, tuple(items)) for speaker, items in groups),
            )
        )
    return out


def manager_tuples(
    conv: Conversation,
    builder: BankBuilder,
    *,
    window: int = 24,
    related_k: int | None = None,
    limit: int | None = None,
) -> list[ManagerTuple]:
    """One tuple per evidence turn (Alg. 1), on temporal banks the teacher builds (or the
    cache holds). Turns the teacher extracts no facts from are left out (and logged): the
    Memory Manager is never called for them.

    Args:
        conv: the conversation.
        builder: the teacher, embedder and cache.
        window: how many preceding turns build the temporal bank (the paper: 24 or 50).
        related_k: memories shown per fact (default: the builder's ``agents.related_k``).
        limit: keep only the first ``limit`` linked turns (small runs).
    """
    linked = linked_turns(conv)
    dia_ids = list(linked)[:limit] if limit is not None else list(linked)
    banks = builder.temporal_banks(conv, dia_ids, window)
    cache = EmbeddingCache(builder.embedder)
    k = related_k if related_k is not None else builder.agents.related_k
    turns = {turn.dia_id: (session, turn) for session, turn in conv.iter_turns()}
    out: list[ManagerTuple] = []
    for dia_id in dia_ids:
        snap, (session, turn) = banks[dia_id], turns[dia_id]
        if not snap.facts:
            log.info("skipping %s %s: no facts extracted", conv.sample_id, dia_id)
            continue
        shown = related_memories(cache, snap.facts, snap.memories, turn.speaker, k)
        out.append(
            ManagerTuple(
                sample_id=conv.sample_id,
                dia_id=dia_id,
                speaker=turn.speaker,
                text=turn_text(turn),
                session_time=session.date_time,
                speakers=(conv.speaker_a, conv.speaker_b),
                facts=snap.facts,
                bank=snap.memories,
                shown=tuple(m.id for m in shown),
                questions=tuple(linked[dia_id]),
            )
        )
    return out


def answer_rows(
    tuples: Sequence[AnswerTuple], prompts: Prompts | None = None, *, distill: bool = True
) -> list[dict[str, Any]]:
    """Dataset rows for the Answer Agent: ``prompt``, ``gold``, ``qa_id``, ``category``."""
    return [
        {
            "prompt": t.messages(prompts, distill=distill),
            "gold": t.gold,
            "qa_id": t.qa_id,
            "category": t.category,
        }
        for t in tuples
    ]


def manager_rows(
    tuples: Sequence[ManagerTuple], prompts: Prompts | None = None
) -> list[dict[str, Any]]:
    """Dataset rows for the Memory Manager: ``prompt`` and ``manager_tuple`` (JSON)."""
    return [{"prompt": t.messages(prompts), "manager_tuple": t.model_dump_json()} for t in tuples]
