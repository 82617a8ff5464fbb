"""Crash safety: a child process writes to a bank and is killed with SIGKILL at random moments.

The child (``--child``) opens the bank and writes forever: single adds, ``add_batch``,
``add(infer=True)`` through a scripted LLM, updates, deletes and restores, over four users.
Before each call it appends an *intent* line to a log file, and after the call returns an
*ack* line (flushed each time), so the parent knows every acknowledged write and the one
write that may have been in flight when the child died.

After each kill the parent reopens the bank (which replays the write journal) and checks:

- no acknowledged write is lost: the memories equal the parent's model of the acked writes,
  or that model plus the in-flight write applied whole (never part of a batch);
- the bank and the history agree: each memory's history runs versions 1..n and its last
  record is the memory as stored; every memory id in the history is in the store; the
  journal is empty; every active memory is found by searching its own text, and no
  deleted one is.

A share of trials kills the child while it opens a brand-new bank (the moments when the
engine creates its shard). Run:

    python benchmarks/crash.py                 # 60 trials + 10 first-open trials
    python benchmarks/crash.py --trials 200 --dir /dev/shm
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from memory_r1.llms.base import Message
    from memory_r1.testing import CallInfo

USERS = ("u0", "u1", "u2", "u3")
Model = dict[str, tuple[str, str, str, int]]  # id -> (user, text, status, version)


class CrashCheckError(AssertionError):
    """The bank after a kill is not what the acknowledged writes say it must be."""


# -- the child ---------------------------------------------------------------------------


def _policy(messages: list[Message], info: CallInfo) -> str:
    """Extraction: the turn as one fact. Manager: ADD it (NONE if stored verbatim)."""
    prompt = messages[-1]["content"]
    if "Conversation:\n" in prompt:
        line = prompt.split("Conversation:\n", 1)[1].split("\n", 1)[0]
        return json.dumps({"facts": [line.split(": ", 1)[-1]]})
    fact = json.loads(prompt.split("New facts:\n", 1)[1].split("\n\n", 1)[0])[0]
    stored = json.loads(prompt.split("Stored memories:\n", 1)[1].split("\n\nNew facts", 1)[0])
    for memory in stored:
        if memory["text"] == fact:
            return json.dumps({"memory": [{"id": memory["id"], "text": fact, "event": "NONE"}]})
    return json.dumps({"memory": [{"id": "99", "text": fact, "event": "ADD"}]})


def _pick(rng: random.Random, known: dict[str, str], want: str) -> str | None:
    ids = sorted(k for k, status in known.items() if status == want)
    return rng.choice(ids) if ids else None


def child(bank: str, log_path: str, seed: int) -> None:
    """Write forever; log intent before and ack after each call (see the module docstring)."""
    from memory_r1 import Memory
    from memory_r1.testing import FunctionLLM

    rng = random.Random(seed)
    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives until the process is killed
    print("importing done", flush=True)
    mem = Memory(path=bank, embedder="hashing:64", llm=FunctionLLM(_policy))
    known: dict[str, str] = {}  # id -> status, as the child last saw it
    for user in USERS:
        for item in mem.get_all(user_id=user, include_deleted=True, limit=10_000):
            known[str(item.id)] = item.status.value
    print("ready", flush=True)
    n = 0
    while True:
        n += 1
        write = _one_write(mem, rng, known, seed, n)
        if write is None:
            continue
        intent, call = write
        log.write(json.dumps({"intent": intent}) + "\n")
        log.write(json.dumps({"ack": call()}) + "\n")


def _one_write(mem: Any, rng: random.Random, known: dict[str, str], seed: int, n: int) -> Any:
    user, text = rng.choice(USERS), f"fact {seed}.{n} " + rng.choice(("tea", "jazz", "Lisbon"))
    kind = rng.choices(
        ("add", "batch", "infer", "update", "delete", "restore"), (30, 20, 15, 20, 10, 5)
    )[0]
    if kind in ("add", "batch", "infer"):
        texts = [text] if kind != "batch" else [f"{text} #{k}" for k in range(rng.randint(2, 5))]

        def add() -> dict[str, Any]:
            if kind == "batch":
                res = mem.add_batch([{"messages": t, "user_id": user} for t in texts])
            else:
                res = [mem.add(text, user_id=user, infer=kind == "infer")]
            ids = [[str(e.id), e.text] for r in res for e in r.events if e.event == "ADD"]
            known.update({i: "active" for i, _ in ids})
            return {"op": "add", "user": user, "items": ids}

        return {"op": "add", "user": user, "texts": texts}, add
    mid = _pick(rng, known, "deleted" if kind == "restore" else "active")
    if mid is None:
        return None

    def change() -> dict[str, Any]:
        if kind == "update":
            item = mem.update(mid, text)
        else:
            item = (mem.delete if kind == "delete" else mem.restore)(mid)
        known[mid] = item.status.value
        return {"op": kind, "id": mid, "text": item.text, "status": item.status.value}

    return {"op": kind, "id": mid, "text": text}, change


# -- the parent --------------------------------------------------------------------------


def read_log(path: Path, offset: int) -> tuple[list[dict[str, Any]], dict[str, Any] | None, int]:
    """Acks since ``offset``, the in-flight intent (if the last intent has no ack), new offset."""
    data = path.read_bytes()[offset:] if path.exists() else b""
    acks, pending, used = [], None, 0
    for raw in data.splitlines(keepends=True):
        if not raw.endswith(b"\n"):
            break  # a torn last line: written as the child died, never acknowledged
        used += len(raw)
        line = json.loads(raw)
        if "intent" in line:
            pending = line["intent"]
        else:
            acks.append(line["ack"])
            pending = None
    return acks, pending, offset + used


def apply_ack(model: Model, ack: dict[str, Any]) -> None:
    if ack["op"] == "add":
        for mid, text in ack["items"]:
            model[mid] = (ack["user"], text, "active", 1)
    else:
        user, _, _, version = model[ack["id"]]
        model[ack["id"]] = (user, ack["text"], ack["status"], version + 1)


def read_bank(mem: Any) -> Model:
    return {
        str(i.id): (i.scope.user_id, i.text, i.status.value, i.version)
        for user in USERS
        for i in mem.get_all(user_id=user, include_deleted=True, limit=10_000)
    }


def explain_diff(expected: Model, actual: Model, pending: dict[str, Any] | None) -> str | None:
    """None when ``actual`` is ``expected``, or ``expected`` plus ``pending`` applied whole;
    else what is wrong. Returns "applied" / "not applied" through the caller's counter."""
    if actual == expected:
        return None
    missing = sorted(set(expected) - set(actual))
    if missing:
        return f"acknowledged memories lost: {missing[:3]}"
    extra = {k: v for k, v in actual.items() if k not in expected}
    changed = {k for k in expected if actual[k] != expected[k]}
    if pending is None:
        return f"changed with no write in flight: {list(extra)[:3]}, {sorted(changed)[:3]}"
    if pending["op"] == "add":
        want = sorted((pending["user"], t, "active", 1) for t in pending["texts"])
        if changed or sorted(extra.values()) != want:
            return f"in-flight add applied in part or wrongly: {sorted(extra.values())} vs {want}"
        return None
    mid = pending["id"]
    user, text, status, version = expected[mid]
    if pending["op"] == "update":
        text = pending["text"]
    else:
        status = "deleted" if pending["op"] == "delete" else "active"
    if extra or changed != {mid} or actual[mid] != (user, text, status, version + 1):
        return f"in-flight {pending['op']} of {mid} applied wrongly: {actual.get(mid)}"
    return None


