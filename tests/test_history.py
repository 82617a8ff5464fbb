"""History never loses data; erase removes one scope's everything, and nothing else."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest

from helpers import snapshot
from memory_r1 import HistoryOp, Memory, MemoryStatus, NotFoundError


def test_the_chain_keeps_every_version(embedded: Memory) -> None:
    mid = embedded.add("v1", user_id="u", infer=False, source="D1:1").ids[0]
    for n in range(2, 6):
        embedded.update(mid, f"v{n}")
    embedded.delete(mid)
    embedded.restore(mid)
    chain = embedded.history(mid)
    assert [h.version for h in chain] == [1, 2, 3, 4, 5, 6, 7]
    assert [h.new_text for h in chain[:5]] == ["v1", "v2", "v3", "v4", "v5"]
    assert [h.old_text for h in chain[1:5]] == ["v1", "v2", "v3", "v4"]
    assert [h.item.status for h in chain[-2:]] == [MemoryStatus.DELETED, MemoryStatus.ACTIVE]
    assert chain[0].source == "D1:1"
    assert [h.seq for h in chain] == sorted(h.seq for h in chain)
    assert all(a.time < b.time for a, b in itertools.pairwise(chain))


def _rows(path: Path, table: str, user: str) -> int:
    with sqlite3.connect(path / "history.sqlite3") as db:
        return int(
            db.execute(f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (user,)).fetchone()[0]
        )


def test_erase_removes_vectors_history_and_inputs_of_that_scope_only(tmp_path: Path) -> None:
    m = Memory(path=tmp_path / "b", embedder="hashing:32")
    try:
        a = m.add_batch([{"messages": f"alice fact {i}", "user_id": "alice"} for i in range(4)])
        m.update(a[0].ids[0], "alice fact changed")
        m.delete(a[1].ids[0])
        m.add("alice in run", user_id="alice", run_id="r9", infer=False)
        m.add("bob fact", user_id="bob", infer=False)
        bob_before = snapshot(m, user_id="bob")

        report = m.erase(user_id="alice")
        assert (report.memories, report.inputs) == (5, 5)
        assert report.history_records == 4 + 1 + 1 + 1
        assert len(m.get_all(user_id="alice", include_deleted=True)) == 0
        assert m.search("alice fact", user_id="alice") == []
        with pytest.raises(NotFoundError):
            m.history(a[0].ids[0])
        assert _rows(tmp_path / "b", "history", "alice") == 0
        assert _rows(tmp_path / "b", "inputs", "alice") == 0
        assert snapshot(m, user_id="bob") == bob_before
        assert _rows(tmp_path / "b", "inputs", "bob") == 1
    finally:
        m.close()
    raw = b"".join(p.read_bytes() for p in (tmp_path / "b").glob("history.sqlite3*"))
    assert b"alice fact" not in raw and b"bob fact" in raw  # erased text is not left on disk


def test_a_narrower_erase_leaves_the_wider_scope(embedded: Memory) -> None:
    embedded.add("general", user_id="alice", infer=False)
    embedded.add("run only", user_id="alice", run_id="r1", infer=False)
    assert embedded.erase(user_id="alice", run_id="r1").memories == 1
    assert [i.text for i in embedded.get_all(user_id="alice")] == ["general"]


def test_history_survives_reopen(tmp_path: Path) -> None:
    with Memory(path=tmp_path / "b", embedder="hashing:32") as m:
        mid = m.add("first", user_id="u", infer=False).ids[0]
        m.update(mid, "second")
    with Memory(path=tmp_path / "b", embedder="hashing:32") as m:
        assert [h.operation for h in m.history(mid)] == [HistoryOp.ADD, HistoryOp.UPDATE]
        assert m.get(mid).text == "second"
