"""MemoryR1Store as a LangGraph BaseStore: get / put / search / delete / list_namespaces.

Every scenario runs four ways: on a ``Memory`` and on an ``AsyncMemory``, through the sync
methods and through the async ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pytest
from langgraph.store.base import Item, SearchItem
from memory_r1 import AsyncMemory, HistoryOp, Memory, MemoryStatus

from langchain_memory_r1 import MemoryR1Store

ALICE = ("memories", "alice")
BOB = ("memories", "bob")


class Api:
    """The store's convenience methods, called sync or async."""

    def __init__(self, store: MemoryR1Store, style: str) -> None:
        self.store, self.style = store, style

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.style == "async":
            return await getattr(self.store, "a" + name)(*args, **kwargs)
        return getattr(self.store, name)(*args, **kwargs)

    async def put(self, ns: tuple[str, ...], key: str, value: Mapping[str, Any], **kw: Any) -> None:
        await self._call("put", ns, key, value, **kw)

    async def get(self, ns: tuple[str, ...], key: str) -> Item | None:
        item: Item | None = await self._call("get", ns, key)
        return item

    async def delete(self, ns: tuple[str, ...], key: str) -> None:
        await self._call("delete", ns, key)

    async def search(self, prefix: tuple[str, ...], **kw: Any) -> list[SearchItem]:
        items: list[SearchItem] = await self._call("search", prefix, **kw)
        return items

    async def list_namespaces(self, **kw: Any) -> list[tuple[str, ...]]:
        found: list[tuple[str, ...]] = await self._call("list_namespaces", **kw)
        return found


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, store: MemoryR1Store) -> Api:
    return Api(store, request.param)


async def call(memory: Memory | AsyncMemory, method: str, *args: Any, **kwargs: Any) -> Any:
    result = getattr(memory, method)(*args, **kwargs)
    return await result if isinstance(memory, AsyncMemory) else result


async def test_put_then_get_returns_the_value_with_its_key_and_times(api: Api) -> None:
    await api.put(ALICE, "home", {"content": "Alice lives in Lisbon", "topic": "place"})
    item = await api.get(ALICE, "home")
    assert item is not None
    assert (item.key, item.namespace) == ("home", ALICE)
    assert item.value == {"content": "Alice lives in Lisbon", "topic": "place"}
    assert isinstance(item.created_at, datetime) and item.created_at == item.updated_at
    assert await api.get(ALICE, "nope") is None


async def test_put_is_a_real_memory_in_the_namespace_scope(api: Api) -> None:
    await api.put(ALICE, "home", {"content": "Alice lives in Lisbon", "topic": "place"})
    page = await call(api.store.memory, "get_all", user_id="memories.alice")
    [memory] = page.items
    assert memory.text == "Alice lives in Lisbon"
    assert memory.metadata == {"topic": "place", "lg_key": "home"}


async def test_put_on_an_existing_key_updates_it_and_keeps_history(api: Api) -> None:
    await api.put(ALICE, "home", {"content": "Alice lives in Lisbon"})
    first = await api.get(ALICE, "home")
    await api.put(ALICE, "home", {"content": "Alice lives in Porto", "since": 2024})
    item = await api.get(ALICE, "home")
    assert item is not None and first is not None
    assert item.value == {"content": "Alice lives in Porto", "since": 2024}
    assert item.created_at == first.created_at and item.updated_at > first.updated_at
    [memory] = (await call(api.store.memory, "get_all", user_id="memories.alice")).items
    history = await call(api.store.memory, "history", memory.id)
    assert [h.new_text for h in history] == ["Alice lives in Lisbon", "Alice lives in Porto"]


