"""Prompt templates for the fact extractor, the Memory Manager and the Answer Agent. Pure.

Prompts are data: ``Prompts`` holds every template as a plain string and any field can be
overridden (``Prompts(answer_system="...")``). The user-message templates name their
slots in braces (``{facts}``, ``{memories}`` ...); only those exact names are filled, so
other braces (JSON examples) need no escaping. ``prompts_hash`` identifies a set of
prompts in reports.

The structure follows Memory-R1 (arXiv 2508.19828, App. C): the manager compares new
facts with stored memories shown under short ids and answers with ``{"memory": [...]}``
operations; the Answer Agent sees timestamped memories per speaker, first lists the ones
it relies on ("memory distillation"), then answers after ``**Answer:**``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, model_validator

from memory_r1.llms.base import Message
from memory_r1.types import MemoryItem

__all__ = [
    "Prompts",
    "answer_messages",
    "extraction_messages",
    "format_date",
    "format_time",
    "manager_messages",
    "memory_line",
    "prompts_hash",
]

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

EXTRACTION_SYSTEM = """\
You pick out the facts worth remembering from a conversation, for a long-term memory.

Keep personal information about the speakers and the people they mention: events and \
plans, preferences, relationships, work, places, possessions, health, goals, opinions - \
anything a friend would want to recall later. Skip greetings, small talk and questions \
that reveal nothing.

