"""The Memory API end to end, on the embedded engine and on qdrant-client."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memory_r1 import (
    AsyncMemory,
    ConfigurationError,
    HistoryOp,
    InvalidInputError,
    Memory,
    MemoryStatus,
    NotFoundError,
    ScopeError,
)


def test_add_text_and_search_ranks_the_closest_first(mem: Memory) -> None:
    mem.add("Alice moved to Lisbon in May", user_id="alice", infer=False)
    mem.add("Alice is allergic to peanuts", user_id="alice", infer=False)
    mem.add("Alice plays the cello", user_id="alice", infer=False)
    hits = mem.search("Where has Alice moved to, Lisbon?", user_id="alice", limit=3)
    assert next(h.text for h in hits) == "Alice moved to Lisbon in May"
    assert hits[0].score >= hits[1].score >= hits[2].score
    assert len(mem.search("cello", user_id="alice", limit=1)) == 1


def test_add_messages_stores_each_non_system_message_with_its_actor(mem: Memory) -> None:
    result = mem.add(
        [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "I adopted a cat named Miso", "name": "Caroline"},
            {"role": "assistant", "content": "Congratulations on Miso!"},
        ],
        user_id="caroline",
        infer=False,
        timestamp="2023-05-08T13:56:00",
        source="D1:3",
        metadata={"session": 1},
    )
    assert [e.event for e in result.events] == [HistoryOp.ADD, HistoryOp.ADD]
    items = {i.text: i for i in mem.get_all(user_id="caroline")}
    cat = items["I adopted a cat named Miso"]
    assert cat.actor == "Caroline"
    assert items["Congratulations on Miso!"].actor == "assistant"
    assert cat.event_time == datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    assert cat.sources == ["D1:3"] and cat.metadata == {"session": 1}


def test_update_makes_a_new_version_and_keeps_the_old_text(mem: Memory) -> None:
    mid = mem.add("Bob lives in Paris", user_id="bob", infer=False).ids[0]
    item = mem.update(mid, "Bob lives in Berlin", metadata={"confidence": 0.9})
    assert (item.text, item.version, item.metadata) == (
        "Bob lives in Berlin",
        2,
        {"confidence": 0.9},
    )
    assert mem.get(mid).text == "Bob lives in Berlin"
    assert mem.search("Berlin", user_id="bob")[0].text == "Bob lives in Berlin"
    chain = mem.history(mid)
    assert [(h.operation, h.old_text, h.new_text, h.version) for h in chain] == [
        (HistoryOp.ADD, None, "Bob lives in Paris", 1),
        (HistoryOp.UPDATE, "Bob lives in Paris", "Bob lives in Berlin", 2),
    ]
    assert chain[0].item.text == "Bob lives in Paris"


def test_update_with_nothing_new_changes_nothing(mem: Memory) -> None:
    mid = mem.add("Bob lives in Paris", user_id="bob", infer=False).ids[0]
    assert mem.update(mid, "Bob lives in Paris").version == 1
    assert len(mem.history(mid)) == 1
    with pytest.raises(InvalidInputError):
        mem.update(mid)


def test_delete_hides_from_search_and_restore_brings_back(mem: Memory) -> None:
    mid = mem.add("Carol drinks oat milk", user_id="carol", infer=False).ids[0]
    deleted = mem.delete(mid)
    assert deleted.status is MemoryStatus.DELETED
    assert mem.search("oat milk", user_id="carol") == []
    assert len(mem.get_all(user_id="carol")) == 0
    assert len(mem.get_all(user_id="carol", include_deleted=True)) == 1
    assert mem.get(mid).status is MemoryStatus.DELETED
    with pytest.raises(InvalidInputError):
        mem.update(mid, "Carol drinks soy milk")
    with pytest.raises(InvalidInputError):
        mem.delete(mid)
    restored = mem.restore(mid)
    assert (restored.status, restored.version) == (MemoryStatus.ACTIVE, 3)
    assert mem.search("oat milk", user_id="carol")[0].id == mid
    with pytest.raises(InvalidInputError):
        mem.restore(mid)
    assert [h.operation for h in mem.history(mid)] == [
        HistoryOp.ADD,
        HistoryOp.DELETE,
        HistoryOp.RESTORE,
    ]


def test_get_all_pages_through_every_memory_once(mem: Memory) -> None:
    texts = {f"fact number {i}" for i in range(23)}
    mem.add_batch([{"messages": t, "user_id": "dave"} for t in texts])
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = mem.get_all(user_id="dave", limit=5, cursor=cursor)
        seen += [i.text for i in page]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(texts) and len(seen) == 23 and pages == 5


def test_add_batch_returns_one_result_per_request_in_order(mem: Memory) -> None:
    results = mem.add_batch(
        [
            {"messages": "first", "user_id": "u1"},
            {
                "messages": [
                    {"role": "user", "content": "second"},
                    {"role": "user", "content": "third"},
                ],
                "agent_id": "a1",
            },
        ]
    )
    assert [[e.text for e in r.events] for r in results] == [["first"], ["second", "third"]]
    assert mem.get(results[1].ids[1], agent_id="a1").text == "third"


def test_scopes_narrow_by_every_field_given(mem: Memory) -> None:
    mem.add("alice general", user_id="alice", infer=False)
    mem.add("alice in run 1", user_id="alice", run_id="r1", infer=False)
    mem.add("travel agent note", user_id="alice", agent_id="travel", infer=False)
    assert len(mem.get_all(user_id="alice")) == 3
    assert [i.text for i in mem.get_all(user_id="alice", run_id="r1")] == ["alice in run 1"]
    assert [i.text for i in mem.get_all(agent_id="travel")] == ["travel agent note"]


def test_an_id_from_another_scope_reads_as_not_found(mem: Memory) -> None:
    mid = mem.add("secret of alice", user_id="alice", infer=False).ids[0]
    for call in (mem.get, mem.delete, mem.history, mem.restore):
        with pytest.raises(NotFoundError):
            call(mid, user_id="bob")
    with pytest.raises(NotFoundError):
        mem.update(mid, "hijacked", user_id="bob")
    assert mem.get(mid, user_id="alice").text == "secret of alice"


def test_filters_use_mem0_grammar(mem: Memory) -> None:
    mem.add(
        "a", user_id="u", metadata={"topic": "food", "n": 1}, timestamp="2023-01-01", infer=False
    )
    mem.add(
        "b", user_id="u", metadata={"topic": "travel", "n": 5}, timestamp="2023-06-01", infer=False
    )
    mem.add("c", user_id="u", metadata={"topic": "work", "n": 9}, infer=False)

    def texts(f: dict[str, object]) -> list[str]:
        return sorted(i.text for i in mem.get_all(user_id="u", filters=f))

    assert texts({"topic": "food"}) == ["a"]
    assert texts({"topic": {"ne": "food"}}) == ["b", "c"]
    assert texts({"topic": {"in": ["food", "work"]}}) == ["a", "c"]
    assert texts({"topic": {"nin": ["food", "work"]}}) == ["b"]
    assert texts({"n": {"gte": 5}}) == ["b", "c"]
    assert texts({"metadata.n": {"lt": 5}}) == ["a"]
    assert texts({"event_time": {"gt": "2023-03-01"}}) == ["b"]
    assert texts({"event_time": "*"}) == ["a", "b"]
    assert texts({"topic": {"contains": "ave"}}) == ["b"]
    assert texts({"OR": [{"topic": "food"}, {"n": 9}]}) == ["a", "c"]
    assert texts({"NOT": [{"topic": "food"}]}) == ["b", "c"]
    assert texts({"AND": [{"n": {"gt": 1}}, {"OR": [{"topic": "work"}, {"topic": "food"}]}]}) == [
        "c"
    ]
    hits = mem.search("b", user_id="u", filters={"topic": "travel"})
    assert [h.text for h in hits] == ["b"]


def test_delete_all_is_restorable_and_stays_in_scope(mem: Memory) -> None:
    a = mem.add_batch([{"messages": f"a{i}", "user_id": "alice"} for i in range(3)])
    mem.add("b0", user_id="bob", infer=False)
    assert mem.delete_all(user_id="alice") == 3
    assert len(mem.get_all(user_id="alice")) == 0
    assert [i.text for i in mem.get_all(user_id="bob")] == ["b0"]
    mem.restore(a[0].ids[0])
    assert [i.text for i in mem.get_all(user_id="alice")] == ["a0"]
    with pytest.raises(ScopeError):
        mem.delete_all()


def test_search_threshold_drops_weak_matches(mem: Memory) -> None:
    mem.add("the quick brown fox", user_id="u", infer=False)
    mem.add("quantum chromodynamics lecture", user_id="u", infer=False)
    strong = mem.search("the quick brown fox", user_id="u", threshold=0.99)
    assert [h.text for h in strong] == ["the quick brown fox"]


def test_reset_needs_confirmation(mem: Memory) -> None:
    mem.add("x", user_id="u", infer=False)
    with pytest.raises(InvalidInputError):
        mem.reset()
    with pytest.raises(InvalidInputError):
        mem.reset(confirm="yes")  # type: ignore[arg-type]
    assert len(mem.get_all(user_id="u")) == 1
    assert mem.reset(confirm=True) == 1
    assert len(mem.get_all(user_id="u", include_deleted=True)) == 0


def test_infer_without_an_llm_is_a_clear_error(mem: Memory) -> None:
    with pytest.raises(ConfigurationError, match="llm"):
        mem.add("I moved to Rome", user_id="u")
    assert len(mem.get_all(user_id="u", include_deleted=True)) == 0


def _script_sync(m: Memory) -> list[object]:
    out: list[object] = []
    a = m.add("Alice likes tea", user_id="alice", infer=False)
    b = m.add_batch(
        [
            {"messages": "Alice has a cat", "user_id": "alice"},
            {"messages": "Bob likes coffee", "user_id": "bob"},
        ]
    )
    out.append([e.event for e in a.events] + [e.text for r in b for e in r.events])
    out.append([h.text for h in m.search("tea", user_id="alice")])
    out.append(m.update(a.ids[0], "Alice likes green tea").version)
    out.append(m.delete(b[0].ids[0]).status)
    out.append(sorted(i.text for i in m.get_all(user_id="alice")))
    out.append([(h.operation, h.new_text) for h in m.history(a.ids[0])])
    out.append(m.delete_all(user_id="alice"))
    out.append(m.erase(user_id="bob").memories)
    return out


async def _script_async(m: AsyncMemory) -> list[object]:
    out: list[object] = []
    a = await m.add("Alice likes tea", user_id="alice", infer=False)
    b = await m.add_batch(
        [
            {"messages": "Alice has a cat", "user_id": "alice"},
            {"messages": "Bob likes coffee", "user_id": "bob"},
        ]
    )
    out.append([e.event for e in a.events] + [e.text for r in b for e in r.events])
    out.append([h.text for h in await m.search("tea", user_id="alice")])
    out.append((await m.update(a.ids[0], "Alice likes green tea")).version)
    out.append((await m.delete(b[0].ids[0])).status)
    out.append(sorted(i.text for i in await m.get_all(user_id="alice")))
    out.append([(h.operation, h.new_text) for h in await m.history(a.ids[0])])
    out.append(await m.delete_all(user_id="alice"))
    out.append((await m.erase(user_id="bob")).memories)
    return out


async def test_sync_and_async_give_the_same_results(mem: Memory, amem: AsyncMemory) -> None:
    expected = _script_sync(mem)
    assert await _script_async(amem) == expected
    assert expected[2] == 2 and expected[6] == 1
    with pytest.raises(ScopeError):
        await amem.search("x")
    assert await amem.reset(confirm=True) == 2  # alice's two (deleted) memories


def test_scopes_lists_exact_scopes_with_active_memories(mem: Memory) -> None:
    from memory_r1 import Scope

    mem.add("a", user_id="alice", infer=False)
    mem.add("b", user_id="alice", run_id="r1", infer=False)
    gone = mem.add("c", user_id="bob", infer=False).events[0].id
    mem.add("d", agent_id="helper", infer=False)
    assert mem.scopes() == [
        Scope(agent_id="helper"),
        Scope(user_id="alice"),
        Scope(user_id="alice", run_id="r1"),
        Scope(user_id="bob"),
    ]
    mem.delete(gone)
    assert Scope(user_id="bob") not in mem.scopes()
    alice = [Scope(user_id="alice"), Scope(user_id="alice", run_id="r1")]
    assert mem.scopes(user_id="alice") == alice
    assert mem.scopes(user_id="nobody") == []


async def test_async_scopes_match_sync(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from memory_r1 import Scope

    async with AsyncMemory(path=tmp_path / "b", embedder="hashing") as amem:
        await amem.add("x", user_id="u1", infer=False)
        assert await amem.scopes() == [Scope(user_id="u1")]