async def test_delete_is_non_destructive(api: Api) -> None:
    await api.put(ALICE, "home", {"content": "Alice lives in Lisbon"})
    [memory] = (await call(api.store.memory, "get_all", user_id="memories.alice")).items
    await api.delete(ALICE, "home")
    assert await api.get(ALICE, "home") is None
    assert await api.search(ALICE, query="Lisbon") == []
    kept = await call(api.store.memory, "get", memory.id)
    assert kept.status is MemoryStatus.DELETED and kept.text == "Alice lives in Lisbon"
    await call(api.store.memory, "restore", memory.id)
    restored = await api.get(ALICE, "home")
    assert restored is not None and restored.value == {"content": "Alice lives in Lisbon"}


async def test_putting_a_deleted_key_again_revives_the_same_memory(api: Api) -> None:
    await api.put(ALICE, "home", {"content": "Alice lives in Lisbon"})
    await api.delete(ALICE, "home")
    await api.delete(ALICE, "home")  # deleting twice is a no-op, as in InMemoryStore
    await api.put(ALICE, "home", {"content": "Alice lives in Porto"})
    item = await api.get(ALICE, "home")
    assert item is not None and item.value["content"] == "Alice lives in Porto"
    page = await call(api.store.memory, "get_all", user_id="memories.alice", include_deleted=True)
    [memory] = page.items
    history = await call(api.store.memory, "history", memory.id)
    ops = [h.operation for h in history]
    assert ops == [HistoryOp.ADD, HistoryOp.DELETE, HistoryOp.RESTORE, HistoryOp.UPDATE]


async def test_search_ranks_by_similarity_with_scores(api: Api) -> None:
    await api.put(ALICE, "tea", {"content": "Alice drinks green tea every morning"})
    await api.put(ALICE, "job", {"content": "Alice works as a nurse in Porto"})
    await api.put(ALICE, "pet", {"content": "Alice has a cat named Miso"})
    hits = await api.search(ALICE, query="What does Alice drink in the morning? tea")
    assert hits[0].key == "tea"
    assert all(isinstance(h.score, float) for h in hits)
    scores = [h.score or 0.0 for h in hits]
    assert scores == sorted(scores, reverse=True)
    two = await api.search(ALICE, query="tea", limit=2)
    rest = await api.search(ALICE, query="tea", limit=2, offset=2)
    assert [h.key for h in two + rest] == [h.key for h in await api.search(ALICE, query="tea")]


async def test_search_without_query_lists_with_limit_and_offset(api: Api) -> None:
    for i in range(5):
        await api.put(ALICE, f"k{i}", {"content": f"fact number {i}", "n": i})
    listed = await api.search(ALICE, limit=10)
    assert sorted(h.key for h in listed) == [f"k{i}" for i in range(5)]
    assert all(h.score is None for h in listed)
    pages = [await api.search(ALICE, limit=2, offset=o) for o in (0, 2, 4)]
    assert [h.key for page in pages for h in page] == [h.key for h in listed]
    assert await api.search(ALICE, limit=0) == []


async def test_search_filters_on_value_fields(api: Api) -> None:
    await api.put(ALICE, "a", {"content": "Alice likes tea", "kind": "drink", "n": 1})
    await api.put(ALICE, "b", {"content": "Alice likes jazz", "kind": "music", "n": 5})
    await api.put(ALICE, "c", {"content": "Alice likes coffee", "kind": "drink", "n": 9})

    async def keys(flt: dict[str, Any], **kw: Any) -> list[str]:
        return sorted(h.key for h in await api.search(ALICE, filter=flt, **kw))

    assert await keys({"kind": "drink"}) == ["a", "c"]
    assert await keys({"kind": "drink"}, query="coffee") == ["a", "c"]
    assert await keys({"kind": {"$ne": "drink"}}) == ["b"]
    assert await keys({"n": {"$gt": 1, "$lte": 9}}) == ["b", "c"]
    assert await keys({"n": {"$gte": 1, "$lt": 5}}) == ["a"]
    assert await keys({"kind": {"$eq": "music"}}) == ["b"]
    assert await keys({"content": "Alice likes jazz"}) == ["b"]


