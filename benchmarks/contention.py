"""Processes contending for one embedded bank: each waits for it or gets ``BankLockedError``.

``--procs`` processes each open the same bank ``--sessions`` times, write a few memories
(threads and ``add_batch`` inside the session), and close it. Half of the openings wait for
the lock (``lock_timeout_s``), half ask once (``lock_timeout_s=0``) and must then either get
the bank or a ``BankLockedError`` — nothing else. Afterwards the parent checks that every
write a process reported is in the bank, with a history that agrees, and nothing more.

    python benchmarks/contention.py                     # 6 processes x 8 sessions
    python benchmarks/contention.py --procs 12 --sessions 20
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def session(bank: str, who: int, k: int, wait: bool) -> list[str]:
    """Open the bank, write from two threads (one single adds, one a batch), close."""
    from memory_r1 import Memory

    cfg = {"store": {"path": bank, "lock_timeout_s": 60 if wait else 0}, "embedder": "hashing:32"}
    with Memory(cfg) as mem:
        written: list[str] = []
        lock = threading.Lock()

        def singles() -> None:
            for n in range(3):
                mid = mem.add(f"p{who} s{k} single {n}", user_id=f"p{who}", infer=False).ids[0]
                with lock:
                    written.append(str(mid))

        def batch() -> None:
            texts = [f"p{who} s{k} batch {n}" for n in range(4)]
            res = mem.add_batch([{"messages": t, "user_id": f"p{who}"} for t in texts])
            with lock:
                written.extend(str(i) for r in res for i in r.ids)

        threads = [threading.Thread(target=f) for f in (singles, batch)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return written


def worker(bank: str, who: int, sessions: int, seed: int) -> dict[str, Any]:
    from memory_r1 import BankLockedError

    rng, opened, locked = random.Random(seed), 0, 0
    ids: list[str] = []
    errors: list[str] = []
    for k in range(sessions):
        wait = rng.random() < 0.5
        try:
            ids += session(bank, who, k, wait)
            opened += 1
        except BankLockedError:
            locked += 1
            if wait:
                errors.append("BankLockedError despite waiting 60 s")
        except Exception as exc:  # anything else is a failure, reported to the parent
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(rng.uniform(0, 0.05))
    return {"opened": opened, "locked": locked, "ids": ids, "errors": errors}


def check(bank: Path, reports: list[dict[str, Any]], procs: int) -> list[str]:
    """Every reported write is stored once, with a one-entry history; nothing else is."""
    from memory_r1 import Memory

    problems = [e for r in reports for e in r["errors"]]
    with Memory(path=bank, embedder="hashing:32") as mem:
        for who in range(procs):
            stored = {str(i.id): i for i in mem.get_all(user_id=f"p{who}", limit=10_000)}
            reported = set(reports[who]["ids"])
            if set(stored) != reported:
                problems.append(f"p{who}: {len(stored)} stored vs {len(reported)} reported")
            for mid in stored:
                if [h.version for h in mem.history(mid)] != [1]:
                    problems.append(f"{mid}: history does not match")
    return problems


def run(procs: int, sessions: int, folder: Path, seed: int) -> dict[str, Any]:
    bank = folder / "bank"
    cmd = [sys.executable, __file__, "--worker", str(bank)]
    children = [
        subprocess.Popen([*cmd, str(w), str(sessions), str(seed + w)], stdout=subprocess.PIPE)
        for w in range(procs)
    ]
    reports = [json.loads(c.communicate(timeout=600)[0]) for c in children]
    problems = check(bank, reports, procs)
    return {
        "processes": procs,
        "sessions": procs * sessions,
        "opened": sum(r["opened"] for r in reports),
        "locked": sum(r["locked"] for r in reports),
        "writes": sum(len(r["ids"]) for r in reports),
        "problems": problems,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        bank, who, sessions, seed = sys.argv[2], *map(int, sys.argv[3:6])
        print(json.dumps(worker(bank, who, sessions, seed)))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--procs", type=int, default=6)
    p.add_argument("--sessions", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="contention-") as tmp:
        result = run(a.procs, a.sessions, Path(tmp), a.seed)
    print(
        f"{result['processes']} processes, {result['sessions']} sessions: "
        f"{result['opened']} opened, {result['locked']} got BankLockedError, "
        f"{result['writes']} writes checked, {len(result['problems'])} problems, "
        f"{time.perf_counter() - start:.0f} s"
    )
    for problem in result["problems"]:
        print(f"  PROBLEM {problem}")
    sys.exit(1 if result["problems"] else 0)


if __name__ == "__main__":
    main()
