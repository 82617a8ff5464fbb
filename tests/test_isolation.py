"""Scopes never leak: random operations over several users, agents and runs (hypothesis)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memory_r1 import Memory, NotFoundError, Scope

SCOPES = [
    Scope(user_id="alice"),
    Scope(user_id="bob"),
    Scope(user_id="alice", run_id="r1"),
    Scope(user_id="bob", run_id="r1"),
    Scope(agent_id="travel"),
    Scope(user_id="alice", agent_id="travel"),
]
WORDS = st.sampled_from(["tea", "coffee", "Lisbon", "cat", "cello", "peanuts", "job", "run"])
TEXT = st.lists(WORDS, min_size=1, max_size=4).map(" ".join)
OP = st.one_of(
    st.tuples(st.just("add"), st.integers(0, len(SCOPES) - 1), TEXT),
    st.tuples(st.just("update"), st.integers(0, len(SCOPES) - 1), TEXT),
    st.tuples(st.just("delete"), st.integers(0, len(SCOPES) - 1), st.just("")),
    st.tuples(st.just("delete_all"), st.integers(0, len(SCOPES) - 1), st.just("")),
    st.tuples(st.just("erase"), st.integers(0, len(SCOPES) - 1), st.just("")),
)


def _kw(scope: Scope) -> dict[str, str]:
    return scope.fields()


def _check_reads(m: Memory, owner: dict[str, Scope]) -> None:
    for scope in SCOPES:
        seen = [i for i in m.get_all(limit=10_000, include_deleted=True, **_kw(scope))]
        assert all(scope.contains(i.scope) for i in seen)
        expected = {mid for mid, s in owner.items() if scope.contains(s)}
        assert {str(i.id) for i in seen} == expected
        for hit in m.search("tea coffee Lisbon cat", limit=50, **_kw(scope)):
            assert scope.contains(hit.scope)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(OP, min_size=1, max_size=12), target=st.integers(0, 1000))
def test_random_operations_never_cross_scopes(ops: list[tuple[str, int, str]], target: int) -> None:
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as d:
        m = Memory(path=d, embedder="hashing:32")
        owner: dict[str, Scope] = {}  # memory id -> the scope it was written in
        try:
            for name, si, text in ops:
                scope = SCOPES[si]
                ids = sorted(owner)
                victim = ids[target % len(ids)] if ids else None
                if name == "add":
                    owner[str(m.add(text, infer=False, **_kw(scope)).ids[0])] = scope
                elif name in ("update", "delete") and victim is not None:
                    inside = scope.contains(owner[victim])
                    try:
                        if name == "update":
                            m.update(victim, text + " v2", **_kw(scope))
                        else:
                            m.delete(victim, **_kw(scope))
                        assert inside, "an id from another scope was touched"
                    except NotFoundError:
                        assert not inside
                    except Exception:  # e.g. deleting twice: must be inside and typed
                        assert inside
                elif name == "delete_all":
                    before = {k: m.get(k).status for k in owner if not scope.contains(owner[k])}
                    m.delete_all(**_kw(scope))
                    assert before == {k: m.get(k).status for k in before}
                elif name == "erase":
                    report = m.erase(**_kw(scope))
                    gone = {k for k, s in owner.items() if scope.contains(s)}
                    assert report.memories == len(gone)
                    for k in gone:
                        del owner[k]
                _check_reads(m, owner)
        finally:
            m.close()
