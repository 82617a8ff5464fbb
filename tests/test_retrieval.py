"""Retrieval modes: hybrid (dense + BM25, the default), dense, bm25 — on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import memory_config
from memory_r1 import Memory

DOCS = [
    "Caroline researched adoption agencies last week",
    "Melanie painted a lake at sunrise",
    "Caroline went to a support group meeting",
    "Melanie's children love camping by the beach",
]


def filled(backend: str, path: Path, mode: str) -> Memory:
    cfg = memory_config(backend, path)
    cfg["store"] = {**cfg["store"], "retrieval": mode}  # type: ignore[dict-item]
    mem = Memory(cfg)
    for text in DOCS:
        mem.add(text, user_id="u", infer=False)
    mem.add("Caroline researched adoption agencies too", user_id="other", infer=False)
    return mem


def test_bm25_returns_only_memories_sharing_a_stemmed_term(backend: str, tmp_path: Path) -> None:
    with filled(backend, tmp_path / "b", "bm25") as mem:
        hits = mem.search("Which agencies did she research?", user_id="u", limit=10)
        # "agencies"/"research" match by stem; stop words ("which", "did", "she") do not.
        assert [h.text for h in hits] == [DOCS[0]]
        if backend != "qdrant-memory":  # qdrant-client's local mode: default tokenizer only
            assert mem.search("the of and", user_id="u") == []


def test_hybrid_puts_the_lexical_match_first_and_fills_with_dense_hits(
    backend: str, tmp_path: Path
) -> None:
    with filled(backend, tmp_path / "b", "hybrid") as mem:
        hits = mem.search("adoption", user_id="u", limit=4)
        assert hits[0].text == DOCS[0]
        assert len(hits) == 4  # the dense ranking brings memories without the term too
        assert all(h.scope.user_id == "u" for h in hits)  # the filter holds in both rankings
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_dense_mode_and_thresholds_rank_by_cosine(backend: str, tmp_path: Path) -> None:
    with filled(backend, tmp_path / "b", "dense") as dense:
        plain = [(h.text, round(h.score, 5)) for h in dense.search("adoption", user_id="u")]
    with filled(backend, tmp_path / "c", "hybrid") as hybrid:
        # A similarity threshold is a cosine floor, so a thresholded search is dense.
        floor = [
            (h.text, round(h.score, 5))
            for h in hybrid.search("adoption", user_id="u", threshold=-1.0)
        ]
    assert floor == plain and all(-1.0 <= s <= 1.0 for _, s in plain)


def test_an_embedded_bank_from_before_bm25_gains_the_text_index(tmp_path: Path) -> None:
    import qdrant_edge as q

    from memory_r1.store.edge import EdgeStore

    path = tmp_path / "old"
    params = q.EdgeVectorParams(size=8, distance=q.Distance.Cosine)
    q.EdgeShard.create(str(path), q.EdgeConfig(vectors=params)).close()
    store = EdgeStore(path, 8)
    try:
        assert "text" in store._shard.info().payload_schema
    finally:
        store.close()


@pytest.mark.parametrize("mode", ["hybrid", "bm25"])
def test_an_embedded_bank_without_sparse_vectors_still_ranks_by_bm25(
    tmp_path: Path, mode: str
) -> None:
    import qdrant_edge as q

    # A bank as created before BM25 moved to sparse vectors: dense vectors only.
    params = q.EdgeVectorParams(size=64, distance=q.Distance.Cosine)
    q.EdgeShard.create(str(tmp_path / "b" / "qdrant"), q.EdgeConfig(vectors=params)).close()
    cfg = {"store": {"path": str(tmp_path / "b"), "retrieval": mode}, "embedder": "hashing:64"}
    with Memory(cfg) as mem:
        assert mem._bank.store._bm25 is None  # the full-text index path
        for text in DOCS:
            mem.add(text, user_id="u", infer=False)
        hits = mem.search("Which agencies did she research?", user_id="u", limit=4)
        assert hits[0].text == DOCS[0]
        assert len(hits) == (1 if mode == "bm25" else 4)


def test_new_embedded_banks_keep_a_bm25_sparse_vector_per_memory(tmp_path: Path) -> None:
    cfg = {"store": {"path": str(tmp_path / "b"), "retrieval": "bm25"}, "embedder": "hashing:64"}
    with Memory(cfg) as mem:
        mid = mem.add(DOCS[0], user_id="u", infer=False).ids[0]
        mem.update(mid, "Caroline visited a pottery class")  # new text, new sparse vector
        shard = mem._bank.store._shard
        (record,) = shard.retrieve([str(mid)], False, True)
        assert len(record.vector["bm25"].indices) == 4  # caroline visit pottery class
        assert [h.text for h in mem.search("pottery", user_id="u")] == [
            "Caroline visited a pottery class"
        ]
        assert mem.search("adoption agencies", user_id="u") == []  # the old text's terms are gone


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_every_mode_passes_the_answer_agent_its_speakers_memories(
    tmp_path: Path, mode: str
) -> None:
    from memory_r1.testing import ScriptedLLM

    llm = ScriptedLLM(["**Answer:** agencies"])
    cfg = {"store": {"path": str(tmp_path / "b"), "retrieval": mode}, "embedder": "hashing:64"}
    with Memory(cfg, llm=llm) as mem:
        turns = [{"role": "user", "name": "Caroline", "content": DOCS[0]}]
        mem.add(turns, user_id="u", infer=False)
        result = mem.answer("What did Caroline research? adoption agencies", user_id="u")
        assert [m.text for m in result.retrieved] == [DOCS[0]]
