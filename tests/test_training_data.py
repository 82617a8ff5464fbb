"""Training data (memory_r1.training): teacher-built banks, their JSONL cache, the tuples.

A function teacher stands in for GPT-4o-mini: it extracts each turn as one fact
("<speaker>: <text>") and ADDs every new fact, so each memory's ``sources`` names the turn
it came from. The conv-26 cases need LoCoMo ($MEMORY_R1_LOCOMO or ../shared/data/locomo)
and skip without it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from memory_r1.eval import Conversation, load_locomo, parse_locomo
from memory_r1.exceptions import StorageError
from memory_r1.llms.base import Message
from memory_r1.testing import CallInfo, FunctionLLM, ScriptedLLM
from memory_r1.training import (
    BankBuilder,
    answer_rows,
    answer_tuples,
    linked_turns,
    manager_rows,
    manager_tuples,
)

LOCOMO = Path(
    os.environ.get(
        "MEMORY_R1_LOCOMO",
        Path(__file__).resolve().parents[1].parent / "shared" / "data" / "locomo" / "locomo10.json",
    )
)
needs_locomo = pytest.mark.skipif(not LOCOMO.is_file(), reason=f"LoCoMo not found at {LOCOMO}")


def teacher_reply(messages: list[Message], info: CallInfo) -> str:
    """Extraction: every conversation line is a fact. Manager: ADD every new fact."""
    user = messages[-1]["content"]
    if "Conversation:\n" in user:
        block = user.split("Conversation:\n", 1)[1].split("\n\n", 1)[0]
        return json.dumps({"facts": [line for line in block.splitlines() if line.strip()]})
    facts = json.loads(user.split("New facts:\n", 1)[1].split("\n\nReturn", 1)[0])
    ops = [{"id": f"n{i}", "text": f, "event": "ADD"} for i, f in enumerate(facts)]
    return json.dumps({"memory": ops})


def teacher() -> FunctionLLM:
    return FunctionLLM(teacher_reply, name="test-teacher")


def synthetic_raw(n_turns: int = 12) -> dict[str, Any]:
    """A LoCoMo sample: two speakers alternating over two sessions; questions cite turns 5, 9
    and 5+11, and one adversarial question."""
    turns = [
        {"speaker": "Ann" if i % 2 else "Bo", "dia_id": f"D{1 + i // 7}:{1 + i % 7}",
         "text": f"Turn number {i} says fact {i}."}
        for i in range(n_turns)
    ]  # fmt: skip
    conv = {
        "speaker_a": "Ann",
        "speaker_b": "Bo",
        "session_1_date_time": "9:05 am on 2 March, 2024",
        "session_1": turns[:7],
        "session_2_date_time": "6:30 pm on 9 March, 2024",
        "session_2": turns[7:],
    }
    qa = [
        {"question": "What does turn 4 say?", "answer": "fact 4", "evidence": ["D1:5"],
         "category": 4},
        {"question": "What do turns 4 and 10 say?", "answer": "facts 4 and 10",
         "evidence": ["D1:5", "D2:4"], "category": 1},
        {"question": "What does turn 8 say?", "answer": "fact 8", "evidence": ["D2:2"],
         "category": 2},
        {"question": "Trick?", "adversarial_answer": "x", "evidence": ["D1:1"], "category": 5},
    ]  # fmt: skip
    return {"sample_id": "syn", "conversation": conv, "qa": qa}


def synthetic() -> Conversation:
    return parse_locomo([synthetic_raw()]).conversations[0]


def positions(conv: Conversation) -> dict[str, int]:
    return {turn.dia_id: i for i, (_, turn) in enumerate(conv.iter_turns())}


def test_linked_turns_follow_evidence_in_dialogue_order() -> None:
    linked = linked_turns(synthetic())
    assert list(linked) == ["D1:5", "D2:2", "D2:4"]  # the adversarial question is left out
    assert [q.gold for q in linked["D1:5"]] == ["fact 4", "facts 4 and 10"]


@pytest.mark.parametrize("teacher_spec", ["verbatim", "function"])
def test_temporal_banks_hold_only_the_window_before_the_turn(teacher_spec: str) -> None:
    conv = synthetic()
    builder = BankBuilder(teacher() if teacher_spec == "function" else None, "hashing:64")
    tuples = manager_tuples(conv, builder, window=3)
    where = positions(conv)
    assert [t.dia_id for t in tuples] == ["D1:5", "D2:2", "D2:4"]
    for t in tuples:
        now = where[t.dia_id]
        sources = [where[s] for m in t.bank for s in m.sources]
        assert sorted(sources) == list(range(now - 3, now)), t.dia_id
        assert t.facts and "Turn number" in t.facts[0]
        assert set(t.shown) <= {m.id for m in t.bank}
        assert all(m.actor == t.speaker for m in t.shown_memories().values())
        assert t.text.endswith(f"fact {now}.")


def test_the_manager_prompt_is_the_pipelines_and_rows_carry_the_tuple() -> None:
    tup = manager_tuples(synthetic(), BankBuilder(teacher(), "hashing:64"), window=4)[0]
    (row,) = manager_rows([tup])
    assert row["prompt"] == tup.messages()
    content = row["prompt"][1]["content"]
    assert all(f'"{m.text}"' in content for m in tup.shown_memories().values())
    assert json.loads(row["manager_tuple"])["dia_id"] == tup.dia_id


def test_answer_tuples_take_top_k_per_speaker_from_the_conversation_bank() -> None:
    conv = synthetic()
    builder = BankBuilder(None, "hashing:64")
    bank = builder.conversation_bank(conv)
    assert len(bank.memories) == 12
    tuples = answer_tuples(conv, bank, builder, k=2)
    assert [t.gold for t in tuples] == ["fact 4", "facts 4 and 10", "fact 8"]
    for t in tuples:
        assert [(speaker, len(items)) for speaker, items in t.groups] == [("Ann", 2), ("Bo", 2)]
        assert all(m.actor == speaker for speaker, items in t.groups for m in items)
    row = answer_rows(tuples)[0]
    assert row["gold"] == "fact 4" and "Memories for Ann:" in row["prompt"][1]["content"]


def test_a_cached_bank_reloads_identically_without_the_teacher(tmp_path: Path) -> None:
    conv = synthetic()
    built = manager_tuples(conv, BankBuilder(teacher(), "hashing:64", cache_dir=tmp_path), window=3)
    bank = BankBuilder(teacher(), "hashing:64", cache_dir=tmp_path).conversation_bank(conv)
    silent = ScriptedLLM([], name="test-teacher")  # any call would raise LLMError
    again = BankBuilder(silent, "hashing:64", cache_dir=tmp_path)
    assert manager_tuples(conv, again, window=3) == built
    assert again.conversation_bank(conv) == bank
    assert silent.calls == []
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and files[0].startswith("syn.conversation.")


def test_other_settings_get_their_own_cache_file(tmp_path: Path) -> None:
    conv = synthetic()
    BankBuilder(teacher(), "hashing:64", cache_dir=tmp_path).temporal_banks(conv, ["D1:5"], 3)
    BankBuilder(teacher(), "hashing:64", cache_dir=tmp_path).temporal_banks(conv, ["D1:5"], 4)
    BankBuilder(None, "hashing:64", cache_dir=tmp_path).temporal_banks(conv, ["D1:5"], 3)
    assert len(list(tmp_path.iterdir())) == 3


def test_an_interrupted_cache_resumes_and_a_foreign_one_is_refused(tmp_path: Path) -> None:
    conv = synthetic()
    first = BankBuilder(teacher(), "hashing:64", cache_dir=tmp_path)
    first.temporal_banks(conv, ["D1:5"], 3)
    (path,) = tmp_path.iterdir()
    with path.open("a") as f:
        f.write('{"key": "D2:2", "memo')  # a write cut short
    resumed = BankBuilder(teacher(), "hashing:64", cache_dir=tmp_path)
    banks = resumed.temporal_banks(conv, ["D1:5", "D2:2"], 3)
    assert set(banks) == {"D1:5", "D2:2"}
    assert [json.loads(line).get("key") for line in path.read_text().splitlines()[1:]] == [
        "D1:5",
        "D2:2",
    ]
    path.write_text('{"format": "something else"}\n')
    with pytest.raises(StorageError, match="delete"):
        BankBuilder(teacher(), "hashing:64", cache_dir=tmp_path).temporal_banks(conv, ["D1:5"], 3)


def test_teacher_failures_are_recorded_not_hidden() -> None:
    def flaky(messages: list[Message], info: CallInfo) -> str:
        if any("Turn number 2 " in m["content"] for m in messages):  # re-asks too
            return "not json"
        return teacher_reply(messages, info)

    builder = BankBuilder(FunctionLLM(flaky), "hashing:64")
    snap = builder.temporal_banks(synthetic(), ["D1:5"], 3)["D1:5"]
    assert snap.skipped == ("D1:3",)
    assert [m.sources for m in snap.memories] == [["D1:2"], ["D1:4"]]


@pytest.fixture(scope="module")
def conv26() -> Conversation:
    if not LOCOMO.is_file():
        pytest.skip(f"LoCoMo not found at {LOCOMO}")
    return load_locomo(LOCOMO).split("train")[0]


@needs_locomo
def test_conv26_gives_the_152_training_questions(conv26: Conversation) -> None:
    assert conv26.sample_id == "conv-26"
    builder = BankBuilder(teacher(), "hashing:64")
    bank = builder.conversation_bank(conv26)
    assert len(bank.memories) == conv26.n_turns == 419 and not bank.skipped
    tuples = answer_tuples(conv26, bank, builder)
    assert len(tuples) == 152
    assert len({t.qa_id for t in tuples}) == 152
    assert all(t.category != 5 for t in tuples)
    assert all(len(items) == 30 for t in tuples for _, items in t.groups)
    assert {s for t in tuples for s, _ in t.groups} == {"Caroline", "Melanie"}


@needs_locomo
def test_conv26_manager_tuples_see_only_preceding_turns(conv26: Conversation) -> None:
    assert len(linked_turns(conv26)) == 133
    where = positions(conv26)
    tuples = manager_tuples(conv26, BankBuilder(teacher(), "hashing:64"), window=24, limit=12)
    assert len(tuples) == 12
    for t in tuples:
        now = where[t.dia_id]
        assert all(now - 24 <= where[s] < now for m in t.bank for s in m.sources)
        assert len(t.bank) == min(now, 24)
        assert t.questions and all(q.qa_id.startswith("conv-26/") for q in t.questions)
