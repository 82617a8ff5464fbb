"""The interface every evaluated system implements, and the helpers they share."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from memory_r1._core.prompts import Prompts
from memory_r1.config import AgentConfig
from memory_r1.embeddings.base import Embedder
from memory_r1.eval._locomo_types import QA, Conversation, Turn
from memory_r1.eval._records import IngestRecord
from memory_r1.llms.base import LLM, Usage
from memory_r1.types import MemoryItem

__all__ = [
    "OnTurns",
    "Prediction",
    "Setup",
    "System",
    "SystemRun",
    "approx_tokens",
    "memory_dia_ids",
    "turn_text",
    "utc",
]

OnTurns = Callable[[int], None]


def turn_text(turn: Turn, *, captions: bool = True) -> str:
    """A turn's text, with its image caption when it shared one.

    Example:
        >>> turn_text(Turn(dia_id="D1:2", speaker="Bo", text="Look!", image_caption="a red bike"))
        'Look! [shares a photo: a red bike]'
    """
    if captions and turn.image_caption:
        return f"{turn.text} [shares a photo: {turn.image_caption}]"
    return turn.text


def approx_tokens(text: str) -> int:
    """A model-free token estimate: one token per 4 characters, rounded up.

    Example:
        >>> approx_tokens("twelve chars")
        3
    """
    return math.ceil(len(text) / 4)


class Prediction(BaseModel):
    """A system's answer to one question, what it was shown, and what it cost."""

    model_config = ConfigDict(frozen=True)

    answer: str = ""
    selected: list[str] = Field(default_factory=list, description="dia_ids it relied on")
    retrieved: list[str] = Field(default_factory=list, description="dia_ids it was shown")
    search_s: float = 0.0
    answer_s: float = 0.0
    total_s: float = 0.0
    usage: Usage = Field(default_factory=Usage)
    skipped: str | None = Field(default=None, description="why it did not answer, if it did not")


@dataclass(frozen=True)
class Setup:
    """What every system of a run shares: the models and the agents' settings."""

    llm: LLM
    """The extractor / Memory Manager (and mem0's) model."""
    answer_llm: LLM
    """The Answer Agent's model, used by every system."""
    embedder: Embedder
    agents: AgentConfig = field(default_factory=AgentConfig)
    prompts: Prompts = field(default_factory=Prompts)
    context_budget: int = 64_000
    """full-context: the most prompt tokens (``approx_tokens``) plus answer tokens allowed."""
    captions: bool = True
    """Show image captions in turn texts."""


class SystemRun(ABC):
    """One system on one conversation: ingest it once, then answer its questions."""

    @abstractmethod
    def ingest(self, on_turns: OnTurns) -> IngestRecord:
        """Put the conversation in the bank, calling ``on_turns(n)`` as turns are done."""

    @abstractmethod
    def answer(self, qa: QA) -> Prediction:
        """Answer one question (thread-safe).

        Raises:
            PolicyOutputError: the model gave no parseable answer after its re-asks.
        """

    def close(self) -> None:  # noqa: B027 - a no-op unless a system holds resources
        """Release what ``open`` acquired."""


class System(ABC):
    """A memory system under evaluation; ``open`` one ``SystemRun`` per conversation."""

    name: ClassVar[str]

    def __init__(self, setup: Setup) -> None:
        self.setup = setup

    @abstractmethod
    def open(self, conversation: Conversation, folder: Path) -> SystemRun:
        """Open (or create) this system's store for ``conversation`` in ``folder``."""


def memory_dia_ids(items: Iterable[MemoryItem]) -> list[str]:
    """The dia_ids the memories came from, in order, each once."""
    out: dict[str, None] = {}
    for m in items:
        out.update(dict.fromkeys(m.sources))
    return list(out)


def utc(dt: datetime) -> datetime:
    """A naive LoCoMo session time as an aware UTC datetime."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt
