"""Bad input gets a typed error and changes nothing."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpers import snapshot
from memory_r1 import (
    DimensionMismatchError,
    FilterError,
    InvalidInputError,
    Memory,
    NotFoundError,
    ScopeError,
)

BAD_CALLS: dict[str, tuple[Callable[[Memory, Any], Any], type[Exception]]] = {
    "empty text": (lambda m, i: m.add("", user_id="u", infer=False), InvalidInputError),
    "whitespace text": (lambda m, i: m.add(" \n\t ", user_id="u", infer=False), InvalidInputError),
    "NUL in text": (lambda m, i: m.add("a\x00b", user_id="u", infer=False), InvalidInputError),
    "lone surrogate": (
        lambda m, i: m.add("bad \ud800", user_id="u", infer=False),
        InvalidInputError,
    ),
    "huge text": (lambda m, i: m.add("x" * 200_001, user_id="u", infer=False), InvalidInputError),
    "text not a string": (lambda m, i: m.add(42, user_id="u", infer=False), InvalidInputError),
    "no scope": (lambda m, i: m.add("fine", infer=False), ScopeError),
    "blank scope": (lambda m, i: m.add("fine", user_id="  ", infer=False), ScopeError),
    "scope not a string": (lambda m, i: m.add("fine", user_id=7, infer=False), ScopeError),
    "search without scope": (lambda m, i: m.search("q"), ScopeError),
    "search empty query": (lambda m, i: m.search(" ", user_id="u"), InvalidInputError),
    "bad limit": (lambda m, i: m.search("q", user_id="u", limit=0), InvalidInputError),
    "unknown id": (
        lambda m, i: m.update("00000000-0000-0000-0000-000000000000", "x"),
        NotFoundError,
    ),
    "id not a uuid": (lambda m, i: m.delete("not-an-id"), NotFoundError),
    "id of another scope": (lambda m, i: m.update(i, "x", user_id="other"), NotFoundError),
    "unknown filter op": (
        lambda m, i: m.search("q", user_id="u", filters={"a": {"regex": "x"}}),
        FilterError,
    ),
    "filter not a dict": (lambda m, i: m.get_all(user_id="u", filters=["a"]), FilterError),
    "filter bad key": (lambda m, i: m.get_all(user_id="u", filters={"a b": 1}), FilterError),
    "filter AND not list": (
        lambda m, i: m.get_all(user_id="u", filters={"AND": {"a": 1}}),
        FilterError,
    ),
    "filter in mixed": (
        lambda m, i: m.get_all(user_id="u", filters={"a": {"in": [1, "x"]}}),
        FilterError,
    ),
    "filter range str": (
        lambda m, i: m.get_all(user_id="u", filters={"a": {"gt": "x"}}),
        FilterError,
    ),
    "filter bad time": (
        lambda m, i: m.get_all(user_id="u", filters={"created_at": {"gt": "soon"}}),
        FilterError,
    ),
    "metadata set": (
        lambda m, i: m.add("ok", user_id="u", metadata={"s": {1, 2}}, infer=False),
        InvalidInputError,
    ),
    "metadata nan": (
        lambda m, i: m.add("ok", user_id="u", metadata={"x": math.nan}, infer=False),
        InvalidInputError,
    ),
    "metadata int key": (
        lambda m, i: m.add("ok", user_id="u", metadata={1: "x"}, infer=False),
        InvalidInputError,
    ),
    "metadata deep": (
        lambda m, i: m.add("ok", user_id="u", metadata=_deep(20), infer=False),
        InvalidInputError,
    ),
    "metadata object": (
        lambda m, i: m.add("ok", user_id="u", metadata={"o": object()}, infer=False),
        InvalidInputError,
    ),
    "bad timestamp": (
        lambda m, i: m.add("ok", user_id="u", timestamp="yesterday", infer=False),
        InvalidInputError,
    ),
    "message no content": (
        lambda m, i: m.add([{"role": "user"}], user_id="u", infer=False),
        InvalidInputError,
    ),
    "only system": (
        lambda m, i: m.add([{"role": "system", "content": "x"}], user_id="u", infer=False),
        InvalidInputError,
    ),
    "batch one bad": (
        lambda m, i: m.add_batch(
            [{"messages": "fine", "user_id": "u"}, {"messages": "", "user_id": "u"}]
        ),
        InvalidInputError,
    ),
    "batch unknown key": (
        lambda m, i: m.add_batch([{"messages": "x", "user": "u"}]),
        InvalidInputError,
    ),
    "erase without scope": (lambda m, i: m.erase(), ScopeError),
    "bad cursor": (lambda m, i: m.get_all(user_id="u", cursor="zzz"), NotFoundError),
}


def _deep(n: int) -> dict[str, Any]:
    d: dict[str, Any] = {"leaf": 1}
    for _ in range(n):
        d = {"d": d}
    return d


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_input_is_a_typed_error_and_changes_nothing(mem: Memory, case: str) -> None:
    existing = mem.add("already here", user_id="u", infer=False).ids[0]
    before = snapshot(mem, user_id="u")
    call, error = BAD_CALLS[case]
    with pytest.raises(error):
        call(mem, existing)
    assert snapshot(mem, user_id="u") == before


def test_every_error_is_a_memory_r1_error() -> None:
    from memory_r1 import MemoryR1Error

    for _, error in BAD_CALLS.values():
        assert issubclass(error, MemoryR1Error)


def test_an_embedder_of_another_size_is_refused_when_the_bank_opens(tmp_path: Path) -> None:
    Memory(path=tmp_path / "b", embedder="hashing:64").close()
    with pytest.raises(DimensionMismatchError, match="64-d"):
        Memory(path=tmp_path / "b", embedder="hashing:32")
    m = Memory(path=tmp_path / "b", embedder="hashing:64")  # the failed open left no lock behind
    m.close()
