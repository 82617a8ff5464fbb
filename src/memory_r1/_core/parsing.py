"""Parse and validate the extractor's and the Memory Manager's outputs; build re-asks. Pure.

The model is shown short ids ("0", "1", ...) instead of UUIDs (``short_ids``); parsing maps
them back and rejects any id it was not shown. A manager output is validated whole before
anything is produced: one bad entry rejects the lot, and ``OutputError`` lists every
problem found so that a re-ask (``reask_messages``) can show them all to the model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple, TypeVar, cast
from uuid import UUID, uuid4

from memory_r1._core.ops import AddOp, DeleteOp, UpdateOp, WriteOp
from memory_r1._core.schemas import DEFAULT_MAX_FACTS
from memory_r1.llms.base import Message
from memory_r1.types import MemoryItem, Scope

__all__ = [
    "REASK_JSON",
    "ManagerDecision",
    "ManagerEvent",
    "OpRecord",
    "OutputError",
    "extract_json",
    "parse_facts",
    "parse_manager",
    "reask_messages",
    "short_ids",
]

M = TypeVar("M", bound=MemoryItem)
ManagerEvent = Literal["ADD", "UPDATE", "DELETE", "NONE"]

REASK_JSON = "Reply again with only valid JSON of the required shape."
_EVENTS: dict[str, ManagerEvent] = {
    "ADD": "ADD",
    "UPDATE": "UPDATE",
    "DELETE": "DELETE",
    "NONE": "NONE",
    "NOOP": "NONE",
}
_MAX_LISTED = 20  # problems quoted in one error; a re-ask need not repeat hundreds
_DECODER = json.JSONDecoder()


class OutputError(ValueError):
    """A policy's output is invalid; ``problems`` lists each thing wrong with it."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems) or [message]


class OpRecord(NamedTuple):
    """One decision of the Memory Manager, for reports (NONE included)."""

    event: ManagerEvent
    short_id: str  # for ADD, the id the model wrote (it is not used)
    text: str  # the new text for ADD/UPDATE, the memory's text for DELETE/NONE
    old_text: str | None  # the memory's text before an UPDATE


@dataclass(frozen=True)
class ManagerDecision:
    """The write operations planned from one manager output, and what was decided."""

    ops: list[WriteOp] = field(default_factory=list)
    records: list[OpRecord] = field(default_factory=list)


def short_ids(memories: Iterable[M]) -> dict[str, M]:
    """Number ``memories`` ``"0"``, ``"1"``, ... in order, dropping repeats of one id.

    Example:
        >>> short_ids([])
        {}
    """
    out: dict[str, M] = {}
    seen: set[UUID] = set()
    for m in memories:
        if m.id not in seen:
            seen.add(m.id)
            out[str(len(out))] = m
    return out


def extract_json(text: str, *, key: str | None = None) -> dict[str, Any]:
    """The first JSON object in ``text``, ignoring code fences and chatter around it.

    Args:
        text: the model's output.
        key: when given, the first object that has this key (a nested one counts).

    Raises:
        OutputError: no such object, with the decoder's first complaint.

    Example:
        >>> extract_json('Sure! ```json\\n{"facts": []}\\n```')
        {'facts': []}
    """
    complaint = ""
    found_other = False
    for start in (m.start() for m in re.finditer(r"\{", text)):
        try:
            value, _ = _DECODER.raw_decode(text, start)
        except ValueError as e:  # JSONDecodeError, or an integer too long to convert
            complaint = complaint or f" (at char {start}: {e})"
            continue
        except RecursionError:
            complaint = complaint or f" (at char {start}: nested too deeply)"
            continue
        if isinstance(value, dict) and (key is None or key in value):
            return value
        found_other = True
    if key is not None and found_other:
        raise OutputError(f'no JSON object with the key "{key}" found{complaint}')
    raise OutputError(f"no valid JSON object found{complaint}")


def parse_facts(text: str, max_facts: int = DEFAULT_MAX_FACTS) -> list[str]:
    """The facts of an extractor output ``{"facts": ["...", ...]}``.

    Facts are stripped; blank ones and exact repeats are dropped.

    Raises:
        OutputError: not that shape, or more than ``max_facts`` facts.

    Example:
        >>> parse_facts('{"facts": [" Tom has a dog ", "Tom has a dog", ""]}')
        ['Tom has a dog']
    """
    facts = extract_json(text, key="facts")["facts"]
    if not isinstance(facts, list):
        raise OutputError(f'"facts" must be a list of strings, got {type(facts).__name__}')
    bad = [
        f"facts[{i}] is a {type(f).__name__}" for i, f in enumerate(facts) if not isinstance(f, str)
    ]
    if bad:
        raise OutputError(_problems_message('"facts" must hold only strings', bad), bad)
    out = list(dict.fromkeys(s for f in facts if (s := f.strip())))
    if len(out) > max_facts:
        raise OutputError(f"at most {max_facts} facts are allowed, got {len(out)}")
    return out


