"""Hostile input through the public API, fuzzed: a typed error and no change, or exact storage.

``test_bad_input.py`` lists hand-picked bad calls; here hypothesis generates them: arbitrary
text (control characters, lone surrogates, NUL, huge), arbitrary JSON-ish metadata (deep,
non-finite, non-string keys, non-JSON values), filters with unknown operators, ids from
other scopes, and files with invalid UTF-8 given to the configuration loader and the CLI.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import snapshot
from memory_r1 import (
    ConfigurationError,
    FilterError,
    InvalidInputError,
    Memory,
    NotFoundError,
)
from memory_r1.cli import main as cli
from memory_r1.config import load_config

MAX_TEXT, MAX_DEPTH, MAX_BYTES = 100_000, 8, 64_000  # the documented limits
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def bank() -> Iterator[Memory]:
    shm = Path("/dev/shm")
    with (
        tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as d,
        Memory(path=d, embedder="hashing:32") as m,
    ):
        m.add("already here", user_id="u", infer=False)
        yield m


def text_is_valid(text: str) -> bool:
    """The rule, written independently of the library: non-blank, bounded, no NUL, no
    lone surrogate."""
    if not text.strip() or len(text) > MAX_TEXT or "\x00" in text:
        return False
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


TEXTS = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(max_codepoint=0x1F)),  # control characters only
    st.text(alphabet=st.characters(categories=["Cs", "Cc", "Zs", "Lu"])),  # surrogates too
    st.integers(MAX_TEXT - 2, MAX_TEXT + 2).map(lambda n: "x" * n),  # around the limit
)


@FUZZ
@given(text=TEXTS)
def test_any_text_is_stored_exactly_or_refused_without_a_change(bank: Memory, text: str) -> None:
    before = snapshot(bank, user_id="u")
    if text_is_valid(text):
        mid = bank.add(text, user_id="u", infer=False).ids[0]
        assert bank.get(mid).text == text
        bank.delete(mid)
        assert bank.history(mid)[0].new_text == text
    else:
        with pytest.raises(InvalidInputError):
            bank.add(text, user_id="u", infer=False)
        with pytest.raises(InvalidInputError):
            bank.add([{"role": "user", "content": text}], user_id="u", infer=False)
        assert snapshot(bank, user_id="u") == before


def test_a_ten_megabyte_text_is_refused_quickly(bank: Memory) -> None:
    before = snapshot(bank, user_id="u")
    with pytest.raises(InvalidInputError, match="limit"):
        bank.add("x" * 10_000_000, user_id="u", infer=False)
    with pytest.raises(InvalidInputError):
        bank.search("q" * 10_000_000, user_id="u")
    assert snapshot(bank, user_id="u") == before


JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**65), 2**65), st.floats(), st.text(max_size=20)
)
HOSTILE_LEAF = st.one_of(JSON_LEAF, st.binary(max_size=4), st.sets(st.integers(), max_size=2))
KEYS = st.one_of(st.text(max_size=8), st.integers())
METADATA = st.recursive(
    HOSTILE_LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=30,
)


def metadata_is_valid(value: Any, depth: int = 0) -> bool:
    """The documented rule: JSON with string keys, finite numbers, 64-bit signed integers,
    valid Unicode, nesting of at most 8 levels below the top object."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return all(
            isinstance(k, str) and metadata_is_valid(k) and metadata_is_valid(v, depth + 1)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return all(metadata_is_valid(v, depth + 1) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return -(2**63) <= value < 2**63
    return value is None or isinstance(value, bool)


def _deep(n: int) -> dict[str, Any]:
    d: dict[str, Any] = {"leaf": 1}
    for _ in range(n):
        d = {"d": d}
    return d


@FUZZ
@given(
    meta=st.one_of(
        st.dictionaries(st.text(max_size=8), METADATA, max_size=4), st.integers(0, 30).map(_deep)
    )
)
def test_any_metadata_round_trips_or_is_refused_without_a_change(
    bank: Memory, meta: dict[Any, Any]
) -> None:
    before = snapshot(bank, user_id="u")
    valid = metadata_is_valid(meta) and len(json.dumps(meta).encode()) <= MAX_BYTES
    if valid:
        mid = bank.add("with metadata", user_id="u", metadata=meta, infer=False).ids[0]
        assert bank.get(mid).metadata == json.loads(json.dumps(meta))
        bank.delete(mid)
    else:
        with pytest.raises(InvalidInputError):
            bank.add("with metadata", user_id="u", metadata=meta, infer=False)
        assert snapshot(bank, user_id="u") == before


def test_floats_in_metadata_round_trip_exactly(bank: Memory) -> None:
    value = 908.6575543967805
    mid = bank.add("a float", user_id="u", metadata={"v": value}, infer=False).ids[0]
    assert bank.history(mid)[-1].item.metadata["v"] == value  # the log is exact
    assert bank.get(mid).metadata["v"] == value


def test_integers_beyond_64_bits_round_trip_or_are_refused(bank: Memory) -> None:
    for value in (-(2**63) - 1, 2**70):
        try:
            mid = bank.add("big number", user_id="u", metadata={"n": value}, infer=False).ids[0]
        except InvalidInputError:
            continue
        assert bank.get(mid).metadata["n"] == value


KNOWN_OPS = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "icontains"}


