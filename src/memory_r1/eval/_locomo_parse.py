"""The pure core of the LoCoMo loader: JSON already in memory to typed values, quirks absorbed.

``memory_r1.eval.locomo`` re-exports ``parse_locomo``, ``parse_session_datetime`` and
``clean_evidence``; its docstring lists the quirks handled here.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping
from datetime import datetime
from typing import Any

from memory_r1.eval._locomo_types import QA, Conversation, LoCoMo, Session, Turn
from memory_r1.exceptions import InvalidInputError

__all__ = ["clean_evidence", "parse_locomo", "parse_session_datetime"]

_MONTHS = "january february march april may june july august september october november december"
_MONTH = {name: i + 1 for i, name in enumerate(_MONTHS.split())}
_DATE = re.compile(
    r"\s*(\d{1,2}):(\d{2})\s*([ap]m)\s+on\s+(\d{1,2})\s+([a-z]+),?\s+(\d{4})\s*", re.IGNORECASE
)
_SESSION_KEY = re.compile(r"session_(\d+)")
_DATE_KEY = re.compile(r"session_(\d+)_date_time")
_EVIDENCE_ID = re.compile(r"D:?(\d+):(\d+)")


def parse_session_datetime(text: str) -> datetime:
    """Parse LoCoMo's ``"%I:%M %p on %d %B, %Y"`` (English month names, any locale).

    Raises:
        InvalidInputError: not that format, or not a real date.

    Example:
        >>> parse_session_datetime("1:56 pm on 8 May, 2023")
        datetime.datetime(2023, 5, 8, 13, 56)
    """
    m = _DATE.fullmatch(text)
    month = _MONTH.get(m[5].lower(), 0) if m else 0
    if not m or not month or not 1 <= int(m[1]) <= 12:
        raise InvalidInputError(f"not a LoCoMo session date ('1:56 pm on 8 May, 2023'): {text!r}")
    hour = int(m[1]) % 12 + (12 if m[3].lower() == "pm" else 0)
    try:
        return datetime(int(m[6]), month, int(m[4]), hour, int(m[2]))
    except ValueError as e:
        raise InvalidInputError(f"not a real date: {text!r} ({e})") from e


def clean_evidence(raw: Iterable[str], known: Container[str]) -> tuple[str, ...]:
    """Evidence dia_ids cleaned of LoCoMo's malformed entries.

    Each string is split on ``;`` and whitespace; each piece must read ``D<s>:<t>`` (a stray
    ``:`` after the D is forgiven), leading zeros are dropped, and ids not in ``known`` or seen
    before are left out.

    Example:
        >>> known = {"D8:6", "D9:17", "D1:2", "D30:5"}
        >>> clean_evidence(["D8:6; D9:17", "D:1:2", "D30:05", "D", "D9:99", "D1:2"], known)
        ('D8:6', 'D9:17', 'D1:2', 'D30:5')
    """
    out: list[str] = []
    for item in raw:
        for piece in re.split(r"[;\s]+", item.strip()):
            m = _EVIDENCE_ID.fullmatch(piece)
            dia_id = f"D{int(m[1])}:{int(m[2])}" if m else ""
            if dia_id and dia_id in known and dia_id not in out:
                out.append(dia_id)
    return tuple(out)


# --- parsing: the pure core ---------------------------------------------------------------------


def _field(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in obj:
        raise InvalidInputError(f"{where}: missing {key!r}")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidInputError(f"{where}: {key!r} has type {type(value).__name__}")
    return value


def _optional_str(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    return _field(obj, key, str, where) if obj.get(key) is not None else None


def _parse_turn(raw: Any, speakers: tuple[str, str], where: str) -> Turn:
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{where}: a turn must be an object")
    speaker = _field(raw, "speaker", str, where)
    if speaker not in speakers:
        raise InvalidInputError(f"{where}: speaker {speaker!r} is neither of {speakers}")
    urls = raw.get("img_url") or []
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise InvalidInputError(f"{where}: 'img_url' must be a list of strings")
    return Turn(
        dia_id=_field(raw, "dia_id", str, where),
        speaker=speaker,
        text=_field(raw, "text", str, where),
        image_caption=_optional_str(raw, "blip_caption", where),
        image_urls=tuple(urls),
        image_query=_optional_str(raw, "query", where),
    )


def _parse_sessions(
    conv: Mapping[str, Any], where: str
) -> tuple[tuple[Session, ...], tuple[int, ...]]:
    speakers = (_field(conv, "speaker_a", str, where), _field(conv, "speaker_b", str, where))
    dates = {int(m[1]): v for k, v in conv.items() if (m := _DATE_KEY.fullmatch(k))}
    sessions: list[Session] = []
    for key, turns in conv.items():
        if not (m := _SESSION_KEY.fullmatch(key)):
            continue
        number, at = int(m[1]), f"{where} {key}"
        if not isinstance(turns, list):
            raise InvalidInputError(f"{at}: a session must be a list of turns")
        if not isinstance(dates.get(number), str):
            raise InvalidInputError(f"{at}: no {key}_date_time")
        sessions.append(
            Session(
                number=number,
                date_time=parse_session_datetime(dates[number]),
                date_time_text=dates[number],
                turns=tuple(_parse_turn(t, speakers, f"{at}[{i}]") for i, t in enumerate(turns)),
            )
        )
    sessions.sort(key=lambda s: s.number)
    dangling = tuple(sorted(set(dates) - {s.number for s in sessions}))
    return tuple(sessions), dangling


def _parse_answer(raw: Mapping[str, Any], category: int, where: str) -> str | None:
    if raw.get("answer") is None:
        if category != 5:
            raise InvalidInputError(f"{where}: a category-{category} question needs an 'answer'")
        return None
    return str(_field(raw, "answer", (str, int), where))


def _parse_qa(raw: Any, sample_id: str, index: int, known: set[str]) -> QA:
    where = f"{sample_id} qa[{index}]"
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{where}: a question must be an object")
    category = _field(raw, "category", int, where)
    if category not in (1, 2, 3, 4, 5):
        raise InvalidInputError(f"{where}: category {category} is not 1-5")
    evidence = raw.get("evidence", [])
    if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
        raise InvalidInputError(f"{where}: 'evidence' must be a list of strings")
    return QA(
        sample_id=sample_id,
        index=index,
        question=_field(raw, "question", str, where),
        answer=_parse_answer(raw, category, where),
        category=category,
        evidence=clean_evidence(evidence, known),
        evidence_raw=tuple(evidence),
        adversarial_answer=_optional_str(raw, "adversarial_answer", where),
    )


def _parse_conversation(raw: Any, position: int) -> Conversation:
    if not isinstance(raw, dict):
        raise InvalidInputError(f"sample {position}: must be an object")
    sample_id = _field(raw, "sample_id", str, f"sample {position}")
    conv = _field(raw, "conversation", dict, sample_id)
    sessions, dangling = _parse_sessions(conv, sample_id)
    ids = [t.dia_id for s in sessions for t in s.turns]
    if len(set(ids)) != len(ids):
        raise InvalidInputError(f"{sample_id}: duplicate dia_id")
    qa = _field(raw, "qa", list, sample_id)
    known = set(ids)
    return Conversation(
        sample_id=sample_id,
        speaker_a=conv["speaker_a"],
        speaker_b=conv["speaker_b"],
        sessions=sessions,
        qa=tuple(_parse_qa(q, sample_id, i, known) for i, q in enumerate(qa)),
        dangling_dates=dangling,
    )


def parse_locomo(raw: Any, *, source: str = "<memory>", sha256: str = "") -> LoCoMo:
    """Build a ``LoCoMo`` from decoded JSON in the ``locomo10.json`` layout.

    Args:
        raw: the decoded file: a list of samples.
        source: where it came from, recorded on the result.
        sha256: the sha256 of the bytes it was decoded from, if known.

    Raises:
        InvalidInputError: the layout is wrong; the message says where.

    Example:
        >>> sample = {"sample_id": "s1", "conversation": {"speaker_a": "Ann", "speaker_b": "Bo",
        ...     "session_1_date_time": "9:05 am on 2 March, 2024",
        ...     "session_1": [{"speaker": "Ann", "dia_id": "D1:1", "text": "I moved to Oslo."}]},
        ...     "qa": [{"question": "Where does Ann live?", "answer": "Oslo", "evidence": ["D1:01"],
        ...             "category": 4}]}
        >>> data = parse_locomo([sample])
        >>> data.conversations[0].sessions[0].date_time, data.questions()[0].evidence
        (datetime.datetime(2024, 3, 2, 9, 5), ('D1:1',))
    """
    if not isinstance(raw, list):
        raise InvalidInputError(
            f"LoCoMo data must be a JSON list of samples, got {type(raw).__name__}"
        )
    conversations = tuple(_parse_conversation(s, i) for i, s in enumerate(raw))
    if len({c.sample_id for c in conversations}) != len(conversations):
        raise InvalidInputError("duplicate sample_id in LoCoMo data")
    return LoCoMo(conversations=conversations, source=source, sha256=sha256)
