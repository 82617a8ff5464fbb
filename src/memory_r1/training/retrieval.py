"""Retrieval over a bank snapshot held in memory, and applying manager operations to a copy.

Training needs the bank many times over (every sampled Memory Manager output is applied to
its own copy of a small bank), so it works on snapshots - plain lists of ``MemoryItem`` -
instead of a Qdrant collection. Ranking is the one the bank uses: cosine similarity of
L2-normalised embeddings, best first (ties keep bank order). Writes go through the core's
own ``plan_writes``, so an UPDATE or DELETE here means exactly what it means in a bank.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

import numpy as np

from memory_r1._core.ops import WriteOp, needs_vector, plan_writes
from memory_r1.embeddings.base import Embedder, Vectors
from memory_r1.types import MemoryItem, MemoryStatus

__all__ = ["EmbeddingCache", "apply_ops", "related_memories", "top_k_per_speaker"]


class EmbeddingCache:
    """An embedder that remembers every text it has embedded (banks repeat across samples).

    Example:
        >>> from memory_r1.testing import HashingEmbedder
        >>> cache = EmbeddingCache(HashingEmbedder(dim=16))
        >>> cache.embed(["a b", "a b"]).shape, len(cache)
        ((2, 16), 1)
    """

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._vectors: dict[str, Vectors] = {}

    def __len__(self) -> int:
        return len(self._vectors)

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One row per text, computing only the texts not seen before."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            rows = self.embedder.embed(missing)
            self._vectors.update(zip(missing, rows, strict=True))
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts]).astype(np.float32)


def _active(items: Iterable[MemoryItem], actor: str | None) -> list[MemoryItem]:
    return [
        m for m in items if m.status is MemoryStatus.ACTIVE and (actor is None or m.actor == actor)
    ]


def _ranked(cache: EmbeddingCache, query: str, items: list[MemoryItem], k: int) -> list[int]:
    if not items or k < 1:
        return []
    scores = cache.embed([m.text for m in items]) @ cache.embed([query])[0]
    return [int(i) for i in np.argsort(-scores, kind="stable")[:k]]


def top_k_per_speaker(
    cache: EmbeddingCache,
    query: str,
    items: Sequence[MemoryItem],
    speakers: Sequence[str],
    k: int,
) -> list[tuple[str, list[MemoryItem]]]:
    """The ``k`` active memories of each speaker closest to ``query``: the Answer Agent's input.

    Example:
        >>> from memory_r1.testing import HashingEmbedder
        >>> groups = top_k_per_speaker(EmbeddingCache(HashingEmbedder()), "dog", [], ["Ann"], 30)
        >>> groups
        [('Ann', [])]
    """
    out: list[tuple[str, list[MemoryItem]]] = []
    for speaker in speakers:
        pool = _active(items, speaker)
        out.append((speaker, [pool[i] for i in _ranked(cache, query, pool, k)]))
    return out


def related_memories(
    cache: EmbeddingCache,
    facts: Sequence[str],
    items: Sequence[MemoryItem],
    actor: str | None,
    k: int,
) -> list[MemoryItem]:
    """The memories shown to the Memory Manager: the top ``k`` of the speaker's active memories
    for each fact, deduplicated in order of first appearance (as ``Memory.add`` does)."""
    pool = _active(items, actor)
    seen: dict[UUID, MemoryItem] = {}
    for fact in facts:
        for i in _ranked(cache, fact, pool, k):
            seen.setdefault(pool[i].id, pool[i])
    return list(seen.values())


def apply_ops(
    cache: EmbeddingCache, items: Sequence[MemoryItem], ops: Sequence[WriteOp], now: datetime
) -> list[MemoryItem]:
    """A new snapshot: ``items`` after ``ops`` (planned by the core's ``plan_writes``).

    ``items`` is left as it is. New memories come last, in the order they were added.

    Raises:
        InvalidInputError / NotFoundError: an operation does not fit the snapshot.
    """
    texts = {i: t for i, op in enumerate(ops) if (t := needs_vector(op)) is not None}
    rows = cache.embed(list(texts.values()))
    vectors = {i: [float(x) for x in row] for i, row in zip(texts, rows, strict=True)}
    plan = plan_writes(list(ops), {m.id: m for m in items}, vectors, now)
    updated = [plan.items.get(m.id, m) for m in items]
    known = {m.id for m in items}
    return updated + [m for mid, m in plan.items.items() if mid not in known]
