"""Embeddings both ways, with LangChain's standard embeddings suites."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests
from memory_r1 import AsyncMemory, HashingEmbedder, Memory

from langchain_memory_r1 import LangChainEmbedder, MemoryR1Embeddings
from lc_support import Clock, bank_config


class TestMemoryR1EmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return MemoryR1Embeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"embedder": HashingEmbedder(64)}


class TestMemoryR1EmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return MemoryR1Embeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"embedder": HashingEmbedder(64)}


async def test_memory_r1_embeddings_match_the_embedder_sync_and_async() -> None:
    embedder = HashingEmbedder(64)
    embeddings = MemoryR1Embeddings(embedder)
    expected = embedder.embed(["tea", "coffee"])
    assert np.allclose(embeddings.embed_documents(["tea", "coffee"]), expected)
    assert np.allclose(await embeddings.aembed_documents(["tea", "coffee"]), expected)
    assert np.allclose(embeddings.embed_query("tea"), expected[0])
    assert np.allclose(await embeddings.aembed_query("coffee"), expected[1])
    assert embeddings.embed_documents([]) == []


def test_memory_r1_embeddings_share_a_memorys_embedder(memory: Memory) -> None:
    assert MemoryR1Embeddings(memory).embedder is memory.embedder


class Counting(DeterministicFakeEmbedding):
    """langchain-core's deterministic fake embeddings, counting sync and async calls."""

    calls: list[str] = []  # noqa: RUF012 - pydantic copies the default per instance

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append("sync")
        return super().embed_documents(texts)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append("async")
        return super().embed_documents(texts)


def test_langchain_embeddings_drive_a_memory(tmp_path: Path) -> None:
    lc = Counting(size=48)
    embedder = LangChainEmbedder(lc)
    assert (embedder.dim, embedder.name) == (48, "langchain:Counting")
    config = {"store": {"path": str(tmp_path / "b")}}
    with Memory(config, embedder=embedder, clock=Clock()) as memory:
        for text in ["Alice drinks green tea", "Alice works in Porto", "Alice has a cat"]:
            memory.add(text, user_id="alice", infer=False)
        hits = memory.search("Alice works in Porto", user_id="alice")
        assert hits[0].text == "Alice works in Porto" and hits[0].score == pytest.approx(1.0)
    vectors = embedder.embed(["a", "b"])
    assert vectors.dtype == np.float32 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0)


async def test_async_memory_uses_the_async_embeddings(tmp_path: Path) -> None:
    lc = Counting(size=32)
    embedder = LangChainEmbedder(lc, dim=32, name="fake-32")
    async with AsyncMemory(bank_config(tmp_path / "b"), embedder=embedder) as memory:
        lc.calls.clear()
        await memory.add("Alice drinks green tea", user_id="alice", infer=False)
        assert (await memory.search("green tea", user_id="alice"))[
            0
        ].text == "Alice drinks green tea"
    assert lc.calls and set(lc.calls) == {"async"}


def test_the_round_trip_keeps_vectors(tmp_path: Path) -> None:
    """memory-r1 embedder → LangChain → memory-r1 embedder: the same unit vectors."""
    inner = HashingEmbedder(64)
    outer = LangChainEmbedder(MemoryR1Embeddings(inner))
    assert outer.dim == 64
    assert np.allclose(outer.embed(["x y z", "tea"]), inner.embed(["x y z", "tea"]), atol=1e-6)