@dataclass(frozen=True)
class _Entry:
    index: int
    event: ManagerEvent
    short_id: str
    text: str


def parse_manager(
    text: str,
    shown: Mapping[str, MemoryItem],
    *,
    scope: Scope,
    actor: str | None = None,
    event_time: datetime | None = None,
    source: str | None = None,
    new_id_factory: Callable[[], UUID] = uuid4,
    verbatim: Collection[str] | None = None,
) -> ManagerDecision:
    """Validate a Memory Manager output and plan its write operations.

    The whole output is checked first: ``{"memory": [...]}``; each entry has ``id``,
    ``text`` and ``event`` (ADD, UPDATE, DELETE or NONE; NOOP means NONE; any case);
    UPDATE, DELETE and NONE name a shown id; ADD and UPDATE have non-blank text; no id gets
    two different operations. Then, leniently: an ADD of a shown memory's exact text, or an
    UPDATE that keeps the text, counts as NONE; repeated identical entries count once.

    Args:
        text: the model's output.
        shown: the memories the model was shown, by short id.
        scope: the scope of new memories.
        actor: recorded on every operation.
        event_time: the event time of new memories and of updated ones.
        source: e.g. the dialogue turn id; recorded on every operation and in ``sources``.
        new_id_factory: gives the id of each new memory.
        verbatim: when given, ADD and UPDATE must write one of these texts exactly.

    Returns:
        The planned ``AddOp`` / ``UpdateOp`` / ``DeleteOp`` in output order, and one
        ``OpRecord`` per decision (at most one per shown memory).

    Raises:
        OutputError: anything wrong; ``problems`` lists all of it and nothing is planned.
    """
    entries, problems = _check_entries(text, shown)
    if verbatim is not None:
        problems += [
            f"entry {e.index}: {e.event} must write one of the new facts word for word"
            for e in entries
            if e.event in ("ADD", "UPDATE") and e.text not in verbatim
        ]
    if problems:
        raise OutputError(_problems_message("invalid memory operations", problems), problems)
    sources = (source,) if source else ()
    ops: list[WriteOp] = []
    records: list[OpRecord] = []
    for e in entries:
        old = shown[e.short_id] if e.event != "ADD" else None
        if old is None:
            ops.append(
                AddOp(id=new_id_factory(), text=e.text, scope=scope, actor=actor,
                      event_time=event_time, sources=sources, source=source)
            )  # fmt: skip
            records.append(OpRecord("ADD", e.short_id, e.text, None))
        elif e.event == "UPDATE":
            ops.append(
                UpdateOp(id=old.id, text=e.text, event_time=event_time, sources=sources,
                         actor=actor, source=source)
            )  # fmt: skip
            records.append(OpRecord("UPDATE", e.short_id, e.text, old.text))
        else:
            if e.event == "DELETE":
                ops.append(DeleteOp(id=old.id, actor=actor, source=source))
            records.append(OpRecord(e.event, e.short_id, old.text, None))
    return ManagerDecision(ops=ops, records=records)


def _check_entries(text: str, shown: Mapping[str, MemoryItem]) -> tuple[list[_Entry], list[str]]:
    """Every entry normalised, or the problems found; repeats and no-ops folded."""
    try:
        raw = extract_json(text, key="memory")["memory"]
    except OutputError as e:
        return [], [str(e)]
    if not isinstance(raw, list):
        return [], [f'"memory" must be a list of operations, got {type(raw).__name__}']
    problems: list[str] = []
    checked: list[_Entry] = []
    for i, item in enumerate(raw):
        entry = _check_entry(i, item, shown, problems)
        if entry is not None:
            checked.append(_as_noop(entry, shown))
    claims: dict[str, _Entry] = {}
    added: set[str] = set()
    out: list[_Entry] = []
    for ent in checked:
        if ent.event == "ADD":
            if ent.text not in added:
                added.add(ent.text)
                out.append(ent)
            continue
        first = claims.setdefault(ent.short_id, ent)
        if first is ent:
            out.append(ent)
        elif (first.event, first.text) != (ent.event, ent.text):
            problems.append(
                f"entry {ent.index}: id '{ent.short_id}' already has {first.event} "
                f"(entry {first.index}); give each memory one operation only"
            )
    return _fold_duplicate_adds(out, shown, claims), problems


