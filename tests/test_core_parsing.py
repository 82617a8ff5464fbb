"""Parsing and validating the policies' outputs; re-ask messages; short ids."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memory_r1._core.answer_parsing import REASK_ANSWER, parse_answer
from memory_r1._core.ops import AddOp, DeleteOp, UpdateOp
from memory_r1._core.parsing import (
    ManagerDecision,
    OpRecord,
    OutputError,
    extract_json,
    parse_facts,
    parse_manager,
    reask_messages,
    short_ids,
)
from memory_r1.llms.base import Message
from memory_r1.types import MemoryItem, Scope, ScoredMemory

T0 = datetime(2023, 6, 16, 19, 20, tzinfo=UTC)
SCOPE = Scope(user_id="tom")
TEXTS = ["Tom plays tennis", "Tom lives in Leeds", "Ana is a nurse"]


def item(text: str) -> ScoredMemory:
    return ScoredMemory(id=uuid4(), text=text, scope=SCOPE, created_at=T0, updated_at=T0, score=0.5)


SHOWN: dict[str, MemoryItem] = short_ids(item(t) for t in TEXTS)


def counter() -> tuple[Callable[[], UUID], list[UUID]]:
    made: list[UUID] = []

    def factory() -> UUID:
        made.append(uuid4())
        return made[-1]

    return factory, made


def manage(entries: list[Any], shown: dict[str, MemoryItem] | None = None) -> ManagerDecision:
    return parse_manager(
        json.dumps({"memory": entries}),
        SHOWN if shown is None else shown,
        scope=SCOPE,
        actor="manager",
        event_time=T0,
        source="turn-7",
    )


def problems_of(entries: list[Any]) -> str:
    with pytest.raises(OutputError) as info:
        manage(entries)
    return str(info.value)


# -- extract_json ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1}',
        '```json\n{"a": 1}\n```',
        '```\n{"a": 1}\n```',
        'Sure, here it is:\n```json\n{"a": 1}\n```\nHope that helps {:',
        'I think {this} is {"a": 1} trailing words',
        '  \n{"a": 1}\n\n',
    ],
)
def test_extract_json_tolerates_fences_and_chatter(text: str) -> None:
    assert extract_json(text) == {"a": 1}


@pytest.mark.parametrize("text", ["", "no json here", "[1, 2]", '{"a": 1', "{'a': 1}", "{" * 5000])
def test_extract_json_rejects_no_object(text: str) -> None:
    with pytest.raises(OutputError, match="no valid JSON object"):
        extract_json(text)


def test_extract_json_reports_the_decoder_complaint() -> None:
    with pytest.raises(OutputError, match="Expecting"):
        extract_json('{"memory": [1, 2,]}')


def test_extract_json_by_key_finds_the_right_object() -> None:
    text = 'Example: {"x": 1}. Mine: {"wrapper": {"facts": ["a"]}}'
    assert extract_json(text, key="facts") == {"facts": ["a"]}
    with pytest.raises(OutputError, match='key "memory"'):
        extract_json('{"x": 1}', key="memory")


def test_output_error_is_a_value_error_with_problems() -> None:
    err = OutputError("bad", ["p1", "p2"])
    assert isinstance(err, ValueError) and err.problems == ["p1", "p2"]
    assert OutputError("only").problems == ["only"]


# -- parse_facts -------------------------------------------------------------------------


def test_parse_facts_strips_and_dedupes() -> None:
    text = '```json\n{"facts": [" Tom has a dog ", "Tom has a dog", "", "  ", "Ana runs"]}\n```'
    assert parse_facts(text, 10) == ["Tom has a dog", "Ana runs"]


def test_parse_facts_empty() -> None:
    assert parse_facts('{"facts": []}', 5) == []


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"facts": "Tom has a dog"}', "list of strings"),
        ('{"facts": ["ok", 3, null]}', r"facts\[1\] is a int"),
        ('{"fact": ["x"]}', 'key "facts"'),
        ("facts: x", "no valid JSON"),
    ],
)
def test_parse_facts_rejects_wrong_shapes(text: str, match: str) -> None:
    with pytest.raises(OutputError, match=match):
        parse_facts(text, 5)


def test_parse_facts_bounds_the_count() -> None:
    with pytest.raises(OutputError, match="at most 2"):
        parse_facts('{"facts": ["a", "b", "c"]}', 2)


# -- parse_manager: the happy paths ------------------------------------------------------


def test_manager_plans_each_operation() -> None:
    factory, made = counter()
    text = json.dumps(
        {
            "memory": [
                {"id": "0", "text": "Tom plays tennis", "event": "NONE"},
                {
                    "id": "1",
                    "text": "Tom lives in York since May 2023",
                    "event": "UPDATE",
                    "old_memory": "Tom lives in Leeds",
                },
                {"id": "2", "text": "Ana is a nurse", "event": "DELETE"},
                {"id": "3", "text": "Tom has a dog named Rex", "event": "ADD"},
            ]
        }
    )
    d = parse_manager(
        text, SHOWN, scope=SCOPE, actor="mgr", event_time=T0, source="t1", new_id_factory=factory
    )
    assert d.ops == [
        UpdateOp(
            id=SHOWN["1"].id,
            text="Tom lives in York since May 2023",
            event_time=T0,
            sources=("t1",),
            actor="mgr",
            source="t1",
        ),
        DeleteOp(id=SHOWN["2"].id, actor="mgr", source="t1"),
        AddOp(
            id=made[0],
            text="Tom has a dog named Rex",
            scope=SCOPE,
            actor="mgr",
            event_time=T0,
            metadata={},
            sources=("t1",),
            source="t1",
        ),
    ]
    assert d.records == [
        OpRecord("NONE", "0", "Tom plays tennis", None),
        OpRecord("UPDATE", "1", "Tom lives in York since May 2023", "Tom lives in Leeds"),
        OpRecord("DELETE", "2", "Ana is a nurse", None),
        OpRecord("ADD", "3", "Tom has a dog named Rex", None),
    ]


def test_manager_without_source_records_none() -> None:
    d = parse_manager('{"memory": [{"id": "x", "text": "new", "event": "ADD"}]}', {}, scope=SCOPE)
    (op,) = d.ops
    assert isinstance(op, AddOp) and op.sources == () and op.source is None
    assert op.event_time is None and op.actor is None


@pytest.mark.parametrize("event", ["NOOP", "noop", "NoOp", "none", " None "])
def test_manager_noop_alias_and_case(event: str) -> None:
    d = manage([{"id": "0", "text": "Tom plays tennis", "event": event}])
    assert d.ops == [] and d.records == [OpRecord("NONE", "0", "Tom plays tennis", None)]


def test_manager_accepts_lowercase_events_and_integer_ids() -> None:
    d = manage([{"id": 2, "text": "Ana is a nurse", "event": "delete"}])
    assert d.ops == [DeleteOp(id=SHOWN["2"].id, actor="manager", source="turn-7")]


def test_manager_add_of_an_existing_text_is_none() -> None:
    d = manage([{"id": "9", "text": " Tom lives in Leeds ", "event": "ADD"}])
    assert d.ops == [] and d.records == [OpRecord("NONE", "1", "Tom lives in Leeds", None)]


def test_manager_update_that_keeps_the_text_is_none() -> None:
    d = manage([{"id": "0", "text": "Tom plays tennis", "event": "UPDATE"}])
    assert d.ops == [] and [r.event for r in d.records] == ["NONE"]


def test_manager_repeated_identical_entries_count_once() -> None:
    d = manage(
        [
            {"id": "2", "text": "x", "event": "DELETE"},
            {"id": "2", "text": "y", "event": "DELETE"},
            {"id": "5", "text": "Tom has a dog", "event": "ADD"},
            {"id": "6", "text": "Tom has a dog", "event": "ADD"},
        ]
    )
    assert [type(op) for op in d.ops] == [DeleteOp, AddOp]


def test_manager_empty_list_plans_nothing() -> None:
    assert manage([]) == ManagerDecision()


def test_manager_ignores_extra_keys_and_code_fences() -> None:
    text = (
        'Here:\n```json\n{"memory": [{"id": "0", "text": "a b", "event": "UPDATE", "why": 1}]}\n```'
    )
    d = parse_manager(text, SHOWN, scope=SCOPE)
    assert [type(op) for op in d.ops] == [UpdateOp]


# -- parse_manager: rejections -----------------------------------------------------------


def test_manager_rejects_ids_not_shown_and_names_the_shown_ones() -> None:
    message = problems_of([{"id": "7", "text": "x", "event": "UPDATE"}])
    assert "id '7' was not shown" in message and "shown ids: 0, 1, 2" in message
    message = problems_of([{"id": str(SHOWN["0"].id), "text": "x", "event": "DELETE"}])
    assert "was not shown" in message  # a UUID is not a shown id either


def test_manager_with_nothing_shown_allows_only_add() -> None:
    with pytest.raises(OutputError, match="only ADD"):
        manage([{"id": "0", "text": "x", "event": "NONE"}], shown={})


def test_manager_rejects_two_operations_on_one_id() -> None:
    message = problems_of(
        [
            {"id": "1", "text": "Tom lives in York", "event": "UPDATE"},
            {"id": "1", "text": "Tom lives in Leeds", "event": "DELETE"},
        ]
    )
    assert "id '1' already has UPDATE (entry 0)" in message
    message = problems_of(
        [
            {"id": "1", "text": "Tom lives in York", "event": "UPDATE"},
            {"id": "1", "text": "Tom lives in Hull", "event": "UPDATE"},
        ]
    )
    assert "entry 1: id '1' already has UPDATE" in message


def test_manager_lists_every_problem() -> None:
    message = problems_of(
        [
            {"id": "7", "text": "x", "event": "UPDATE"},
            {"id": "0", "text": "  ", "event": "UPDATE"},
            {"id": "1", "event": "DELETE"},
            {"id": "2", "text": "x", "event": "MERGE"},
            {"id": "3", "text": "", "event": "ADD"},
            {"id": "0", "text": 5, "event": "NONE"},
            {"id": None, "text": "x", "event": "DELETE"},
            "ADD Tom has a dog",
        ]
    )
    for expected in [
        "entry 0: id '7' was not shown",
        "entry 1: UPDATE needs a non-blank text",
        "entry 2: missing text",
        "entry 3: event 'MERGE' is not one of",
        "entry 4: ADD needs a non-blank text",
        "entry 5: text must be a string",
        "entry 6: id must be a string",
        "entry 7: expected an object, got str",
    ]:
        assert expected in message


def test_manager_error_carries_the_problems_and_stays_short() -> None:
    with pytest.raises(OutputError) as info:
        manage([{"id": str(i + 10), "text": "x", "event": "DELETE"} for i in range(50)])
    assert len(info.value.problems) == 50
    assert "and 30 more" in str(info.value) and str(info.value).count("\n") == 21


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"memories": []}', 'key "memory"'),
        ('{"memory": {"id": "0"}}', "must be a list"),
        ("I would add that Tom has a dog.", "no valid JSON"),
    ],
)
def test_manager_rejects_wrong_top_level(text: str, match: str) -> None:
    with pytest.raises(OutputError, match=match):
        parse_manager(text, SHOWN, scope=SCOPE)


def test_manager_invalid_output_plans_nothing_at_all() -> None:
    def no_ids() -> UUID:
        raise AssertionError("no id may be made for an invalid output")

    text = json.dumps(
        {
            "memory": [
                {"id": "5", "text": "Tom has a dog", "event": "ADD"},
                {"id": "1", "text": "Tom lives in York", "event": "UPDATE"},
                {"id": "9", "text": "x", "event": "DELETE"},
            ]
        }
    )
    with pytest.raises(OutputError, match="id '9'"):
        parse_manager(text, SHOWN, scope=SCOPE, new_id_factory=no_ids)


# -- parse_manager: fuzzing --------------------------------------------------------------

JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JUNK = st.recursive(
    JSON_LEAF,
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3)
    ),
    max_leaves=10,
)
IDS = st.sampled_from(["0", "1", "2", " 1 ", "3", "x"]) | st.integers(-1, 4) | JSON_LEAF
EVENTS = st.sampled_from(["ADD", "UPDATE", "DELETE", "NONE", "NOOP", "noop", " Delete "]) | JUNK
ENTRY_TEXTS = st.sampled_from([*TEXTS, "", "  ", "Tom has a dog"]) | st.text(max_size=12) | JUNK
# Mostly plausible entries, so that many outputs pass and the accepted decisions get checked.
PLAUSIBLE = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["0", "1", "2", 0, 2, " 1 "]),
        "text": st.sampled_from([*TEXTS, "Tom has a dog", "Ana moved to Hull"]),
        "event": st.sampled_from(["ADD", "UPDATE", "DELETE", "NONE", "NOOP", "noop"]),
    },
    optional={"old_memory": st.text(max_size=5)},
)
ARBITRARY = st.fixed_dictionaries(
    {}, optional={"id": IDS, "text": ENTRY_TEXTS, "event": EVENTS, "old_memory": JUNK}
)
ENTRY = PLAUSIBLE | ARBITRARY | JUNK


def _mixed(good: list[Any], bad: list[tuple[int, Any]]) -> dict[str, list[Any]]:
    entries = list(good)
    for at, entry in bad:
        entries.insert(at % (len(entries) + 1), entry)
    return {"memory": entries}


# Plausible entries with, sometimes, arbitrary ones slipped in among them.
MEMORY = st.builds(
    _mixed,
    st.lists(PLAUSIBLE, max_size=5),
    st.lists(st.tuples(st.integers(0, 5), ARBITRARY | JUNK), max_size=2),
)
OUTPUT = MEMORY | JUNK
WRAPPERS = st.sampled_from(["{}", "```json\n{}\n```", "Here you go: {} Done.", "{}\n{{"])


def _shown_id(raw: Any) -> str | None:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return None
    sid = str(raw).strip()
    return sid if sid in SHOWN else None


def entry_is_valid(e: Any) -> bool:
    """An independent statement of the per-entry rules."""
    if not isinstance(e, dict) or not {"id", "text", "event"} <= e.keys():
        return False
    event, text = e["event"], e["text"]
    if not isinstance(event, str) or not isinstance(text, str):
        return False
    event = {"NOOP": "NONE"}.get(event.strip().upper(), event.strip().upper())
    if event not in ("ADD", "UPDATE", "DELETE", "NONE"):
        return False
    if event != "ADD" and _shown_id(e["id"]) is None:
        return False
    return event in ("DELETE", "NONE") or bool(text.strip())


def check_decision(text: str) -> tuple[ManagerDecision | None, list[UUID]]:
    factory, made = counter()
    try:
        d = parse_manager(text, SHOWN, scope=SCOPE, new_id_factory=factory)
    except OutputError as e:
        assert e.problems and not made
        return None, made
    shown_ids = {m.id for m in SHOWN.values()}
    targets = [op.id for op in d.ops if not isinstance(op, AddOp)]
    assert set(targets) <= shown_ids and len(targets) == len(set(targets))
    assert [op.id for op in d.ops if isinstance(op, AddOp)] == made
    assert all(op.text and op.text == op.text.strip() for op in d.ops if isinstance(op, AddOp))
    non_add = [r.short_id for r in d.records if r.event != "ADD"]
    assert set(non_add) <= SHOWN.keys() and len(non_add) == len(set(non_add))
    return d, made


@settings(max_examples=400, deadline=None)
@given(OUTPUT, WRAPPERS)
def test_fuzz_manager_structured_output(output: Any, wrapper: str) -> None:
    text = wrapper.replace("{}", json.dumps(output), 1)
    d, _ = check_decision(text)
    if isinstance(output, dict) and isinstance(output.get("memory"), list):
        entries = output["memory"]
        if not all(entry_is_valid(e) for e in entries):
            assert d is None  # never partial: one bad entry rejects the whole output
        elif d is not None:
            assert len(d.records) <= len(entries)


@settings(max_examples=300, deadline=None)
@given(st.lists(ENTRY, max_size=6))
def test_fuzz_manager_valid_entries_with_distinct_ids_are_accepted(entries: list[Any]) -> None:
    valid = [e for e in entries if entry_is_valid(e)]
    seen: set[str | None] = set()
    distinct = []
    for e in valid:
        sid = _shown_id(e["id"]) if str(e["event"]).strip().upper() != "ADD" else None
        if sid is None or sid not in seen:
            seen.add(sid)
            distinct.append(e)
    d, _ = check_decision(json.dumps({"memory": distinct}))
    assert d is not None


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fuzz_manager_arbitrary_text(text: str) -> None:
    check_decision(text)


@settings(max_examples=200, deadline=None)
@given(st.text() | OUTPUT.map(json.dumps))
def test_fuzz_other_parsers_raise_only_output_error(text: str) -> None:
    for parse in (
        lambda: parse_facts(text, 5),
        lambda: parse_answer(text, list(SHOWN.values()), distill=True),
        lambda: parse_answer(text, SHOWN, distill=False),
    ):
        with contextlib.suppress(OutputError):
            parse()


# -- parse_answer ------------------------------------------------------------------------

LINES = [
    "**Memories selected as relevant:**",
    "- 7:20 pm on 16 June, 2023: tom  LIVES in leeds",
    "- 1:00 pm on 8 May, 2023: Ana is a nurse",
    "- 1:00 pm on 8 May, 2023: Ana is a nurse",
]


def test_answer_after_marker_with_selected_memories_in_shown_order() -> None:
    text = "\n".join([*LINES, "**Answer:** Leeds"])
    parsed = parse_answer(text, SHOWN, distill=True)
    assert parsed.answer == "Leeds"
    assert parsed.selected == [SHOWN["1"].id, SHOWN["2"].id]
    assert parsed.reasoning == "\n".join(LINES)
    assert parse_answer(text, list(SHOWN.values()), distill=True) == parsed


@pytest.mark.parametrize(
    ("tail", "answer"),
    [
        ("**Answer:** Leeds", "Leeds"),
        ('**Answer:** "Leeds"  \n', "Leeds"),
        ("**Answer**: *Leeds*", "Leeds"),
        ("Answer: `Leeds`", "Leeds"),
        ("ANSWER:\n\n**Leeds, UK.**", "Leeds, UK."),
        ("**Answer:** no answer yet\n**Answer:** Leeds", "Leeds"),
        ("**Final Answer:** 7 May 2023", "7 May 2023"),
    ],
)
def test_answer_marker_variants(tail: str, answer: str) -> None:
    assert parse_answer("Some thoughts.\n" + tail, SHOWN, distill=True).answer == answer


def test_answer_marker_is_required_with_distillation() -> None:
    with pytest.raises(OutputError, match=r"no \*\*Answer:\*\* marker"):
        parse_answer("\n".join(LINES) + "\nLeeds", SHOWN, distill=True)


def test_answer_without_marker_and_without_distillation_is_the_whole_text() -> None:
    parsed = parse_answer('  "Leeds"\n', SHOWN, distill=False)
    assert parsed.answer == "Leeds" and parsed.selected == [] and parsed.reasoning == ""


def test_answer_must_not_be_empty() -> None:
    with pytest.raises(OutputError, match="empty"):
        parse_answer("thoughts\n**Answer:** ** ", SHOWN, distill=True)
    with pytest.raises(OutputError, match="empty"):
        parse_answer("   ", SHOWN, distill=False)


def test_answer_word_containing_answer_is_not_a_marker() -> None:
    with pytest.raises(OutputError):
        parse_answer("I cannot reanswer: sorry", SHOWN, distill=True)


def test_answer_selection_ignores_memories_quoted_after_the_marker() -> None:
    parsed = parse_answer("**Answer:** Tom plays tennis", SHOWN, distill=True)
    assert parsed.selected == []


# -- reask_messages ----------------------------------------------------------------------


def test_reask_builds_a_new_list_and_leaves_the_input_alone() -> None:
    messages: list[Message] = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "facts"},
    ]
    before = copy.deepcopy(messages)
    out = reask_messages(messages, "not json", OutputError("no valid JSON object found"))
    assert messages == before
    assert out[:2] == messages and out[0] is not messages[0]
    assert out[2] == {"role": "assistant", "content": "not json"}
    assert out[3] == {
        "role": "user",
        "content": "Your output was invalid: no valid JSON object found. "
        "Reply again with only valid JSON of the required shape.",
    }
    out[0]["content"] = "changed"
    assert messages == before


def test_reask_keeps_a_problem_list_readable() -> None:
    with pytest.raises(OutputError) as info:
        manage([{"id": "9", "text": "x", "event": "DELETE"}])
    content = reask_messages([], "bad", info.value)[-1]["content"]
    assert content.startswith("Your output was invalid: invalid memory operations:\n- entry 0")
    assert content.endswith("\n\nReply again with only valid JSON of the required shape.")


def test_reask_with_another_instruction() -> None:
    out = reask_messages([], "Leeds", "no **Answer:** marker.", instruction=REASK_ANSWER)
    assert out[-1]["content"] == f"Your output was invalid: no **Answer:** marker. {REASK_ANSWER}"


# -- short_ids ---------------------------------------------------------------------------


def test_short_ids_number_in_order_and_drop_repeats() -> None:
    a, b = item("a"), item("b")
    ids = short_ids([a, b, a])
    assert list(ids) == ["0", "1"] and ids["0"] is a and ids["1"] is b


def test_short_ids_round_trip_through_the_manager() -> None:
    memories = [item(f"fact {i}") for i in range(12)]
    ids = short_ids(memories)
    d = manage([{"id": "11", "text": "x", "event": "DELETE"}], shown=dict(ids))
    assert d.ops == [DeleteOp(id=memories[11].id, actor="manager", source="turn-7")]
