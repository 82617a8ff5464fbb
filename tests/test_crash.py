"""Crash safety, quickly: a few SIGKILLed writers (``benchmarks/crash.py`` runs many), and the
checker itself, shown to catch each kind of damage it looks for."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from memory_r1 import Memory
from memory_r1.store.base import Remove

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import crash

A, B, C = "a" * 8, "b" * 8, "c" * 8


def test_a_few_kills_lose_no_acknowledged_write(tmp_path: Path) -> None:
    tally = crash.run(trials=4, first_open=2, folder=tmp_path, seed=7, max_delay=0.4)
    assert tally.failures == []
    assert tally.trials == 6
    assert tally.acked > 0  # the children did write before they were killed


def test_the_log_reader_skips_a_torn_line_and_finds_the_write_in_flight(tmp_path: Path) -> None:
    log = tmp_path / "acks.jsonl"
    add = {"op": "add", "user": "u0", "texts": ["x"]}
    done = {"op": "add", "user": "u0", "items": [[A, "x"]]}
    lines = [{"intent": add}, {"ack": done}, {"intent": {"op": "delete", "id": A, "text": "y"}}]
    log.write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"ack": {"op"')
    acks, pending, offset = crash.read_log(log, 0)
    assert acks == [done]
    assert pending == {"op": "delete", "id": A, "text": "y"}
    assert offset == len(log.read_bytes()) - len('{"ack": {"op"')


BEFORE: crash.Model = {A: ("u0", "x", "active", 1), B: ("u1", "y", "active", 2)}
BATCH = {"op": "add", "user": "u2", "texts": ["p", "q"]}


@pytest.mark.parametrize(
    ("actual", "pending", "verdict"),
    [
        (BEFORE, None, None),
        (BEFORE, BATCH, None),  # the batch in flight did not happen: fine
        ({**BEFORE, C: ("u2", "p", "active", 1), "d": ("u2", "q", "active", 1)}, BATCH, None),
        ({**BEFORE, C: ("u2", "p", "active", 1)}, BATCH, "in part"),  # half a batch
        ({A: BEFORE[A]}, None, "lost"),  # an acknowledged memory is gone
        ({**BEFORE, A: ("u0", "x2", "active", 2)}, None, "no write in flight"),
        ({**BEFORE, B: ("u1", "y", "deleted", 3)}, {"op": "delete", "id": B, "text": ""}, None),
        (
            {**BEFORE, B: ("u1", "y", "deleted", 2)},
            {"op": "delete", "id": B, "text": ""},
            "wrongly",
        ),
        (
            {**BEFORE, A: ("u0", "new", "active", 2)},
            {"op": "update", "id": B, "text": "new"},
            "wrongly",
        ),
    ],
)
def test_the_checker_accepts_only_the_model_or_the_write_in_flight_applied_whole(
    actual: crash.Model, pending: dict[str, object] | None, verdict: str | None
) -> None:
    found = crash.explain_diff(dict(BEFORE), actual, pending)
    assert (found is None) if verdict is None else (verdict in (found or ""))


def test_the_checker_sees_a_store_that_lost_what_the_history_says(tmp_path: Path) -> None:
    with Memory(path=tmp_path / "b", embedder="hashing:64") as mem:
        kept = str(mem.add("kept", user_id="u0", infer=False).ids[0])
        lost = str(mem.add("lost", user_id="u0", infer=False).ids[0])
        assert crash.check_agreement(mem, crash.read_bank(mem), tmp_path / "b") == []
        mem._bank.store.apply([Remove((lost,))])  # damage behind the bank's back
        problems = crash.check_agreement(mem, crash.read_bank(mem), tmp_path / "b")
    assert any("store lacks" in p and lost in p for p in problems)
    assert not any(kept in p for p in problems)