@FUZZ
@given(op=st.text(min_size=1, max_size=12).filter(lambda s: s not in KNOWN_OPS), value=JSON_LEAF)
def test_unknown_filter_operators_are_filter_errors(bank: Memory, op: str, value: Any) -> None:
    for filters in ({"topic": {op: value}}, {"AND": [{"topic": {op: value}}]}):
        with pytest.raises(FilterError):
            bank.search("q", user_id="u", filters=filters)
        with pytest.raises(FilterError):
            bank.get_all(user_id="u", filters=filters)


SCOPES: list[dict[str, Any]] = [
    {"user_id": "alice"},
    {"user_id": "bob"},
    {"agent_id": "travel"},
    {"user_id": "alice", "run_id": "r1"},
    {"run_id": "r1"},
]


@FUZZ
@given(
    owner=st.sampled_from(SCOPES),
    asker=st.sampled_from(SCOPES),
    call=st.sampled_from(["get", "update", "delete", "restore", "history"]),
)
def test_ids_from_another_scope_are_not_found_and_change_nothing(
    bank: Memory, owner: dict[str, Any], asker: dict[str, Any], call: str
) -> None:
    mid = bank.add("owned", infer=False, **owner).ids[0]
    if all(owner.get(k) == v for k, v in asker.items()):
        return  # the asker's scope contains the owner's: not a foreign id
    before = snapshot(bank, **owner)
    args: tuple[Any, ...] = (mid, "stolen") if call == "update" else (mid,)
    with pytest.raises(NotFoundError):
        getattr(bank, call)(*args, **asker)
    assert snapshot(bank, **owner) == before


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_a_config_file_with_invalid_utf8_is_a_configuration_error(
    tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"c{suffix}"
    body = b'{"embedder": "hashing\xff"}' if suffix == ".json" else b'embedder = "hashing\xff"'
    path.write_bytes(body)
    with pytest.raises(ConfigurationError):
        load_config(path, environ={})
    with pytest.raises(ConfigurationError):
        Memory.from_config(path)


def test_cli_arguments_that_are_not_utf8_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = ["--path", str(tmp_path / "b"), "--embedder", "hashing"]
    undecodable = b"caf\xe9".decode("utf-8", "surrogateescape")  # how Python passes bad argv
    assert cli(["add", *bank, "--user-id", "u", undecodable]) == 2
    assert cli(["add", *bank, "--user-id", undecodable, "fine"]) == 2
    assert "error:" in capsys.readouterr().err
    assert cli(["export", *bank, "--user-id", "u"]) == 0
    assert capsys.readouterr().out == ""  # nothing was stored


def test_a_locomo_file_with_invalid_utf8_is_invalid_input(tmp_path: Path) -> None:
    from memory_r1.eval.locomo import load_locomo

    path = tmp_path / "locomo10.json"
    path.write_bytes(b'[{"sample_id": "conv-\xff"}]')
    with pytest.raises(InvalidInputError):
        load_locomo(path, verify="off")


def test_a_run_record_torn_inside_a_character_is_ignored(tmp_path: Path) -> None:
    from pydantic import BaseModel

    from memory_r1.eval._records import read_jsonl

    class Rec(BaseModel):
        text: str

    line = Rec(text="café ☕").model_dump_json().encode()
    path = tmp_path / "records.jsonl"
    path.write_bytes(line + b"\n" + line[:-3])  # cut inside the UTF-8 of ☕
    assert read_jsonl(path, Rec) == [Rec(text="café ☕")]
