"""Prompt building: what each prompt shows, the prompts as data, and their hash."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from memory_r1._core.prompts import (
    Prompts,
    answer_messages,
    extraction_messages,
    format_date,
    format_time,
    manager_messages,
    memory_line,
    prompts_hash,
)
from memory_r1._core.schemas import (
    FACTS_SCHEMA,
    MANAGER_SCHEMA,
    facts_schema,
    manager_schema,
)
from memory_r1.types import MemoryItem, Scope, ScoredMemory

T0 = datetime(2023, 6, 16, 19, 20, tzinfo=UTC)
CREATED = datetime(2025, 1, 2, 9, 5, tzinfo=UTC)


def item(text: str, event_time: datetime | None = T0, score: float = 0.5) -> ScoredMemory:
    return ScoredMemory(
        id=uuid4(),
        text=text,
        scope=Scope(user_id="u"),
        event_time=event_time,
        created_at=CREATED,
        updated_at=CREATED,
        score=score,
    )


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (datetime(2023, 6, 16, 19, 20), "7:20 pm on 16 June, 2023"),
        (datetime(2023, 5, 8, 0, 5), "12:05 am on 8 May, 2023"),
        (datetime(2023, 5, 8, 12, 0), "12:00 pm on 8 May, 2023"),
        (datetime(2022, 1, 1, 9, 56), "9:56 am on 1 January, 2022"),
    ],
)
def test_format_time_like_locomo(t: datetime, expected: str) -> None:
    assert format_time(t) == expected


def test_format_date() -> None:
    assert format_date(T0) == "16 June, 2023"


# -- extraction --------------------------------------------------------------------------


def test_extraction_shows_turns_and_session_time() -> None:
    turns = [("Priya", "I adopted a cat yesterday!"), ("Tom", "So cool.")]
    system, user = extraction_messages(Prompts(), turns, datetime(2023, 5, 8, 14, 15))
    assert system["role"] == "system" and user["role"] == "user"
    assert "Priya: I adopted a cat yesterday!\nTom: So cool." in user["content"]
    assert "2:15 pm on 8 May, 2023 (Monday)" in user["content"]
    assert '{"facts"' in user["content"]
    # The instructions explain how relative dates are resolved against that time.
    assert "yesterday" in system["content"] and "session time" in system["content"]
    assert "pronoun" in system["content"]


def test_extraction_without_session_time_says_unknown() -> None:
    _, user = extraction_messages(Prompts(), [("Tom", "hi")], None)
    assert "Session time: unknown" in user["content"]


def test_extraction_text_with_braces_and_slot_names_is_shown_verbatim() -> None:
    turns = [("Tom", "my {turns} and {session_time} and {x}")]
    _, user = extraction_messages(Prompts(), turns, None)
    assert "Tom: my {turns} and {session_time} and {x}" in user["content"]


# -- manager -----------------------------------------------------------------------------


def test_manager_shows_facts_and_memories_with_short_ids_and_dates() -> None:
    a, b = item("Tom plays tennis", event_time=None), item("Tom lives in Leeds")
    system, user = manager_messages(Prompts(), ["Tom moved to York"], [("0", a), ("1", b)])
    content = user["content"]
    assert '"Tom moved to York"' in content
    assert '{"id": "0", "text": "Tom plays tennis"}' in content
    assert (
        '{"id": "1", "text": "Tom lives in Leeds", "date": "7:20 pm on 16 June, 2023"}' in content
    )
    assert str(a.id) not in content and str(b.id) not in content  # never the UUIDs
    assert "only" in content and '"memory"' in content
    for op in ("ADD", "UPDATE", "DELETE", "NONE"):
        assert f'"event": "{op}"' in system["content"]


def test_manager_memories_block_is_valid_json() -> None:
    memories = {"0": item('say "hi" {x}'), "1": item("naïve café")}
    _, user = manager_messages(Prompts(), ["a", "b"], memories)
    block = user["content"].split("Stored memories:\n", 1)[1].split("\n\nNew facts:", 1)[0]
    assert [m["text"] for m in json.loads(block)] == ['say "hi" {x}', "naïve café"]


def test_manager_with_nothing_stored() -> None:
    _, user = manager_messages(Prompts(), ["Tom has a dog"], [])
    assert "Stored memories:\n[]" in user["content"]


# -- answer ------------------------------------------------------------------------------


def test_answer_groups_memories_per_speaker_with_timestamps() -> None:
    tom = [item("Tom lives in Leeds"), item("Tom plays tennis", event_time=None)]
    ana = [item("Ana is a nurse", event_time=datetime(2023, 5, 8, 13, 56))]
    system, user = answer_messages(
        Prompts(), "Where does Tom live?", [("user Tom", tom), ("user Ana", ana)], distill=True
    )
    content = user["content"]
    assert (
        "Memories for user Tom:\n"
        "- 7:20 pm on 16 June, 2023: Tom lives in Leeds\n"
        "- 2 January, 2025: Tom plays tennis"  # no event time: its creation date
    ) in content
    assert "Memories for user Ana:\n- 1:56 pm on 8 May, 2023: Ana is a nurse" in content
    assert content.rstrip().endswith("Question: Where does Tom live?")
    assert content.index("user Tom") < content.index("user Ana")
    assert "**Answer:**" in system["content"]


def test_answer_without_distillation_uses_its_own_system_prompt() -> None:
    p = Prompts()
    system, _ = answer_messages(p, "Q?", [("Tom", [item("x")])], distill=False)
    assert system["content"] == p.answer_no_distill_system
    assert "**Answer:**" not in system["content"]
    assert "First list the memories" not in system["content"]


def test_answer_empty_group_is_marked() -> None:
    _, user = answer_messages(Prompts(), "Q?", [("Tom", [])], distill=True)
    assert "Memories for Tom:\n(none)" in user["content"]


def test_memory_line() -> None:
    m = MemoryItem(
        id=uuid4(), text="x", scope=Scope(user_id="u"), created_at=CREATED, updated_at=CREATED
    )
    assert memory_line(m) == "2 January, 2025: x"


# -- prompts as data ---------------------------------------------------------------------


def test_override_a_prompt_field() -> None:
    p = Prompts(manager_system="Be a careful memory manager.")
    system, _ = manager_messages(p, ["f"], [])
    assert system["content"] == "Be a careful memory manager."
    assert p.answer_system == Prompts().answer_system


def test_override_a_user_template() -> None:
    p = Prompts(answer_user="Q: {question}\n{memories}")
    _, user = answer_messages(p, "Why?", [("Tom", [item("x")])], distill=True)
    assert user["content"].startswith("Q: Why?\nMemories for Tom:")


def test_user_template_must_keep_its_slots() -> None:
    with pytest.raises(ValidationError, match="facts"):
        Prompts(manager_user="Stored: {memories}")


def test_prompts_are_frozen_and_strict() -> None:
    p = Prompts()
    with pytest.raises(ValidationError):
        p.answer_system = "x"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Prompts(no_such_prompt="x")  # type: ignore[call-arg]


def test_prompts_hash_is_stable_and_tracks_changes() -> None:
    h = prompts_hash(Prompts())
    assert len(h) == 12 and int(h, 16) >= 0
    assert prompts_hash(Prompts()) == h
    assert prompts_hash(Prompts(answer_system=Prompts().answer_system)) == h
    assert prompts_hash(Prompts(answer_system="other")) != h
    assert prompts_hash(Prompts(extraction_system=Prompts().extraction_system + " ")) != h


# -- schemas -----------------------------------------------------------------------------


def test_manager_schema_shape() -> None:
    assert manager_schema(7) == {
        "type": "object",
        "properties": {
            "memory": {
                "type": "array",
                "maxItems": 7,
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "maxLength": 16},
                        "text": {"type": "string", "maxLength": 1000},
                        "event": {"type": "string", "enum": ["ADD", "UPDATE", "DELETE", "NONE"]},
                        "old_memory": {"type": "string", "maxLength": 1000},
                    },
                    "required": ["id", "text", "event"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["memory"],
        "additionalProperties": False,
    }


def test_facts_schema_shape() -> None:
    schema = facts_schema(4)
    facts = schema["properties"]["facts"]
    assert schema["required"] == ["facts"] and schema["additionalProperties"] is False
    assert facts["maxItems"] == 4 and facts["items"]["type"] == "string"
    assert facts["items"]["maxLength"] == 300


def test_schema_functions_give_fresh_dicts() -> None:
    a = manager_schema(3)
    a["properties"]["memory"]["maxItems"] = 99
    assert manager_schema(3)["properties"]["memory"]["maxItems"] == 3
    assert manager_schema() == MANAGER_SCHEMA and facts_schema() == FACTS_SCHEMA


def test_schema_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_items"):
        manager_schema(0)
    with pytest.raises(ValueError, match="max_items"):
        facts_schema(0)
