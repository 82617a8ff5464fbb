"""Many writers on one bank lose nothing; a second process gets a clear error or waits."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from memory_r1 import AsyncMemory, BankLockedError, Memory


def test_threads_adding_and_updating_lose_no_write(embedded: Memory) -> None:
    shared = embedded.add("counter v0", user_id="shared", infer=False).ids[0]
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                embedded.add(f"worker {n} fact {i}", user_id=f"user{n}", infer=False)
                embedded.update(shared, f"counter from {n}.{i}")
        except BaseException as exc:  # collected, the test fails below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for n in range(6):
        assert len(embedded.get_all(user_id=f"user{n}")) == 15
    chain = embedded.history(shared)
    assert len(chain) == 1 + 6 * 15
    assert [h.version for h in chain] == list(range(1, 92))
    assert embedded.get(shared).version == 91


async def test_async_tasks_writing_together_lose_no_write(tmp_path: Path) -> None:
    async with AsyncMemory(path=tmp_path / "b", embedder="hashing:32") as m:
        await asyncio.gather(*(m.add(f"fact {i}", user_id="u", infer=False) for i in range(40)))
        assert len(await m.get_all(user_id="u")) == 40


HOLDER = textwrap.dedent("""
    import sys, time
    from memory_r1 import Memory
    m = Memory(path=sys.argv[1], embedder="hashing:32")
    m.add("held", user_id="u", infer=False)
    print("ready", flush=True)
    time.sleep(float(sys.argv[2]))
    m.close()
""")


def _hold(path: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_a_second_process_gets_a_clear_error(tmp_path: Path) -> None:
    proc = _hold(tmp_path / "b", 30)
    try:
        with pytest.raises(BankLockedError, match=rf"another process \(pid {proc.pid}\)"):
            Memory(path=tmp_path / "b", embedder="hashing:32")
    finally:
        proc.kill()
        proc.wait()
    with Memory(path=tmp_path / "b", embedder="hashing:32") as m:  # intact after the kill
        assert [i.text for i in m.get_all(user_id="u")] == ["held"]


def test_a_second_process_can_wait_for_the_bank(tmp_path: Path) -> None:
    proc = _hold(tmp_path / "b", 1.0)
    start = time.monotonic()
    cfg = {"store": {"path": str(tmp_path / "b"), "lock_timeout_s": 30}, "embedder": "hashing:32"}
    with Memory(cfg) as m:
        assert time.monotonic() - start > 0.5
        assert [i.text for i in m.get_all(user_id="u")] == ["held"]
    proc.wait()


def test_a_second_opener_in_the_same_process_is_refused_too(tmp_path: Path) -> None:
    with Memory(path=tmp_path / "b", embedder="hashing:32"), pytest.raises(BankLockedError):
        Memory(path=tmp_path / "b", embedder="hashing:32")
