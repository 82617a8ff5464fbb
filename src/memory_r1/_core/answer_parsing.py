"""Parse the Answer Agent's reply: distilled memories, then the answer after **Answer:**. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from memory_r1._core.parsing import OutputError
from memory_r1.types import MemoryItem

__all__ = ["REASK_ANSWER", "ParsedAnswer", "parse_answer"]

REASK_ANSWER = (
    "Reply again: list the memories you rely on, then write the short answer after **Answer:**."
)
_MARKER = re.compile(r"(?<![a-z])(?:\*\*)?answer(?:\*\*)?\s*:(?:\*\*)?", re.IGNORECASE)
_TRIM = " \t\r\n*_`\"'“”‘’"


@dataclass(frozen=True)
class ParsedAnswer:
    """The Answer Agent's answer, the memories it selected, and the text before the answer."""

    answer: str
    selected: list[UUID]
    reasoning: str


def parse_answer(
    text: str, shown: Mapping[str, MemoryItem] | Sequence[MemoryItem], distill: bool
) -> ParsedAnswer:
    """The answer after the last ``**Answer:**`` and the memories quoted before it.

    The marker may lack the bold and is matched in any case. Without a marker the whole
    text is the answer when ``distill`` is False. ``selected`` holds the shown memories
    whose text appears before the marker (case and spacing ignored), in shown order.

    Raises:
        OutputError: no marker while ``distill`` is True, or an empty answer.

    Example:
        >>> parse_answer("**Answer:** the beach", [], distill=True).answer
        'the beach'
    """
    markers = list(_MARKER.finditer(text))
    if not markers:
        if distill:
            raise OutputError("no **Answer:** marker: write the final answer after **Answer:**")
        reasoning, answer = "", text.strip(_TRIM)
    else:
        last = markers[-1]
        reasoning, answer = text[: last.start()].strip(), text[last.end() :].strip(_TRIM)
    if not answer:
        raise OutputError("the answer is empty: write a short answer after **Answer:**")
    items = list(shown.values()) if isinstance(shown, Mapping) else list(shown)
    quoted = _normalise(reasoning)
    selected: list[UUID] = []
    for m in items:
        needle = _normalise(m.text)
        if needle and needle in quoted and m.id not in selected:
            selected.append(m.id)
    return ParsedAnswer(answer=answer, selected=selected, reasoning=reasoning)


def _normalise(s: str) -> str:
    return " ".join(s.lower().split())
