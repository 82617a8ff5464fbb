"""Bad input gets a clear, typed error, and changes nothing.

Errors come from memory-r1's tree (``MemoryR1Error`` → ``InvalidInputError`` /
``ScopeError`` / ``FilterError`` / ``ConfigurationError`` / …), from LangGraph
(``InvalidNamespaceError``) or from pydantic (``ValidationError``, for constructor fields).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.messages import HumanMessage
from langgraph.store.base import GetOp, InvalidNamespaceError, PutOp, SearchOp
from langgraph.store.memory import InMemoryStore
from memory_r1 import (
    ConfigurationError,
    DimensionMismatchError,
    FilterError,
    InvalidInputError,
    Memory,
    ScopeError,
)
from pydantic import ValidationError

from langchain_memory_r1 import (
    AutoMemory,
    LangChainEmbedder,
    MemoryR1Embeddings,
    MemoryR1Retriever,
    MemoryR1Store,
    create_manage_memory_tool,
    create_search_memory_tool,
)
from lc_support import Clock, bank_config

NS = ("memories", "alice")


@pytest.fixture
def filled(memory: Memory) -> MemoryR1Store:
    store = MemoryR1Store(memory)
    store.put(NS, "k", {"content": "Alice likes tea"})
    return store


def snapshot(memory: Memory) -> list[tuple[str, int]]:
    """Every memory of every scope, deleted ones too, with its version."""
    return sorted(
        (m.text, m.version)
        for scope in memory.scopes()
        for m in memory.get_all(include_deleted=True, **scope.model_dump(exclude_none=True))
    )


@pytest.mark.parametrize(
    ("namespace", "error"),
    [
        (("memories", "a.b"), InvalidNamespaceError),
        (("memories", ""), InvalidNamespaceError),
        ((), InvalidNamespaceError),
        (["memories", "alice"], InvalidNamespaceError),
        (("memories", 3), InvalidNamespaceError),
        (("x" * 300,), ScopeError),
    ],
)
def test_bad_namespaces(filled: MemoryR1Store, namespace: Any, error: type[Exception]) -> None:
    assert isinstance(filled.memory, Memory)
    before = snapshot(filled.memory)
    with pytest.raises(error):
        filled.batch([PutOp(namespace, "k", {"content": "x"})])
    with pytest.raises(error):
        filled.batch([GetOp(namespace, "k")])
    assert snapshot(filled.memory) == before and before


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("just text", "must be a dict"),
        ({"content": "x", "lg_key": "forged"}, "reserved"),
        ({"content": "x", "lg_derived_text": True}, "reserved"),
        ({"content": "x", "when": object()}, "JSON"),
        ({"content": "x", "n": float("nan")}, "finite"),
    ],
)
def test_bad_values(filled: MemoryR1Store, value: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        filled.put(NS, "other", value)
    assert filled.get(NS, "other") is None


@pytest.mark.parametrize("key", ["", None, 3])
def test_bad_keys(filled: MemoryR1Store, key: Any) -> None:
    with pytest.raises(InvalidInputError, match="key"):
        filled.batch([GetOp(NS, key)])


@pytest.mark.parametrize(
    "flt",
    [
        {"tags": ["a", "b"]},
        {"n": {"$in": [1, 2]}},
        {"n": {"$gt": [1]}},
        {"bad key!": 1},
    ],
)
def test_bad_filters(filled: MemoryR1Store, flt: dict[str, Any]) -> None:
    with pytest.raises(FilterError):
        filled.search(NS, filter=flt)


@pytest.mark.parametrize(("limit", "offset"), [(-1, 0), (10, -2), (True, 0), (9_000, 2_000)])
def test_bad_windows(filled: MemoryR1Store, limit: Any, offset: Any) -> None:
    with pytest.raises(InvalidInputError):
        filled.batch([SearchOp(NS, limit=limit, offset=offset)])
    with pytest.raises(InvalidInputError):
        filled.list_namespaces(limit=limit, offset=offset)


def test_ttl_and_unknown_ops_are_refused(filled: MemoryR1Store) -> None:
    with pytest.raises(NotImplementedError):
        filled.put(NS, "t", {"content": "x"}, ttl=5)
    with pytest.raises(InvalidInputError, match="unknown store operation"):
        filled.batch(["not an op"])  # type: ignore[list-item]


def test_bad_store_construction(memory: Memory) -> None:
    with pytest.raises(ConfigurationError, match="Memory or AsyncMemory"):
        MemoryR1Store(InMemoryStore())  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="scope_field"):
        MemoryR1Store(memory, scope_field="org_id")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="text_key"):
        MemoryR1Store(memory, text_key="lg_key")


def test_tool_errors(memory: Memory, tmp_path: Path) -> None:
    store = MemoryR1Store(memory)
    for template in ["memories", (), ("memories", "{user.id}"), ("{0}",), ("{user_id!r}",)]:
        with pytest.raises(ScopeError):
            create_manage_memory_tool(template, store=store)
    with pytest.raises(ConfigurationError, match="MemoryR1Store"):
        create_search_memory_tool(store=InMemoryStore())  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="limit"):
        create_search_memory_tool(store=store, answer_agent=False, limit=0)
    tool = create_manage_memory_tool(store=store)
    with pytest.raises(ScopeError, match="user_id"):
        tool.invoke({"content": "I like tea"})
    with pytest.raises(InvalidInputError, match="non-empty"):
        tool.invoke({"content": "   "}, {"configurable": {"user_id": "alice"}})
    with pytest.raises(ValidationError):
        tool.invoke({"text": "I like tea"}, {"configurable": {"user_id": "alice"}})
    with pytest.raises(ConfigurationError, match="no store"):
        create_manage_memory_tool().invoke({"content": "x"}, {"configurable": {"user_id": "a"}})
    with Memory(bank_config(tmp_path / "no-llm"), clock=Clock()) as plain:
        no_llm = create_manage_memory_tool(store=MemoryR1Store(plain))
        with pytest.raises(ConfigurationError, match="llm"):
            no_llm.invoke({"content": "I like tea"}, {"configurable": {"user_id": "alice"}})


def test_retriever_errors(memory: Memory) -> None:
    with pytest.raises(ValidationError, match="user_id, agent_id or run_id"):
        MemoryR1Retriever(memory=memory)
    with pytest.raises(ValidationError):
        MemoryR1Retriever(memory=memory, user_id="alice", k=0)
    retriever = MemoryR1Retriever(memory=memory, user_id="alice")
    with pytest.raises(InvalidInputError, match="unknown retriever arguments"):
        retriever.invoke("tea", top_n=3)
    with pytest.raises(InvalidInputError):
        retriever.invoke("   ")


def test_embeddings_errors() -> None:
    with pytest.raises(ConfigurationError):
        LangChainEmbedder("openai:text-embedding-3-small")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="dim"):
        LangChainEmbedder(DeterministicFakeEmbedding(size=8), dim=0)
    wrong = LangChainEmbedder(DeterministicFakeEmbedding(size=8), dim=16)
    with pytest.raises(DimensionMismatchError, match=r"\(2, 8\)"):
        wrong.embed(["a", "b"])
    with pytest.raises(ConfigurationError):
        MemoryR1Embeddings("hashing")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="list of strings"):
        MemoryR1Embeddings(LangChainEmbedder(DeterministicFakeEmbedding(size=8))).embed_documents(
            "abc"  # type: ignore[arg-type]
        )


def test_auto_memory_errors(memory: Memory) -> None:
    store = MemoryR1Store(memory)
    with pytest.raises(InvalidInputError, match="roles"):
        AutoMemory(store, roles=("system",))
    with pytest.raises(InvalidInputError, match="roles"):
        AutoMemory(store, roles="user")
    with pytest.raises(InvalidInputError, match="limit"):
        AutoMemory(store, limit=0)
    auto = AutoMemory(store, answer_agent=False)
    with pytest.raises(InvalidInputError, match="messages"):
        auto.recall.invoke({"msgs": [HumanMessage("hi")]})
    with pytest.raises(ScopeError, match="user_id"):
        auto.recall.invoke({"messages": [HumanMessage("hi")]})
