"""More writers at once (``test_concurrency.py`` has the basics): async tasks racing on one
memory, threads mixing batches, deletes and searches, and processes contending for a bank
(``benchmarks/contention.py`` runs the long version)."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from memory_r1 import AsyncMemory, Memory

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import contention


async def test_async_tasks_racing_on_one_memory_keep_a_gapless_history(tmp_path: Path) -> None:
    async with AsyncMemory(path=tmp_path / "b", embedder="hashing:32") as m:
        mid = (await m.add("v0", user_id="u", infer=False)).ids[0]
        texts = [f"v{n}" for n in range(1, 31)]
        await asyncio.gather(
            *(m.update(mid, t) for t in texts),
            *(m.add(f"other {n}", user_id="u", infer=False) for n in range(10)),
        )
        history = await m.history(mid)
        assert [h.version for h in history] == list(range(1, 32))
        assert sorted(h.new_text or "" for h in history[1:]) == sorted(texts)
        assert (await m.get(mid)).text == history[-1].new_text
        assert len(await m.get_all(user_id="u")) == 11


def test_threads_mixing_batches_deletes_and_searches(embedded: Memory) -> None:
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer(n: int) -> None:
        for k in range(8):
            batch = [{"messages": f"w{n} b{k} #{i}", "user_id": f"w{n}"} for i in range(5)]
            ids = [r.ids[0] for r in embedded.add_batch(batch)]
            embedded.delete(ids[0], user_id=f"w{n}")

    def reader() -> None:
        while not stop.is_set():
            for n in range(3):
                hits = embedded.search("b3", user_id=f"w{n}", limit=50)
                assert all(h.scope.user_id == f"w{n}" for h in hits)

    def guarded(fn: Callable[..., None], *args: int) -> None:
        try:
            fn(*args)
        except BaseException as exc:  # collected; the test fails below
            errors.append(exc)

    readers = [threading.Thread(target=guarded, args=(reader,)) for _ in range(2)]
    writers = [threading.Thread(target=guarded, args=(writer, n)) for n in range(3)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert errors == []
    for n in range(3):
        items = embedded.get_all(user_id=f"w{n}", include_deleted=True, limit=1000)
        assert len(items) == 40
        assert sum(i.status.value == "deleted" for i in items) == 8
        assert all(len(embedded.history(i.id)) == i.version for i in items)


def test_processes_contending_for_one_bank_wait_or_get_a_clear_error(tmp_path: Path) -> None:
    result = contention.run(procs=3, sessions=3, folder=tmp_path, seed=1)
    assert result["problems"] == []
    assert result["opened"] + result["locked"] == 9
    assert result["opened"] >= 1 and result["writes"] == 7 * result["opened"]