def _check_entry(
    i: int, item: object, shown: Mapping[str, MemoryItem], problems: list[str]
) -> _Entry | None:
    """The entry normalised, or None after appending its problems."""
    if not isinstance(item, dict):
        problems.append(f"entry {i}: expected an object, got {type(item).__name__}")
        return None
    found = len(problems)
    missing = [k for k in ("id", "text", "event") if k not in item]
    if missing:
        problems.append(f"entry {i}: missing {', '.join(missing)}")
    raw_id, text, raw_event = item.get("id"), item.get("text"), item.get("event")
    event = _EVENTS.get(raw_event.strip().upper()) if isinstance(raw_event, str) else None
    if "event" in item and event is None:
        problems.append(f"entry {i}: event {raw_event!r} is not one of ADD, UPDATE, DELETE, NONE")
    if "text" in item and not isinstance(text, str):
        problems.append(f"entry {i}: text must be a string")
    short_id = _id_str(raw_id)
    if event in ("UPDATE", "DELETE", "NONE") and "id" in item:
        if short_id is None:
            problems.append(f"entry {i}: id must be a string, got {raw_id!r}")
        elif short_id not in shown:
            problems.append(f"entry {i}: id '{short_id}' was not shown ({_shown_ids(shown)})")
    clean = text.strip() if isinstance(text, str) else ""
    if event in ("ADD", "UPDATE") and isinstance(text, str) and not clean:
        problems.append(f"entry {i}: {event} needs a non-blank text")
    if len(problems) > found or event is None:
        return None
    return _Entry(i, event, short_id or "", clean)


def _as_noop(e: _Entry, shown: Mapping[str, MemoryItem]) -> _Entry:
    if e.event == "UPDATE" and shown[e.short_id].text.strip() == e.text:
        return _Entry(e.index, "NONE", e.short_id, "")
    if e.event in ("DELETE", "NONE"):
        return _Entry(e.index, e.event, e.short_id, "")  # their text plays no part
    return e


def _fold_duplicate_adds(
    entries: list[_Entry], shown: Mapping[str, MemoryItem], claims: dict[str, _Entry]
) -> list[_Entry]:
    """Turn each ADD of a shown memory's exact text into NONE (once, unless already claimed)."""
    by_text: dict[str, str] = {}
    for sid, m in shown.items():
        by_text.setdefault(m.text.strip(), sid)
    out: list[_Entry] = []
    for e in entries:
        match = by_text.get(e.text) if e.event == "ADD" else None
        if match is None:
            out.append(e)
        elif match not in claims:
            claims[match] = e
            out.append(_Entry(e.index, "NONE", match, ""))
    return out


def _id_str(raw: object) -> str | None:
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)  # models often drop the quotes
    return None


def _shown_ids(shown: Mapping[str, MemoryItem]) -> str:
    if not shown:
        return "no memories were shown, so only ADD is possible"
    return "shown ids: " + ", ".join(shown)


def _problems_message(title: str, problems: Sequence[str]) -> str:
    lines = [f"- {p}" for p in problems[:_MAX_LISTED]]
    if len(problems) > _MAX_LISTED:
        lines.append(f"- ... and {len(problems) - _MAX_LISTED} more")
    return f"{title}:\n" + "\n".join(lines)


def reask_messages(
    messages: Sequence[Message],
    bad_output: str,
    error: str | BaseException,
    *,
    instruction: str = REASK_JSON,
) -> list[Message]:
    """A new message list: ``messages``, the bad output, and a request to try again.

    ``messages`` and its dicts are left untouched (the result holds copies).

    Args:
        messages: the messages that produced ``bad_output``.
        bad_output: the model's invalid output, sent back as the assistant's turn.
        error: what was wrong (an ``OutputError`` or its message).
        instruction: what to do instead (``answer_parsing.REASK_ANSWER`` for the Answer Agent).

    Example:
        >>> msgs = [{"role": "user", "content": "hi"}]
        >>> len(reask_messages(msgs, "oops", "not JSON")), len(msgs)
        (3, 1)
    """
    problem = str(error).strip()
    if "\n" in problem:  # a list of problems keeps its own lines
        request = f"Your output was invalid: {problem}\n\n{instruction}"
    else:
        request = f"Your output was invalid: {problem.rstrip('.')}. {instruction}"
    return [
        *(cast(Message, dict(m)) for m in messages),
        {"role": "assistant", "content": bad_output},
        {"role": "user", "content": request},
    ]