Write each fact as follows:
- One fact per item: a short sentence that stands on its own. Use names, never pronouns \
("Priya", not "she"; the speaker's name, not "I").
- Resolve relative dates against the session time given with the conversation and write \
them as absolute dates: in a session on 8 May 2023, "yesterday" becomes "7 May 2023", \
"last week" becomes "the week before 8 May 2023", "last year" becomes "2022". If the \
session time is unknown, keep the relative wording.
- Keep concrete details: names, numbers, titles, places.
- Add nothing that was not said.

Answer with a JSON object {"facts": [...]} holding a list of strings, and nothing else. \
Return {"facts": []} when nothing is worth keeping.

Example. Session time: 2:15 pm on 8 May, 2023 (Monday)
Priya: Yesterday I finally adopted a cat, she's called Miso!
Tom: Congrats! My sister and I started playing tennis last week.
Output: {"facts": ["Priya adopted a cat named Miso on 7 May 2023", \
"Tom and his sister started playing tennis the week before 8 May 2023"]}"""

EXTRACTION_USER = """\
Session time: {session_time}

Conversation:
{turns}

Return only the JSON object {"facts": [...]}."""

MANAGER_SYSTEM = """\
You keep the long-term memory of an assistant up to date. You are shown the memories \
already stored, each under a short id, and a list of newly extracted facts. Compare every \
new fact with the stored memories and choose one of four operations:

- ADD: the fact is new information that no stored memory covers. Store it as a new entry; \
write any new id, it is replaced when stored.
  Stored [{"id": "0", "text": "Priya works as a nurse"}], new fact "Priya has a cat named \
Miso" -> {"id": "1", "text": "Priya has a cat named Miso", "event": "ADD"}
- UPDATE: the fact is about the same thing as a stored memory but adds or changes detail. \
Rewrite that memory so it keeps the fuller information, keep its id and give its previous \
text as "old_memory". Do not update when the fact only says the same thing in other words.
  Stored {"id": "0", "text": "Tom plays tennis"}, new fact "Tom plays tennis every Sunday \
with his sister" -> {"id": "0", "text": "Tom plays tennis every Sunday with his sister", \
"event": "UPDATE", "old_memory": "Tom plays tennis"}
- DELETE: the fact shows that a stored memory is no longer true. Use that memory's id.
  Stored {"id": "2", "text": "Ana is vegetarian"}, new fact "Ana started eating meat \
again" -> {"id": "2", "text": "Ana is vegetarian", "event": "DELETE"}
- NONE: the fact is already stored, or changes nothing; the memory stays as it is.
  Stored {"id": "0", "text": "Priya works as a nurse"}, new fact "Priya is a nurse" -> \
{"id": "0", "text": "Priya works as a nurse", "event": "NONE"}

Rules:
- List every stored memory once, with its operation (NONE when it stays unchanged), and \
add one ADD entry for each new fact that must be stored.
- UPDATE, DELETE and NONE take the id of a stored memory; never make up one for them.
- Give each stored memory one operation at most.
- Keep the dates that facts carry in the memory text."""

MANAGER_USER = """\
Stored memories:
{memories}

New facts:
{facts}

Return only a JSON object of this shape, with no other text:
{"memory": [{"id": "<id>", "text": "<memory text>", "event": "ADD|UPDATE|DELETE|NONE", \
"old_memory": "<previous text, for UPDATE only>"}]}"""

_ANSWER_ROLE = """\
You answer questions about a long conversation between two people, using memories \
extracted from it.

# Context
You are given the memories of each speaker. Each memory is a line "- <timestamp>: <text>"; \
the timestamp is when it was said.

# Instructions
1. Read the memories of both speakers carefully.
2. Mind the timestamps: they tell when things happened.
3. Base the answer on what the memories state; look for direct evidence.
4. When memories contradict each other, trust the most recent one.
5. A relative time inside a memory ("last year", "two months ago") counts from that \
memory's timestamp: turn it into a date. A memory from 4 May 2022 saying "went to India \
last year" means 2021.
6. Keep the people apart: a memory listed for one speaker is about that speaker unless it \
names someone else.
7. Keep the answer short: five or six words at most, not a full sentence."""

ANSWER_SYSTEM = (
    _ANSWER_ROLE
    + """
8. First list the memories that help to answer the question, copying their lines exactly.
9. Then write the final answer after "**Answer:**".

# Output format
**Memories selected as relevant:**
- <timestamp>: <memory text>
**Answer:** <short answer>"""
)

ANSWER_NO_DISTILL_SYSTEM = (
    _ANSWER_ROLE
    + """

# Output format
Only the short answer, nothing else."""
)

ANSWER_USER = """\
{memories}

Question: {question}"""

# The output formats above as regular expressions, for local models' constrained decoding
# (API models only read the prompt). ``{memory_lines}`` becomes the shown memory lines as
# alternatives, so a small model can only select memories it was shown, never invent one.
ANSWER_PATTERN = (
    r"\*\*Memories selected as relevant:\*\*\n(- (?:{memory_lines})\n){0,6}"
    r"\*\*Answer:\*\* [^\n]{1,120}"
)
ANSWER_NO_DISTILL_PATTERN = r"[^\n]{1,120}"

# Each user template must keep its slots, or a fact list or memory list would vanish silently.
_SLOTS = {
    "extraction_user": ("session_time", "turns"),
    "manager_user": ("memories", "facts"),
    "answer_user": ("memories", "question"),
}


class Prompts(BaseModel):
    """The prompt templates; override any field to change a prompt.

    User templates are filled by slot name: ``extraction_user`` takes ``{session_time}``
    and ``{turns}``, ``manager_user`` ``{memories}`` and ``{facts}``, ``answer_user``
    ``{memories}`` and ``{question}``. Other braces are left as they are.
    ``answer_pattern`` / ``answer_no_distill_pattern`` are regular expressions of the
    answer formats that local models are held to by constrained decoding (the slot
    ``{memory_lines}`` takes the shown memories); set them to None when your answer prompt
    asks for another format.

    Example:
        >>> p = Prompts(answer_user="Question: {question}\\n\\n{memories}")
        >>> p.manager_system == Prompts().manager_system
        True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    extraction_system: str = EXTRACTION_SYSTEM
    extraction_user: str = EXTRACTION_USER
    manager_system: str = MANAGER_SYSTEM
    manager_user: str = MANAGER_USER
    answer_system: str = ANSWER_SYSTEM
    answer_no_distill_system: str = ANSWER_NO_DISTILL_SYSTEM
    answer_user: str = ANSWER_USER
    answer_pattern: str | None = ANSWER_PATTERN
    answer_no_distill_pattern: str | None = ANSWER_NO_DISTILL_PATTERN

    @model_validator(mode="after")
    def _check_slots(self) -> Self:
        for name, slots in _SLOTS.items():
            missing = [s for s in slots if "{" + s + "}" not in getattr(self, name)]
            if missing:
                raise ValueError(f"{name} lacks the slot(s) {', '.join(missing)}")
        for name in ("answer_pattern", "answer_no_distill_pattern"):
            try:
                re.compile((getattr(self, name) or "").replace("{memory_lines}", "x"))
            except re.error as exc:
                raise ValueError(f"{name} is not a regular expression: {exc}") from exc
        return self


def prompts_hash(p: Prompts) -> str:
    """The first 12 hex digits of the sha256 of ``p`` as canonical JSON, for reports.

    Example:
        >>> prompts_hash(Prompts()) == prompts_hash(Prompts())
        True
    """
    canonical = json.dumps(
        p.model_dump(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def format_time(t: datetime) -> str:
    """A time as LoCoMo writes it: ``"7:20 pm on 16 June, 2023"`` (locale-independent)."""
    hour = t.hour % 12 or 12
    half = "am" if t.hour < 12 else "pm"
    return f"{hour}:{t.minute:02d} {half} on {format_date(t)}"


def format_date(t: datetime) -> str:
    """A date as LoCoMo writes it: ``"16 June, 2023"``."""
    return f"{t.day} {_MONTHS[t.month - 1]}, {t.year}"


def extraction_messages(
    p: Prompts, turns: Sequence[tuple[str, str]], session_time: datetime | None
) -> list[Message]:
    """Messages asking for ``{"facts": [...]}`` from ``turns`` (``(speaker, text)`` pairs).

    The session time is shown with its weekday so that relative dates ("last Friday") can
    be resolved; ``None`` shows it as unknown.

    Example:
        >>> msgs = extraction_messages(Prompts(), [("Tom", "I moved to Leeds")], None)
        >>> [m["role"] for m in msgs]
        ['system', 'user']
    """
    when = "unknown"
    if session_time is not None:
        when = f"{format_time(session_time)} ({_WEEKDAYS[session_time.weekday()]})"
    lines = "\n".join(f"{speaker}: {text}" for speaker, text in turns)
    user = _fill(p.extraction_user, session_time=when, turns=lines)
    return [_msg("system", p.extraction_system), _msg("user", user)]


def manager_messages(
    p: Prompts,
    facts: Sequence[str],
    memories: Mapping[str, MemoryItem] | Sequence[tuple[str, MemoryItem]],
) -> list[Message]:
    """Messages asking the Memory Manager for operations on ``memories`` given ``facts``.

    Args:
        p: the prompts.
        facts: the new facts.
        memories: the stored memories under their short ids (see ``parsing.short_ids``),
            as a mapping or as ``(short_id, item)`` pairs.

    Example:
        >>> msgs = manager_messages(Prompts(), ["Tom has a dog"], [])
        >>> '"Tom has a dog"' in msgs[1]["content"]
        True
    """
    pairs = memories.items() if isinstance(memories, Mapping) else memories
    shown: list[dict[str, str]] = []
    for short_id, item in pairs:
        entry = {"id": short_id, "text": item.text}
        if item.event_time is not None:
            entry["date"] = format_time(item.event_time)
        shown.append(entry)
    user = _fill(
        p.manager_user,
        memories=_json_lines(shown),
        facts=_json_lines(list(facts)),
    )
    return [_msg("system", p.manager_system), _msg("user", user)]


def answer_messages(
    p: Prompts,
    question: str,
    groups: Sequence[tuple[str, Sequence[MemoryItem]]],
    distill: bool,
) -> list[Message]:
    """Messages asking the Answer Agent to answer ``question`` from grouped memories.

    Each group ``(label, memories)`` is shown under ``Memories for <label>:``, one line
    ``- <time>: <text>`` per memory; the time is the memory's event time, or its creation
    date when it has none. With ``distill`` the model lists the memories it uses before
    the answer, which follows ``**Answer:**``; without it, it gives only the answer.

    Example:
        >>> msgs = answer_messages(Prompts(), "Who?", [("user Tom", [])], distill=True)
        >>> "Memories for user Tom:" in msgs[1]["content"]
        True
    """
    blocks: list[str] = []
    for label, items in groups:
        lines = [f"- {memory_line(m)}" for m in items] or ["(none)"]
        blocks.append(f"Memories for {label}:\n" + "\n".join(lines))
    user = _fill(p.answer_user, memories="\n\n".join(blocks), question=question)
    system = p.answer_system if distill else p.answer_no_distill_system
    return [_msg("system", system), _msg("user", user)]


def answer_pattern(p: Prompts, shown: Sequence[MemoryItem], distill: bool) -> str | None:
    r"""The regular expression the Answer Agent's output must match, or None for no constraint.

    Example:
        >>> m = MemoryItem.model_validate(
        ...     {"id": "7d3c1a9e-0000-4000-8000-000000000001", "text": "Tom (42) plays tennis",
        ...      "scope": {"user_id": "u"},
        ...      "created_at": "2023-05-08T00:00:00Z", "updated_at": "2023-05-08T00:00:00Z"})
        >>> "Tom \\(42\\) plays tennis" in answer_pattern(Prompts(), [m], distill=True)
        True
    """
    template = p.answer_pattern if distill else p.answer_no_distill_pattern
    if template is None:
        return None
    lines = [regex_literal(memory_line(m)) for m in shown] or [regex_literal("(none)")]
    return template.replace("{memory_lines}", "|".join(lines))


def regex_literal(text: str) -> str:
    r"""``text`` as a regular expression matching exactly it, escaping only what needs it
    (xgrammar rejects Python's escapes of spaces and punctuation).

    Example:
        >>> regex_literal("a.b (c) 50%")
        'a\\.b \\(c\\) 50%'
    """
    out = []
    for ch in text:
        if ch in _REGEX_SPECIAL:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        else:
            out.append(ch)
    return "".join(out)


_REGEX_SPECIAL = frozenset("\\.^$*+?{}[]|()")


def memory_line(m: MemoryItem) -> str:
    """``"<time>: <text>"`` as shown to the Answer Agent (without the leading ``- ``)."""
    when = format_time(m.event_time) if m.event_time is not None else format_date(m.created_at)
    return f"{when}: {m.text}"


def _json_lines(values: Sequence[object]) -> str:
    """A JSON array with one element per line: readable, and cheaper than indenting."""
    if not values:
        return "[]"
    return "[\n" + ",\n".join(json.dumps(v, ensure_ascii=False) for v in values) + "\n]"


def _msg(role: str, content: str) -> Message:
    return {"role": role, "content": content}


def _fill(template: str, **values: str) -> str:
    # One pass, so a value that itself contains "{facts}" is never filled a second time.
    pattern = "|".join(re.escape(k) for k in values)
    return re.sub(r"\{(" + pattern + r")\}", lambda m: values[m.group(1)], template)
