"""Embeddings both ways: LangChain ``Embeddings`` as memory-r1's embedder, and back."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings
from memory_r1 import (
    AsyncMemory,
    ConfigurationError,
    DimensionMismatchError,
    Embedder,
    InvalidInputError,
    Memory,
)

__all__ = ["LangChainEmbedder", "MemoryR1Embeddings"]

Vectors = npt.NDArray[np.float32]
_PROBE = "dimension probe"


class LangChainEmbedder:
    """Any LangChain ``Embeddings`` as a memory-r1 ``Embedder``: ``Memory(embedder=...)``.

    memory-r1 compares vectors by cosine, so rows are scaled to unit length. Documents and
    queries both go through ``embed_documents`` (memory-r1 has one ``embed``);
    ``AsyncMemory`` calls ``aembed``, i.e. ``aembed_documents``.

    Args:
        embeddings: the LangChain embeddings model.
        dim: the vector size; if omitted, one probe text is embedded to find it.
        name: the identifier memory-r1 stores in the bank to catch a changed embedder;
            by default ``"langchain:<class>[:<model>]"``.

    Raises:
        ConfigurationError: ``embeddings`` is not a LangChain ``Embeddings``.
        InvalidInputError: ``dim`` is not a positive integer.

    Example:
        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> embedder = LangChainEmbedder(DeterministicFakeEmbedding(size=32))
        >>> embedder.embed(["hello", "world"]).shape
        (2, 32)
    """

    def __init__(
        self, embeddings: Embeddings, *, dim: int | None = None, name: str | None = None
    ) -> None:
        if not isinstance(embeddings, Embeddings):
            raise ConfigurationError(
                f"expected a langchain_core Embeddings, got {type(embeddings).__name__}"
            )
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or dim < 1):
            raise InvalidInputError(f"dim must be a positive integer, got {dim!r}")
        self.embeddings = embeddings
        self._dim = dim if dim is not None else len(embeddings.embed_query(_PROBE))
        self._name = name or _default_name(embeddings)

    @property
    def dim(self) -> int:
        """Vector size."""
        return self._dim

    @property
    def name(self) -> str:
        """The identifier stored in the bank."""
        return self._name

    def embed(self, texts: Sequence[str]) -> Vectors:
        """An array of shape ``(len(texts), dim)``, float32, unit rows."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return self._rows(self.embeddings.embed_documents(list(texts)), len(texts))

    async def aembed(self, texts: Sequence[str]) -> Vectors:
        """Async twin of ``embed``."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return self._rows(await self.embeddings.aembed_documents(list(texts)), len(texts))

    def _rows(self, vectors: Any, count: int) -> Vectors:
        arr = np.asarray(vectors, dtype=np.float32)
        if arr.ndim != 2 or arr.shape != (count, self._dim):
            raise DimensionMismatchError(
                f"{self._name} returned vectors of shape {arr.shape}; expected ({count}, "
                f"{self._dim})"
            )
        norms = np.linalg.norm(arr, axis=1, keepdims=True)
        out: Vectors = np.divide(arr, norms, out=np.zeros_like(arr), where=norms > 0)
        return out

    def __repr__(self) -> str:
        return f"LangChainEmbedder(name={self._name!r}, dim={self._dim})"


def _default_name(embeddings: Embeddings) -> str:
    model = getattr(embeddings, "model", None) or getattr(embeddings, "model_name", None)
    base = f"langchain:{type(embeddings).__name__}"
    return f"{base}:{model}" if isinstance(model, str) and model else base


class MemoryR1Embeddings(Embeddings):
    """memory-r1's embedder as a LangChain ``Embeddings`` (e.g. for ``InMemoryStore``).

    Args:
        embedder: a memory-r1 ``Embedder`` (such as ``HashingEmbedder``), or a ``Memory`` /
            ``AsyncMemory`` whose embedder to share.

    Raises:
        ConfigurationError: ``embedder`` is neither.

    Example:
        >>> from memory_r1 import HashingEmbedder
        >>> len(MemoryR1Embeddings(HashingEmbedder(64)).embed_query("hello"))
        64
    """

    def __init__(self, embedder: Embedder | Memory | AsyncMemory) -> None:
        if isinstance(embedder, Memory | AsyncMemory):
            embedder = embedder.embedder
        if not isinstance(embedder, Embedder):
            raise ConfigurationError(
                f"expected a memory_r1 Embedder or Memory, got {type(embedder).__name__}"
            )
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text."""
        _check_texts(texts)
        if not texts:
            return []
        return np.asarray(self.embedder.embed(texts), dtype=np.float32).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        """The vector of one text."""
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async twin of ``embed_documents`` (the embedder's ``aembed`` when it has one)."""
        _check_texts(texts)
        if not texts:
            return []
        aembed = getattr(self.embedder, "aembed", None)
        vectors = (
            await aembed(texts) if aembed else await asyncio.to_thread(self.embedder.embed, texts)
        )
        return np.asarray(vectors, dtype=np.float32).tolist()  # type: ignore[no-any-return]

    async def aembed_query(self, text: str) -> list[float]:
        """Async twin of ``embed_query``."""
        return (await self.aembed_documents([text]))[0]


def _check_texts(texts: Any) -> None:
    if isinstance(texts, str) or not isinstance(texts, list | tuple):
        raise InvalidInputError(f"texts must be a list of strings, got {type(texts).__name__}")
    bad = [t for t in texts if not isinstance(t, str)]
    if bad:
        raise InvalidInputError(f"texts must be strings, got {bad[:3]!r}")
