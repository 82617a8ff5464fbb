"""MemoryR1Store works where InMemoryStore works: same results, LangMem-style tools, the Manager.

- The same operations on ``InMemoryStore`` (indexing ``content`` with the same embedder)
  and on ``MemoryR1Store`` give the same items, the same rankings and the same scores.
- Tools written the way LangMem writes them (``get_store()``, ``put`` with a uuid key,
  ``search``, ``delete``) run unchanged in a LangGraph agent loop on a ``MemoryR1Store``.
- Memories the Memory Manager writes, and its UPDATEs, show through the store.
"""

from __future__ import annotations

import json
import uuid
from collections import deque
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig, ensure_config
from langchain_core.tools import StructuredTool
from langgraph.config import get_store
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore
from memory_r1 import HashingEmbedder, Memory
from memory_r1.testing import ScriptedLLM

from langchain_memory_r1 import MemoryR1Embeddings, MemoryR1Store
from lc_support import agent, bank_config, facts, ops, tool_call

NS = ("memories", "alice")
FACTS = {
    "tea": {"content": "Alice drinks green tea every morning", "kind": "drink", "n": 1},
    "job": {"content": "Alice works as a nurse in Porto", "kind": "work", "n": 2},
    "cat": {"content": "Alice has a cat named Miso", "kind": "pet", "n": 3},
    "coffee": {"content": "Alice avoids coffee after noon", "kind": "drink", "n": 4},
}


def exercise(store: BaseStore) -> dict[str, Any]:
    """A workload of puts, updates, deletes and reads; returns everything it read."""
    for key, value in FACTS.items():
        store.put(NS, key, value)
    store.put(("memories", "bob"), "tea", {"content": "Bob drinks black tea", "kind": "drink"})
    store.put(NS, "job", {"content": "Alice works as a doctor in Porto", "kind": "work", "n": 2})
    store.delete(NS, "cat")
    queries = ["tea in the morning", "where does Alice work", "coffee"]
    item = store.get(NS, "job")
    return {
        "get": None if item is None else item.value,
        "deleted": store.get(NS, "cat"),
        "ranked": [
            [(h.key, round(h.score or 0.0, 4)) for h in store.search(NS, query=q)] for q in queries
        ],
        "filtered": sorted(h.key for h in store.search(NS, filter={"kind": "drink"})),
        "ranged": sorted(h.key for h in store.search(NS, filter={"n": {"$gte": 2}})),
        "prefix": sorted((h.namespace, h.key) for h in store.search(("memories",), query="tea")),
        "namespaces": store.list_namespaces(prefix=("memories",)),
    }


def test_same_results_as_in_memory_store(tmp_path: Path) -> None:
    # InMemoryStore ranks by cosine alone, so the bank uses dense retrieval here (memory-r1's
    # default, hybrid, fuses a BM25 ranking and reports fusion scores).
    config = bank_config(tmp_path / "bank")
    config["store"]["retrieval"] = "dense"
    embed = MemoryR1Embeddings(HashingEmbedder(64))
    reference = InMemoryStore(index={"dims": 64, "embed": embed, "fields": ["content"]})
    with Memory(config) as memory:
        expected, got = exercise(reference), exercise(MemoryR1Store(memory))
    assert got == expected
    assert got["ranked"][0][0][0] == "tea" and got["deleted"] is None


def langmem_style_tools(namespace: tuple[str, ...]) -> list[StructuredTool]:
    """``manage_memory`` / ``search_memory`` with LangMem 0.0.30's bodies (store from the graph,
    namespace template filled from ``config["configurable"]``, uuid keys, JSON results)."""

    def current_namespace() -> tuple[str, ...]:
        configurable = ensure_config().get("configurable", {})
        return tuple(label.format(**configurable) for label in namespace)

    def manage_memory(
        content: str | None = None,
        action: Literal["create", "update", "delete"] = "create",
        *,
        id: str | None = None,
    ) -> str:
        """Create, update or delete a memory."""
        store = get_store()
        if action == "delete":
            store.delete(current_namespace(), key=str(id))
            return f"Deleted memory {id}"
        key = id or str(uuid.uuid4())
        store.put(current_namespace(), key=key, value={"content": content})
        return f"{action}d memory {key}"

    def search_memory(query: str, *, limit: int = 10, offset: int = 0) -> str:
        """Search memories."""
        hits = get_store().search(current_namespace(), query=query, limit=limit, offset=offset)
        return json.dumps([h.dict() for h in hits], default=str)

    return [
        StructuredTool.from_function(manage_memory),
        StructuredTool.from_function(search_memory),
    ]


