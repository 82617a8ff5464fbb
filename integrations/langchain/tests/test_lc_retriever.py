"""MemoryR1Retriever: LangChain's standard retriever suite, documents with id, score and times."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import RetrieversIntegrationTests
from memory_r1 import AsyncMemory, Memory

from langchain_memory_r1 import MemoryR1Retriever
from lc_support import Clock, bank_config

FACTS = [
    "Alice drinks green tea every morning",
    "Alice works as a nurse in Porto",
    "Alice has a cat named Miso",
    "Alice plays the guitar on weekends",
    "Alice is allergic to peanuts",
]


class TestStandardRetriever(RetrieversIntegrationTests):
    _memory: Memory

    @pytest.fixture(autouse=True)
    def _bank(self, tmp_path: Path) -> Iterator[None]:
        self._memory = Memory(bank_config(tmp_path / "bank"), clock=Clock())
        self._memory.add_batch([{"messages": f, "user_id": "alice"} for f in FACTS])
        yield
        self._memory.close()

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return MemoryR1Retriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"memory": self._memory, "user_id": "alice"}

    @property
    def retriever_query_example(self) -> str:
        return "What does Alice drink?"


async def add(memory: Memory | AsyncMemory, text: str, **kw: Any) -> None:
    result = memory.add(text, infer=False, **kw)
    if isinstance(memory, AsyncMemory):
        await result  # type: ignore[misc]


@pytest.mark.parametrize("style", ["sync", "async"])
async def test_documents_carry_id_score_and_times(
    any_memory: Memory | AsyncMemory, style: str
) -> None:
    for text in FACTS:
        await add(any_memory, text, user_id="alice", metadata={"topic": "bio"})
    await add(any_memory, "Alice lives in Porto", user_id="alice", timestamp="2024-03-01")
    await add(any_memory, "Bob drinks green tea", user_id="bob")
    retriever = MemoryR1Retriever(memory=any_memory, user_id="alice", k=3)
    query = "Alice lives in which city?"
    docs = retriever.invoke(query) if style == "sync" else await retriever.ainvoke(query)
    assert len(docs) == 3 and docs[0].page_content == "Alice lives in Porto"
    top = docs[0]
    assert top.id == top.metadata["id"]
    assert top.metadata["event_time"].startswith("2024-03-01")
    assert [d.metadata["score"] for d in docs] == sorted(
        (d.metadata["score"] for d in docs), reverse=True
    )
    for doc in docs:
        datetime.fromisoformat(doc.metadata["created_at"])
        datetime.fromisoformat(doc.metadata["updated_at"])
        assert doc.metadata["scope"] == {"user_id": "alice"}
    tea = retriever.invoke("green tea", k=5, filters={"topic": "bio"})
    assert "Bob drinks green tea" not in [d.page_content for d in tea]
    assert all(d.metadata["metadata"] == {"topic": "bio"} for d in tea)


def test_threshold_drops_distant_memories(memory: Memory) -> None:
    memory.add_batch([{"messages": f, "user_id": "alice"} for f in FACTS])
    retriever = MemoryR1Retriever(memory=memory, user_id="alice", k=5)
    everything = retriever.invoke("green tea every morning")
    close = retriever.invoke("green tea every morning", threshold=0.5)
    assert len(close) < len(everything) and close[0].page_content == FACTS[0]
