"""The LoCoMo data model: turns, sessions, questions, conversations, the split, category labels.

Re-exported by ``memory_r1.eval.locomo``, which builds these values from the JSON file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel, ConfigDict

from memory_r1.exceptions import InvalidInputError, NotFoundError

__all__ = [
    "CATEGORY_LABELS",
    "LOCOMO_SHA256",
    "NOT_MENTIONED",
    "QA",
    "SPLIT_SAMPLE_IDS",
    "Conversation",
    "LoCoMo",
    "Session",
    "Split",
    "Turn",
    "category_label",
]

LOCOMO_SHA256 = "79fa87e90f04081343b8c8debecb80a9a6842b76a7aa537dc9fdf651ea698ff4"
"""sha256 of ``data/locomo10.json`` at snap-research/locomo ``main`` (the file mem0 used)."""
NOT_MENTIONED = "Not mentioned in the conversation"
"""LoCoMo's correct option for adversarial (category 5) questions; ``QA.gold`` uses it."""

Split = Literal["train", "validation", "test", "all"]
SPLIT_SAMPLE_IDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"train": ("conv-26",), "validation": ("conv-30",)}
)
"""Memory-R1's 1:1:8 split by conversation; "test" is every other conversation."""

CATEGORY_LABELS: Mapping[str, Mapping[int, str]] = MappingProxyType(
    {
        "locomo": MappingProxyType(
            {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
        ),
        "mem0": MappingProxyType(
            {1: "single-hop", 2: "temporal", 3: "multi-hop", 4: "open-domain", 5: "adversarial"}
        ),
    }
)
"""Category number → label, per convention: "locomo" (the data's meaning) or "mem0" (the
labels of the mem0 and Memory-R1 papers; mem0 issue #2609)."""


class Turn(BaseModel):
    """One utterance. ``dia_id`` is ``"D<session>:<index from 1>"``."""

    model_config = ConfigDict(frozen=True)

    dia_id: str
    speaker: str
    text: str
    image_caption: str | None = None
    """The BLIP caption of a shared image (images themselves are not released)."""
    image_urls: tuple[str, ...] = ()
    image_query: str | None = None


class Session(BaseModel):
    """One session: its number, its start time (parsed and as written), its turns in order."""

    model_config = ConfigDict(frozen=True)

    number: int
    date_time: datetime
    date_time_text: str
    turns: tuple[Turn, ...]


class QA(BaseModel):
    """One question with its gold answer, category number and evidence turns."""

    model_config = ConfigDict(frozen=True)

    sample_id: str
    index: int
    """Position in the conversation's ``qa`` list; ``qa_id`` builds on it."""
    question: str
    answer: str | None
    """The gold answer as a string (integers converted); ``None`` for most category-5 items."""
    category: int
    evidence: tuple[str, ...]
    """Cleaned dia_ids: split, zero-stripped, de-duplicated, only ids of existing turns."""
    evidence_raw: tuple[str, ...]
    adversarial_answer: str | None = None

    @property
    def qa_id(self) -> str:
        """A stable id, ``"<sample_id>/q<index>"``."""
        return f"{self.sample_id}/q{self.index}"

    @property
    def gold(self) -> str:
        """``answer``, or ``NOT_MENTIONED`` for an adversarial item without one."""
        return self.answer if self.answer is not None else NOT_MENTIONED

    @property
    def adversarial(self) -> bool:
        """Whether this is a category-5 (adversarial) question."""
        return self.category == 5


class Conversation(BaseModel):
    """One LoCoMo sample: two speakers, their sessions in order, and the questions about them."""

    model_config = ConfigDict(frozen=True)

    sample_id: str
    speaker_a: str
    speaker_b: str
    sessions: tuple[Session, ...]
    qa: tuple[QA, ...]
    dangling_dates: tuple[int, ...] = ()
    """Session numbers that have a ``session_<N>_date_time`` but no turns."""

    def iter_turns(self) -> Iterator[tuple[Session, Turn]]:
        """Every turn in order, with the session it belongs to."""
        return ((session, turn) for session in self.sessions for turn in session.turns)

    @property
    def n_turns(self) -> int:
        """Number of turns over all sessions."""
        return sum(len(s.turns) for s in self.sessions)

    def questions(self, *, include_adversarial: bool = False) -> tuple[QA, ...]:
        """The questions, without category 5 unless ``include_adversarial``."""
        return tuple(q for q in self.qa if include_adversarial or not q.adversarial)


class LoCoMo(BaseModel):
    """The whole dataset, with where it came from."""

    model_config = ConfigDict(frozen=True)

    conversations: tuple[Conversation, ...]
    source: str = "<memory>"
    sha256: str = ""

    @property
    def official(self) -> bool:
        """Whether the bytes loaded are the official release (``LOCOMO_SHA256``)."""
        return self.sha256 == LOCOMO_SHA256

    @property
    def n_turns(self) -> int:
        """Number of turns over all conversations."""
        return sum(c.n_turns for c in self.conversations)

    def conversation(self, sample_id: str) -> Conversation:
        """The conversation with this ``sample_id``.

        Raises:
            NotFoundError: there is none.
        """
        for conv in self.conversations:
            if conv.sample_id == sample_id:
                return conv
        raise NotFoundError(f"no LoCoMo conversation {sample_id!r}")

    def split(self, name: Split = "all") -> tuple[Conversation, ...]:
        """The conversations of one split (``SPLIT_SAMPLE_IDS``; "test" is all the others).

        Raises:
            InvalidInputError: an unknown split name.
        """
        if name == "all":
            return self.conversations
        if name == "test":
            named = {sid for ids in SPLIT_SAMPLE_IDS.values() for sid in ids}
            return tuple(c for c in self.conversations if c.sample_id not in named)
        if name not in SPLIT_SAMPLE_IDS:
            raise InvalidInputError(f"unknown split {name!r}; use train, validation, test or all")
        return tuple(c for c in self.conversations if c.sample_id in SPLIT_SAMPLE_IDS[name])

    def questions(
        self, split: Split = "all", *, include_adversarial: bool = False
    ) -> tuple[QA, ...]:
        """The questions of a split, category 5 excluded unless ``include_adversarial``."""
        return tuple(
            q
            for c in self.split(split)
            for q in c.questions(include_adversarial=include_adversarial)
        )


def category_label(category: int, scheme: str = "locomo") -> str:
    """The label of a category number under a convention of ``CATEGORY_LABELS``.

    Raises:
        InvalidInputError: an unknown scheme or category.

    Example:
        >>> category_label(4), category_label(4, "mem0")
        ('single-hop', 'open-domain')
    """
    if scheme not in CATEGORY_LABELS:
        raise InvalidInputError(f"unknown label scheme {scheme!r}; use {sorted(CATEGORY_LABELS)}")
    labels = CATEGORY_LABELS[scheme]
    if category not in labels:
        raise InvalidInputError(f"unknown LoCoMo category {category!r}")
    return labels[category]