def test_langmem_style_tools_run_on_the_store_in_an_agent_loop(memory: Memory) -> None:
    turns: deque[AIMessage] = deque()
    model = GenericFakeChatModel(messages=iter(turns.popleft, None))
    store = MemoryR1Store(memory)
    graph = agent(model, langmem_style_tools(("memories", "{langgraph_user_id}")), store)
    config: RunnableConfig = {"configurable": {"thread_id": "t1", "langgraph_user_id": "alice"}}

    def run(message: str, *calls: AIMessage) -> list[Any]:
        turns.extend([*calls, AIMessage("ok")])
        out = graph.invoke({"messages": [HumanMessage(message)]}, config)
        return [m for m in out["messages"] if isinstance(m, ToolMessage)]

    run("I like tea", tool_call("manage_memory", "c1", content="Alice likes green tea"))
    [item] = store.search(NS)
    assert item.value == {"content": "Alice likes green tea"}
    run("Now coffee", tool_call("manage_memory", "c2", content="Alice likes coffee",
                                action="update", id=item.key))  # fmt: skip
    found = run("What do I like?", tool_call("search_memory", "c3", query="likes"))
    records = json.loads(str(found[-1].content))
    assert [(r["key"], r["value"]["content"]) for r in records] == [
        (item.key, "Alice likes coffee")
    ]
    run("Forget it", tool_call("manage_memory", "c4", action="delete", id=item.key))
    assert store.search(NS) == [] and store.get(NS, item.key) is None
    history = memory.history(memory.get_all(user_id="memories.alice", include_deleted=True)[0].id)
    assert [h.new_text for h in history][:2] == ["Alice likes green tea", "Alice likes coffee"]


def test_memory_manager_writes_show_through_the_store(memory: Memory, llm: ScriptedLLM) -> None:
    store = MemoryR1Store(memory)
    fact = "Alice adopted a cat named Miso"
    llm.script(facts(fact), ops({"id": "0", "text": fact, "event": "ADD"}))
    added = memory.add("I adopted Miso!", user_id="memories.alice")
    [item] = store.search(NS, query="cat")
    assert (item.key, item.value) == (
        str(added.ids[0]),
        {"content": "Alice adopted a cat named Miso"},
    )
    assert store.get(NS, str(added.ids[0])) is not None
    assert store.get(("memories", "bob"), str(added.ids[0])) is None


def test_a_manager_update_of_a_put_item_shows_through_get(memory: Memory, llm: ScriptedLLM) -> None:
    store = MemoryR1Store(memory)
    store.put(NS, "home", {"content": "Alice lives in Lisbon", "source": "onboarding"})
    llm.script(
        facts("Alice moved to Porto"),
        ops({"id": "0", "text": "Alice lives in Porto", "event": "UPDATE",
             "old_memory": "Alice lives in Lisbon"}),
    )  # fmt: skip
    memory.add("I moved to Porto", user_id="memories.alice")
    item = store.get(NS, "home")
    assert item is not None
    assert item.value == {"content": "Alice lives in Porto", "source": "onboarding"}


@pytest.mark.parametrize("field", ["agent_id", "run_id"])
def test_scope_field_picks_where_namespaces_live(memory: Memory, field: Any) -> None:
    store = MemoryR1Store(memory, scope_field=field)
    store.put(("agents", "planner"), "k", {"content": "plans are weekly"})
    scope: dict[str, Any] = {field: "agents.planner"}
    [mem] = memory.get_all(**scope).items
    assert mem.text == "plans are weekly"
    assert store.list_namespaces() == [("agents", "planner")]
    memory.add("a user's fact", user_id="agents.planner", infer=False)
    assert store.list_namespaces() == [("agents", "planner")]  # user_id is not this store's field


NAMESPACES = [("memories", "alice"), ("memories", "bob"), ("memories", "alice", "work")]
WRITE = st.tuples(
    st.sampled_from(NAMESPACES),
    st.sampled_from(["k0", "k1", "k2"]),
    st.one_of(st.none(), st.sampled_from(["tea", "coffee", "jazz", "a cat named Miso"])),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(writes=st.lists(WRITE, max_size=12))
def test_random_writes_read_back_like_in_memory_store(
    memory: Memory, writes: list[tuple[tuple[str, ...], str, str | None]]
) -> None:
    """Any sequence of puts and deletes reads back the same through both stores."""
    memory.reset(confirm=True)
    ours, reference = MemoryR1Store(memory), InMemoryStore()
    for namespace, key, word in writes:
        for store in (ours, reference):
            if word is None:
                store.delete(namespace, key)
            else:
                store.put(namespace, key, {"content": f"Alice likes {word}", "word": word})
    for namespace in NAMESPACES:
        for key in ["k0", "k1", "k2"]:
            got, want = ours.get(namespace, key), reference.get(namespace, key)
            assert (got and got.value) == (want and want.value)
        listed = sorted((h.key, h.value["word"]) for h in ours.search(namespace))
        assert listed == sorted((h.key, h.value["word"]) for h in reference.search(namespace))
    for prefix in [("memories",), ("memories", "alice")]:
        expected = sorted((h.namespace, h.key) for h in reference.search(prefix, limit=100))
        assert sorted((h.namespace, h.key) for h in ours.search(prefix, limit=100)) == expected
    # InMemoryStore keeps listing a namespace after its last item is deleted; memory-r1 lists
    # the scopes that hold memories.
    held = {h.namespace for h in reference.search((), limit=100)}
    non_empty = [ns for ns in reference.list_namespaces() if ns in held]
    assert ours.list_namespaces() == non_empty