async def test_prefix_search_spans_child_namespaces_only(api: Api) -> None:
    await api.put(ALICE, "k", {"content": "Alice likes tea"})
    await api.put(BOB, "k", {"content": "Bob likes tea"})
    await api.put(("memories",), "k", {"content": "Everyone likes tea"})
    await api.put(("other", "alice"), "k", {"content": "Other tea fact"})
    hits = await api.search(("memories",), query="likes tea")
    assert sorted(h.namespace for h in hits) == [("memories",), ALICE, BOB]
    assert {h.namespace for h in await api.search(())} == {
        ("memories",),
        BOB,
        ALICE,
        ("other", "alice"),
    }
    assert [h.value["content"] for h in await api.search(ALICE, query="tea")] == ["Alice likes tea"]


async def test_namespaces_are_isolated(api: Api) -> None:
    await api.put(ALICE, "home", {"content": "Alice lives in Lisbon"})
    await api.put(BOB, "home", {"content": "Bob lives in Oslo"})
    alice, bob = await api.get(ALICE, "home"), await api.get(BOB, "home")
    assert alice is not None and bob is not None
    assert (alice.value["content"], bob.value["content"]) == (
        "Alice lives in Lisbon",
        "Bob lives in Oslo",
    )
    await api.delete(BOB, "home")
    assert await api.get(ALICE, "home") is not None
    assert await api.get(("memories", "carol"), "home") is None
    assert [h.key for h in await api.search(BOB, query="Lisbon")] == []
    assert await api.get(("memories", "alice", "deeper"), "home") is None


async def test_list_namespaces_matches_prefix_suffix_and_depth(api: Api) -> None:
    for ns in [("a", "b", "c"), ("a", "b", "d"), ("a", "e"), ("x", "b", "c")]:
        await api.put(ns, "k", {"content": f"fact in {'/'.join(ns)}"})
    assert await api.list_namespaces() == [
        ("a", "b", "c"),
        ("a", "b", "d"),
        ("a", "e"),
        ("x", "b", "c"),
    ]
    assert await api.list_namespaces(prefix=("a",)) == [
        ("a", "b", "c"),
        ("a", "b", "d"),
        ("a", "e"),
    ]
    assert await api.list_namespaces(suffix=("c",)) == [("a", "b", "c"), ("x", "b", "c")]
    assert await api.list_namespaces(prefix=("*", "b")) == [
        ("a", "b", "c"),
        ("a", "b", "d"),
        ("x", "b", "c"),
    ]
    assert await api.list_namespaces(max_depth=2) == [("a", "b"), ("a", "e"), ("x", "b")]
    assert await api.list_namespaces(limit=2, offset=1) == [("a", "b", "d"), ("a", "e")]
    await api.delete(("a", "e"), "k")
    assert ("a", "e") not in await api.list_namespaces()


async def test_structured_values_round_trip(api: Api) -> None:
    profile = {"name": "Alice", "langs": ["pt", "en"], "address": {"city": "Lisbon"}}
    await api.put(ALICE, "profile", profile)
    await api.put(ALICE, "note", {"content": "ignored text", "body": {"text": "Alice is a nurse"}},
                  index=["body.text"])  # fmt: skip
    got = await api.get(ALICE, "profile")
    note = await api.get(ALICE, "note")
    assert got is not None and got.value == profile
    assert note is not None and note.value["body"] == {"text": "Alice is a nurse"}
    assert note.value["content"] == "ignored text"
    assert [h.key for h in await api.search(ALICE, filter={"address": {"city": "Lisbon"}})] == [
        "profile"
    ]
    assert (await api.search(ALICE, query="Alice is a nurse"))[0].key == "note"


async def test_a_uuid_shaped_key_is_just_a_key(api: Api) -> None:
    key = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    await api.put(ALICE, key, {"content": "keyed by a uuid string"})
    item = await api.get(ALICE, key)
    assert item is not None and item.key == key
