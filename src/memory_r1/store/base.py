"""The store protocol: what the memory bank needs from a vector engine.

Two implementations pass the same contract suite: ``EdgeStore`` (the embedded Qdrant
engine, the default) and ``QdrantStore`` (qdrant-client: a server, Qdrant Cloud, or its
in-process ``":memory:"`` mode for tests). Stores decide nothing: they carry out
``StoreOp``s and answer reads; filters arrive already parsed (``memory_r1._core.filters``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from memory_r1._core.filters import Cond
from memory_r1.exceptions import DimensionMismatchError


@dataclass(frozen=True)
class Upsert:
    """Write a point: its vector and its whole payload."""

    id: str
    vector: list[float]
    payload: dict[str, Any]


@dataclass(frozen=True)
class Overwrite:
    """Replace a point's whole payload, keeping its vector."""

    id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Remove:
    """Remove points for good (only ``erase`` and ``reset`` do this)."""

    ids: tuple[str, ...]


StoreOp = Upsert | Overwrite | Remove


@dataclass(frozen=True)
class Hit:
    """A point read back: id, payload, and the score when it came from a search."""

    id: str
    payload: dict[str, Any]
    score: float = 0.0


RetrievalMode = Literal["hybrid", "dense", "bm25"]


@dataclass(frozen=True)
class Retrieval:
    """How a store ranks a search that comes with its query text.

    ``hybrid`` (the default) fuses the dense (cosine) ranking and a BM25 ranking over the
    memory text (English stemming and stop words) by reciprocal-rank fusion with constant
    ``rrf_k``, each ranking taking its top ``candidates``; ``dense`` and ``bm25`` use one.
    A search without text, or with a similarity threshold (a cosine floor), is dense.
    On LoCoMo's raw turns, top-30 per speaker, hybrid finds 0.84 of the evidence against
    0.77 for MiniLM alone and 0.75 for BM25 alone (``benchmarks/retrieval.py``).
    """

    mode: RetrievalMode = "hybrid"
    rrf_k: int = 2
    candidates: int = 100

    def uses_text(self, text: str | None, threshold: float | None) -> bool:
        """True when this search ranks by BM25 (alone or fused)."""
        return self.mode != "dense" and bool(text and text.strip()) and threshold is None


class VectorStore(Protocol):
    """A collection of points (id, dense vector, JSON payload) in one Qdrant engine."""

    @property
    def dim(self) -> int:
        """Size of the vectors this store holds."""
        ...

    def apply(self, ops: Sequence[StoreOp]) -> None:
        """Carry out the operations in order; each one is idempotent."""
        ...

    def retrieve(self, ids: Sequence[str]) -> list[Hit]:
        """The points with these ids that exist, in any order."""
        ...

    def search(
        self,
        vector: Sequence[float],
        where: Cond,
        limit: int,
        threshold: float | None = None,
        text: str | None = None,
    ) -> list[Hit]:
        """Points matching ``where``, best first: by cosine similarity, or fused with a BM25
        ranking of ``text`` as the store's ``Retrieval`` says (scores are then fusion
        scores)."""
        ...

    def scroll(
        self, where: Cond, limit: int, cursor: str | None = None
    ) -> tuple[list[Hit], str | None]:
        """Points matching ``where`` in id order, from ``cursor``; returns the next cursor."""
        ...

    def count(self, where: Cond) -> int:
        """Number of points matching ``where``."""
        ...

    def close(self) -> None:
        """Flush and release the engine; the store is unusable afterwards."""
        ...


def group_upserts(ops: Sequence[StoreOp]) -> list[list[Upsert] | Overwrite | Remove]:
    """Consecutive upserts as one list, so that a store writes them in one call."""
    groups: list[list[Upsert] | Overwrite | Remove] = []
    for op in ops:
        if isinstance(op, Upsert):
            last = groups[-1] if groups else None
            if isinstance(last, list):
                last.append(op)
            else:
                groups.append([op])
        else:
            groups.append(op)
    return groups


def check_dim(vector: Sequence[float], dim: int) -> None:
    """Raise ``DimensionMismatchError`` unless ``vector`` has ``dim`` entries."""
    if len(vector) != dim:
        raise DimensionMismatchError(f"vector has {len(vector)} dimensions; the bank holds {dim}")
