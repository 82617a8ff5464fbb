"""A crash between the history log and the vector store is repaired when the bank reopens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from memory_r1 import HistoryOp, Memory, StorageError
from memory_r1.store.edge import EdgeStore


def test_a_write_journaled_but_not_applied_is_replayed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = Memory(path=tmp_path / "b", embedder="hashing:32")
    mid = m.add("before the crash", user_id="u", infer=False).ids[0]

    def broken(self: EdgeStore, ops: object) -> None:
        raise StorageError("disk on fire")

    monkeypatch.setattr(EdgeStore, "apply", broken)
    with pytest.raises(StorageError, match="applied when the bank next opens"):
        m.update(mid, "after the crash")
    monkeypatch.undo()
    m.close()
    with Memory(path=tmp_path / "b", embedder="hashing:32") as m:
        assert m.get(mid).text == "after the crash"
        assert [h.operation for h in m.history(mid)] == [HistoryOp.ADD, HistoryOp.UPDATE]
        assert m.search("after the crash", user_id="u")[0].id == mid


KILLED = textwrap.dedent("""
    import os, signal, sys
    from memory_r1 import Memory
    from memory_r1.store.edge import EdgeStore
    m = Memory(path=sys.argv[1], embedder="hashing:32")
    m.add("survivor", user_id="u", infer=False)
    def die(self, ops):
        os.kill(os.getpid(), signal.SIGKILL)
    EdgeStore.apply = die
    m.add("journaled only", user_id="u", infer=False)
""")


def test_sigkill_after_the_journal_loses_nothing(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLED, str(tmp_path / "b")], check=False)
    assert proc.returncode == -signal.SIGKILL
    with Memory(path=tmp_path / "b", embedder="hashing:32") as m:
        texts = sorted(i.text for i in m.get_all(user_id="u"))
        assert texts == ["journaled only", "survivor"]
        for item in m.get_all(user_id="u"):
            assert [h.version for h in m.history(item.id)] == [item.version]
    assert os.path.exists(tmp_path / "b" / "bank.lock")