def check_agreement(mem: Any, actual: Model, bank: Path) -> list[str]:
    """History, journal and vectors agree with the stored memories."""
    problems = []
    for mid, (_, text, status, version) in actual.items():
        records = mem.history(mid)
        if [r.version for r in records] != list(range(1, version + 1)):
            problems.append(f"{mid}: history versions {[r.version for r in records]}, v{version}")
        elif (records[-1].item.text, records[-1].item.status.value) != (text, status):
            problems.append(f"{mid}: last history record differs from the memory")
    with sqlite3.connect(f"file:{bank / 'history.sqlite3'}?mode=ro", uri=True) as db:
        logged = {r[0] for r in db.execute("SELECT DISTINCT memory_id FROM history")}
        journal = db.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
    if logged - set(actual):
        problems.append(
            f"history names memories the store lacks: {sorted(logged - set(actual))[:3]}"
        )
    if journal:
        problems.append(f"{journal} journal entries left after reopening")
    for mid, (user, text, status, _) in actual.items():
        found = {str(h.id) for h in mem.search(text, user_id=user, limit=3)}
        if (mid in found) != (status == "active"):
            problems.append(
                f"{mid} ({status}) {'missing from' if status == 'active' else 'in'} search"
            )
    return problems


def pending_journal(bank: Path) -> int:
    path = bank / "history.sqlite3"
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            return int(db.execute("SELECT COUNT(*) FROM journal").fetchone()[0])
        except sqlite3.OperationalError:  # killed before the schema was written
            return 0


