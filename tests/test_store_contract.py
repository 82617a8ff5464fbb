"""The contract every VectorStore keeps: the same suite on each implementation."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from memory_r1 import DimensionMismatchError
from memory_r1._core.filters import Bool, Match, parse_filters, scope_condition
from memory_r1.store.base import Overwrite, Remove, Upsert, VectorStore
from memory_r1.store.edge import EdgeStore
from memory_r1.store.qdrant import QdrantStore

DIM = 16
Factory = Callable[[Path, int], VectorStore]


def _qdrant_path(path: Path, dim: int) -> VectorStore:
    from qdrant_client import QdrantClient

    return QdrantStore(dim, client=QdrantClient(path=str(path)))


FACTORIES: dict[str, tuple[Factory, bool]] = {  # name -> (factory, persists across reopen)
    "edge": (lambda p, d: EdgeStore(p, d), True),
    "qdrant-local-path": (_qdrant_path, True),
    "qdrant-memory": (lambda p, d: QdrantStore(d, location=":memory:"), False),
}
if os.environ.get("QDRANT_URL"):
    FACTORIES["qdrant-server"] = (
        lambda p, d: QdrantStore(d, url=os.environ["QDRANT_URL"], collection=f"c_{p.parent.name}"),
        True,
    )


@pytest.fixture(params=sorted(FACTORIES))
def factory(request: pytest.FixtureRequest) -> tuple[Factory, bool]:
    return FACTORIES[str(request.param)]


@pytest.fixture
def store(factory: tuple[Factory, bool], tmp_path: Path) -> Iterator[VectorStore]:
    s = factory[0](tmp_path / "store", DIM)
    yield s
    s.close()


def vec(seed: int) -> list[float]:
    v = np.random.default_rng(seed).standard_normal(DIM)
    return (v / np.linalg.norm(v)).tolist()


def point(seed: int, user: str, status: str = "active", **extra: object) -> Upsert:
    payload = {"text": f"t{seed}", "user_id": user, "status": status, **extra}
    return Upsert(str(uuid.UUID(int=seed + 1)), vec(seed), payload)


def test_upsert_then_retrieve(store: VectorStore) -> None:
    store.apply([point(1, "a"), point(2, "b")])
    got = {
        h.id: h.payload["text"]
        for h in store.retrieve([str(uuid.UUID(int=2)), str(uuid.UUID(int=99))])
    }
    assert got == {str(uuid.UUID(int=2)): "t1"}
    assert store.dim == DIM


def test_search_only_returns_the_scope_and_ranks_by_similarity(store: VectorStore) -> None:
    store.apply([point(i, "a" if i % 2 else "b") for i in range(20)])
    hits = store.search(vec(3), scope_condition({"user_id": "a"}, active_only=True), limit=5)
    assert len(hits) == 5 and all(h.payload["user_id"] == "a" for h in hits)
    assert hits[0].id == str(uuid.UUID(int=4)) and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_overwrite_keeps_the_vector_and_status_filters_apply(store: VectorStore) -> None:
    p = point(5, "a")
    store.apply([p, Overwrite(p.id, {**p.payload, "status": "deleted", "text": "t5b"})])
    active = scope_condition({"user_id": "a"}, active_only=True)
    assert store.search(vec(5), active, limit=3) == []
    every = scope_condition({"user_id": "a"}, active_only=False)
    (hit,) = store.search(vec(5), every, limit=3)
    assert hit.payload["text"] == "t5b" and hit.score == pytest.approx(1.0, abs=1e-5)


def test_remove_is_idempotent(store: VectorStore) -> None:
    store.apply([point(1, "a"), point(2, "a")])
    ops = [Remove((point(1, "a").id,))]
    store.apply(ops)
    store.apply(ops)
    assert store.count(scope_condition({"user_id": "a"}, active_only=False)) == 1


def test_scroll_pages_cover_each_point_once(store: VectorStore) -> None:
    store.apply([point(i, "a") for i in range(25)] + [point(100 + i, "b") for i in range(5)])
    where = scope_condition({"user_id": "a"}, active_only=True)
    seen, cursor = [], None
    while True:
        hits, cursor = store.scroll(where, 7, cursor)
        seen += [h.id for h in hits]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 25 == store.count(where)


def test_filters_compile_the_same_way(store: VectorStore) -> None:
    store.apply(
        [
            point(1, "a", topic="food", n=1),
            point(2, "a", topic="travel", n=5),
            point(3, "a", topic="work", n=9, tags=["x", "y"]),
        ]
    )

    def ids(f: dict[str, object]) -> set[int]:
        where = Bool(must=(Match("user_id", "a"), parse_filters(f)))
        hits, _ = store.scroll(where, 100)
        return {uuid.UUID(h.id).int - 1 for h in hits}

    assert ids({"metadata.topic": "food"}) == set()  # payload here has no metadata level
    assert ids({"text": "t2"}) == {2}
    assert ids({"OR": [{"text": "t1"}, {"text": {"contains": "3"}}]}) == {1, 3}
    assert ids({"NOT": [{"text": {"in": ["t1", "t2"]}}]}) == {3}


def test_vectors_of_the_wrong_size_are_refused(store: VectorStore) -> None:
    with pytest.raises(DimensionMismatchError):
        store.apply([Upsert(str(uuid.uuid4()), [0.1] * (DIM + 1), {"user_id": "a"})])
    with pytest.raises(DimensionMismatchError):
        store.search([0.1] * 3, scope_condition({"user_id": "a"}, active_only=True), 3)
    assert store.count(scope_condition({"user_id": "a"}, active_only=False)) == 0


def test_persists_across_close_and_reopen(factory: tuple[Factory, bool], tmp_path: Path) -> None:
    make, persists = factory
    if not persists:
        pytest.skip("this implementation keeps nothing after close")
    s = make(tmp_path / "store", DIM)
    s.apply(
        [point(i, "a") for i in range(10)]
        + [Overwrite(point(3, "a").id, {"user_id": "a", "text": "new"})]
    )
    s.close()
    s = make(tmp_path / "store", DIM)
    try:
        assert s.count(scope_condition({"user_id": "a"}, active_only=False)) == 10
        assert s.retrieve([point(3, "a").id])[0].payload["text"] == "new"
        assert (
            s.search(vec(7), scope_condition({"user_id": "a"}, active_only=False), 1)[0].id
            == point(7, "a").id
        )
    finally:
        s.close()


def test_reopening_with_another_size_is_a_clear_error(
    factory: tuple[Factory, bool], tmp_path: Path
) -> None:
    make, persists = factory
    if not persists:
        pytest.skip("this implementation keeps nothing after close")
    make(tmp_path / "store", DIM).close()
    with pytest.raises(DimensionMismatchError, match="16-d"):
        make(tmp_path / "store", DIM * 2)
