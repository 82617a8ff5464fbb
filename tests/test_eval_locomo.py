"""The LoCoMo loader: the real file's counts, split and quirks; our mini file; typed errors.

Tests on the real ``locomo10.json`` (CC BY-NC 4.0, never copied here) are skipped when it is
absent: it is looked up in ``$MEMORY_R1_LOCOMO``, then in ``../shared/data/locomo/`` next to
the repository.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from memory_r1.eval.locomo import (
    CATEGORY_LABELS,
    LOCOMO_ENV_VAR,
    LOCOMO_SHA256,
    NOT_MENTIONED,
    ChecksumWarning,
    LoCoMo,
    category_label,
    clean_evidence,
    download_locomo,
    load_locomo,
    parse_locomo,
    parse_session_datetime,
)
from memory_r1.exceptions import ConfigurationError, InvalidInputError, NotFoundError

MINI = Path(__file__).parent / "data" / "mini_locomo.json"
REAL_DEFAULT = Path(__file__).resolve().parents[1].parent / "shared/data/locomo/locomo10.json"


def _real_path() -> Path:
    path = Path(os.environ.get(LOCOMO_ENV_VAR) or REAL_DEFAULT)
    if not path.is_file():
        pytest.skip(f"locomo10.json not found (${LOCOMO_ENV_VAR} or {REAL_DEFAULT})")
    return path


@pytest.fixture(scope="module")
def real() -> LoCoMo:
    return load_locomo(_real_path())


@pytest.fixture(scope="module")
def real_raw() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(_real_path().read_text(encoding="utf-8"))
    return data


@pytest.fixture
def mini_raw() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(MINI.read_text(encoding="utf-8"))
    return data


# --- the real file -------------------------------------------------------------------------------


def test_real_counts(real: LoCoMo) -> None:
    assert real.official and real.sha256 == LOCOMO_SHA256
    assert len(real.conversations) == 10
    assert sum(len(c.sessions) for c in real.conversations) == 272
    assert real.n_turns == 5882
    assert len(real.questions(include_adversarial=True)) == 1986
    assert len(real.questions()) == 1540
    counts = Counter(q.category for q in real.questions(include_adversarial=True))
    assert counts == {1: 282, 2: 321, 3: 96, 4: 841, 5: 446}


def test_paper_split(real: LoCoMo) -> None:
    assert [c.sample_id for c in real.split("train")] == ["conv-26"]
    assert [c.sample_id for c in real.split("validation")] == ["conv-30"]
    assert len(real.split("test")) == 8
    assert (len(real.questions("train")), len(real.questions("validation"))) == (152, 81)
    assert len(real.questions("test")) == 1307
    assert len(real.questions("train", include_adversarial=True)) == 199
    assert Counter(q.category for q in real.questions("test")) == {1: 239, 2: 258, 3: 83, 4: 727}


def test_sessions_without_turns_are_skipped_but_recorded(real: LoCoMo) -> None:
    conv26 = real.conversation("conv-26")
    assert [s.number for s in conv26.sessions] == list(range(1, 20))
    assert conv26.dangling_dates == tuple(range(20, 36))
    assert all(c.dangling_dates == () for c in real.conversations if c.sample_id != "conv-26")


def test_dates_parse_like_strptime_and_are_chronological(real: LoCoMo) -> None:
    for conv in real.conversations:
        for session in conv.sessions:
            expected = datetime.strptime(session.date_time_text, "%I:%M %p on %d %B, %Y")
            assert session.date_time == expected
        times = [s.date_time for s in conv.sessions]
        assert times == sorted(times) and len(set(times)) == len(times)


def test_turn_ids_speakers_and_captions(real: LoCoMo) -> None:
    for conv in real.conversations:
        for _session, turn in conv.iter_turns():
            assert turn.speaker in (conv.speaker_a, conv.speaker_b)
        for session in conv.sessions:
            assert [t.dia_id for t in session.turns] == [
                f"D{session.number}:{i + 1}" for i in range(len(session.turns))
            ]
    captions = sum(1 for c in real.conversations for _, t in c.iter_turns() if t.image_caption)
    assert captions == 1226


def test_evidence_is_cleaned_and_raw_kept(real: LoCoMo) -> None:
    qas = real.questions(include_adversarial=True)
    known = {c.sample_id: {t.dia_id for _, t in c.iter_turns()} for c in real.conversations}
    assert all(set(q.evidence) <= known[q.sample_id] for q in qas)
    changed = {q.qa_id: q for q in qas if q.evidence != q.evidence_raw}
    # nine irregular strings in nine questions, plus one id listed twice (conv-50)
    assert len(changed) == 10
    by_raw = {q.evidence_raw: q.evidence for q in changed.values()}
    assert by_raw[("D30:05",)] == ("D30:5",)
    assert by_raw[("D8:6; D9:17",)] == ("D8:6", "D9:17")
    assert by_raw[("D4:5", "D4:5", "D5:5")] == ("D4:5", "D5:5")
    dropped = [e for q in changed.values() for e in q.evidence_raw if e in ("D", "D10:19", "D4:36")]
    assert len(dropped) == 3
    assert not any("D4:36" in q.evidence for q in changed.values() if q.sample_id == "conv-47")
    assert sum(1 for q in qas if not q.evidence_raw) == 4  # four category-3 items cite nothing


def test_answers_become_strings(real: LoCoMo, real_raw: list[dict[str, Any]]) -> None:
    raw_answers = [qa.get("answer") for sample in real_raw for qa in sample["qa"]]
    loaded = real.questions(include_adversarial=True)
    assert sum(isinstance(a, int) for a in raw_answers) == 6
    assert [q.answer for q in loaded] == [None if a is None else str(a) for a in raw_answers]


def test_adversarial_items(real: LoCoMo) -> None:
    adversarial = [q for q in real.questions(include_adversarial=True) if q.adversarial]
    assert len(adversarial) == 446
    assert all(q.adversarial_answer for q in adversarial)
    assert sum(q.answer is None for q in adversarial) == 444
    assert all(q.gold == NOT_MENTIONED for q in adversarial if q.answer is None)
    assert not any(q.adversarial_answer for q in real.questions())


def test_duplicate_questions_are_kept_with_distinct_ids(real: LoCoMo) -> None:
    qas = real.questions(include_adversarial=True)
    assert len({q.qa_id for q in qas}) == len(qas)
    repeats = {
        c.sample_id: sum(n - 1 for n in Counter(q.question for q in c.qa).values())
        for c in real.conversations
    }
    assert {k: v for k, v in repeats.items() if v} == {"conv-30": 1, "conv-48": 11}


# --- the mini file -------------------------------------------------------------------------------


def test_mini_file_loads_with_its_own_checksum_only_when_asked() -> None:
    with pytest.raises(InvalidInputError, match="sha256"):
        load_locomo(MINI)
    data = load_locomo(MINI, verify="off")
    assert not data.official and data.sha256 == hashlib.sha256(MINI.read_bytes()).hexdigest()
    assert load_locomo(MINI, sha256=data.sha256) == data


def test_mini_file_shape() -> None:
    data = load_locomo(MINI, verify="off")
    (conv,) = data.conversations
    assert (conv.speaker_a, conv.speaker_b) == ("Rosa", "Tomas")
    assert [s.number for s in conv.sessions] == [1, 2, 3] and conv.dangling_dates == (4,)
    assert conv.sessions[0].date_time == datetime(2023, 3, 3, 10, 15)
    assert conv.sessions[1].date_time == datetime(2023, 4, 18, 19, 40)
    assert conv.n_turns == 15
    assert conv.sessions[0].turns[5].image_caption is not None
    assert {q.category for q in conv.qa} == {1, 2, 3, 4, 5}
    # the fact that changes: Rosa lives in Lisbon in session 1, in Porto by session 3
    assert "Lisbon" in conv.sessions[0].turns[2].text and "Porto" in conv.sessions[2].turns[0].text
    assert conv.qa[1].evidence == ("D2:2", "D3:1")  # "D3:01" cleaned
    assert conv.qa[3].answer == "2023"  # an integer in the file
    assert conv.qa[4].evidence == ("D1:3", "D2:2", "D3:1")  # "D1:3; D2:2" split
    assert conv.qa[6].evidence == ("D3:3",)  # "D9:9" does not exist
    assert conv.qa[7].answer is None and conv.qa[7].gold == NOT_MENTIONED


def test_mini_split_puts_unknown_conversations_in_test() -> None:
    data = load_locomo(MINI, verify="off")
    assert data.split("train") == () and data.split("validation") == ()
    assert len(data.questions("test")) == 7
    assert len(data.questions("test", include_adversarial=True)) == 8


def test_lookup_errors() -> None:
    data = load_locomo(MINI, verify="off")
    with pytest.raises(NotFoundError):
        data.conversation("conv-99")
    with pytest.raises(InvalidInputError, match="split"):
        data.split("dev")  # type: ignore[arg-type]


# --- where the file comes from ------------------------------------------------------------------


def test_path_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOCOMO_ENV_VAR, str(MINI))
    assert load_locomo(verify="off").source == str(MINI)


def test_no_path_anywhere_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOCOMO_ENV_VAR, raising=False)
    with pytest.raises(ConfigurationError, match="download=True"):
        load_locomo()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="not found"):
        load_locomo(tmp_path / "nope.json")


def test_checksum_warning_option(tmp_path: Path, mini_raw: list[dict[str, Any]]) -> None:
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(mini_raw), encoding="utf-8")
    with pytest.warns(ChecksumWarning, match="sha256"):
        data = load_locomo(path, verify="warn")
    assert data.n_turns == 15
    with pytest.raises(InvalidInputError):
        load_locomo(path, verify="maybe")  # type: ignore[arg-type]


def test_malformed_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[{"sample_id": ', encoding="utf-8")
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        load_locomo(path, verify="off")


def test_download_verifies_and_caches(tmp_path: Path) -> None:
    digest = hashlib.sha256(MINI.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    got = download_locomo(cache, url=MINI.as_uri(), sha256=digest)
    assert got == cache / "locomo10.json" and got.read_bytes() == MINI.read_bytes()
    # a verified copy is reused: the URL is not read again
    assert download_locomo(cache, url=(tmp_path / "gone.json").as_uri(), sha256=digest) == got


def test_download_with_wrong_digest_leaves_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(InvalidInputError, match="sha256"):
        download_locomo(cache, url=MINI.as_uri(), sha256="0" * 64)
    assert not cache.exists() or list(cache.iterdir()) == []
    with pytest.raises(NotFoundError, match="could not download"):
        download_locomo(cache, url=(tmp_path / "gone.json").as_uri())


def test_load_with_download_uses_a_verified_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LOCOMO_ENV_VAR, raising=False)
    digest = hashlib.sha256(MINI.read_bytes()).hexdigest()
    download_locomo(tmp_path, url=MINI.as_uri(), sha256=digest)
    data = load_locomo(download=True, cache_dir=tmp_path, sha256=digest)
    assert data.source == str(tmp_path / "locomo10.json")


# --- layout errors --------------------------------------------------------------------------------


def _break(raw: list[dict[str, Any]], how: str) -> Any:
    broken = copy.deepcopy(raw)
    conv, qa = broken[0]["conversation"], broken[0]["qa"]
    if how == "not a list":
        return broken[0]
    if how == "stranger":
        conv["session_1"][0]["speaker"] = "Mallory"
    elif how == "no date":
        del conv["session_2_date_time"]
    elif how == "bad date":
        conv["session_1_date_time"] = "2023-03-03 10:15"
    elif how == "bad category":
        qa[0]["category"] = 6
    elif how == "no answer":
        del qa[0]["answer"]
    elif how == "duplicate dia_id":
        conv["session_1"][1]["dia_id"] = "D1:1"
    elif how == "text missing":
        del conv["session_3"][0]["text"]
    elif how == "answer is a list":
        qa[0]["answer"] = ["Pixel"]
    return broken


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("not a list", "JSON list"),
        ("stranger", "Mallory"),
        ("no date", "session_2_date_time"),
        ("bad date", "session date"),
        ("bad category", "category 6"),
        ("no answer", "needs an 'answer'"),
        ("duplicate dia_id", "duplicate dia_id"),
        ("text missing", "session_3\\[0\\]: missing 'text'"),
        ("answer is a list", "'answer' has type list"),
    ],
)
def test_bad_layout_is_a_typed_error(
    mini_raw: list[dict[str, Any]], how: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_locomo(_break(mini_raw, how))


# --- small pure helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12:06 am on 11 November, 2022", datetime(2022, 11, 11, 0, 6)),
        ("12:30 pm on 1 January, 2023", datetime(2023, 1, 1, 12, 30)),
        ("1:56 pm on 8 May, 2023", datetime(2023, 5, 8, 13, 56)),
        ("9:00 AM on 29 February, 2024", datetime(2024, 2, 29, 9, 0)),
    ],
)
def test_session_datetime(text: str, expected: datetime) -> None:
    assert parse_session_datetime(text) == expected


@pytest.mark.parametrize(
    "text",
    ["13:00 pm on 1 May, 2023", "1:56 pm on 31 February, 2023", "1:56 pm on 8 Mai, 2023", ""],
)
def test_bad_session_datetime(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_session_datetime(text)


def test_clean_evidence() -> None:
    known = {"D1:2", "D11:26", "D30:5"}
    assert clean_evidence(["D:11:26", "D30:05 D1:2", "D", "", "D1:2", "d1:2", "D2:1"], known) == (
        "D11:26",
        "D30:5",
        "D1:2",
    )


def test_category_label_maps() -> None:
    assert [category_label(c) for c in range(1, 6)] == [
        "multi-hop",
        "temporal",
        "open-domain",
        "single-hop",
        "adversarial",
    ]
    assert [category_label(c, "mem0") for c in range(1, 6)] == [
        "single-hop",
        "temporal",
        "multi-hop",
        "open-domain",
        "adversarial",
    ]
    with pytest.raises(InvalidInputError, match="scheme"):
        category_label(1, "memory-r1-paper")
    with pytest.raises(InvalidInputError, match="category"):
        category_label(7)
    with pytest.raises(TypeError):
        CATEGORY_LABELS["mem0"][1] = "x"  # type: ignore[index]