@dataclass
class Tally:
    trials: int = 0
    failures: list[str] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    acked: int = 0


def kill_child(bank: Path, log: Path, seed: int, delay_s: float, after: str) -> str:
    """Start a child, wait for its line ``after``, sleep ``delay_s``, SIGKILL it."""
    cmd = [sys.executable, __file__, "--child", str(bank), str(log), str(seed)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    stage = "starting"
    while stage != after:
        line = proc.stdout.readline().strip()
        if not line:
            raise CrashCheckError(f"child exited early: {proc.wait()} {proc.stderr.read()[-2000:]}")  # type: ignore[union-attr]
        stage = line
    time.sleep(delay_s)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return stage


def run_trial(
    bank: Path,
    log: Path,
    model: Model,
    offset: int,
    seed: int,
    delay_s: float,
    tally: Tally,
    after: str = "ready",
) -> int:
    """One kill and the checks after it; returns the log offset for the next trial."""
    from memory_r1 import Memory, MemoryR1Error

    kill_child(bank, log, seed, delay_s, after)
    tally.trials += 1
    replayed = pending_journal(bank)
    acks, pending, offset = read_log(log, offset)
    for ack in acks:
        apply_ack(model, ack)
    tally.acked += len(acks)
    try:
        with Memory(path=bank, embedder="hashing:64") as mem:
            actual = read_bank(mem)
            problem = explain_diff(model, actual, pending)
            problems = ([problem] if problem else []) + check_agreement(mem, actual, bank)
    except MemoryR1Error as exc:  # the bank would not open or read after the kill
        tally.failures.append(f"trial {tally.trials} (seed {seed}): {type(exc).__name__}: {exc}")
        return offset
    tally.failures += [f"trial {tally.trials} (seed {seed}): {p}" for p in problems]
    tally.outcomes["journal replayed on reopen"] += replayed > 0
    if pending is not None:
        tally.outcomes[
            "in-flight write applied" if actual != model else "in-flight write absent"
        ] += 1
    model.clear()
    model.update(actual)
    return offset


def run(trials: int, first_open: int, folder: Path, seed: int, max_delay: float) -> Tally:
    rng, tally = random.Random(seed), Tally()
    bank, log, offset = folder / "bank", folder / "acks.jsonl", 0
    model: Model = {}
    for k in range(trials):
        offset = run_trial(
            bank, log, model, offset, seed * 1000 + k, rng.uniform(0, max_delay), tally
        )
        if k % 10 == 9:
            print(
                f"{k + 1} trials, {tally.acked} acknowledged writes, "
                f"{len(tally.failures)} failures",
                file=sys.stderr,
                flush=True,
            )
    for k in range(first_open):  # kill while a brand-new bank is being created
        fresh, fresh_log = folder / f"fresh{k}", folder / f"fresh{k}.jsonl"
        run_trial(
            fresh,
            fresh_log,
            {},
            0,
            seed * 1000 + trials + k,
            rng.uniform(0, 0.15),
            tally,
            after="importing done",
        )
        tally.outcomes["first-open kills"] += 1
    return tally


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--trials", type=int, default=60)
    p.add_argument("--first-open", type=int, default=10, help="kills during a bank's creation")
    p.add_argument("--max-delay", type=float, default=1.5, help="seconds after 'ready', at most")
    p.add_argument("--dir", default=None, help="where the banks live (default: the temp dir)")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="crash-", dir=a.dir) as tmp:
        tally = run(a.trials, a.first_open, Path(tmp), a.seed, a.max_delay)
    print(
        f"trials: {tally.trials}, acknowledged writes checked: {tally.acked}, "
        f"failures: {len(tally.failures)}, {time.perf_counter() - start:.0f} s"
    )
    for name, count in sorted(tally.outcomes.items()):
        print(f"  {name}: {count}")
    for failure in tally.failures:
        print(f"  FAILURE {failure}")
    sys.exit(1 if tally.failures else 0)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
