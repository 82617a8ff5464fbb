"""mem0's filter grammar, parsed into a small tree that each store compiles to Qdrant.

Grammar (what mem0 users already write)::

    {"key": value}                          equals
    {"key": {"eq"|"ne"|"gt"|"gte"|"lt"|"lte": value}}
    {"key": {"in"|"nin": [values]}}
    {"key": {"contains": "text"}}           substring
    {"key": "*"}                            the field is present
    {"AND": [f, ...]}  {"OR": [f, ...]}  {"NOT": [f, ...]}

Keys name memory fields (``actor``, ``status``, ``version``, ``sources``, ``text``, the scope
fields, ``event_time``/``created_at``/``updated_at``) or, for anything else, metadata
(``"topic"`` and ``"metadata.topic"`` are the same). Times accept datetimes, ISO strings or
epoch seconds. Several keys in one dict are ANDed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from memory_r1._core.validate import to_epoch
from memory_r1.exceptions import FilterError, InvalidInputError

Scalar = str | int | float | bool

TIME_FIELDS = {"event_time": "event_ts", "created_at": "created_ts", "updated_at": "updated_ts"}
ITEM_FIELDS = {"user_id", "agent_id", "run_id", "actor", "status", "version", "sources", "text"}
_KEY = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")
_MAX_DEPTH = 16


@dataclass(frozen=True)
class Match:
    key: str
    value: Scalar | None


@dataclass(frozen=True)
class AnyOf:
    key: str
    values: tuple[str, ...] | tuple[int, ...]


@dataclass(frozen=True)
class Range:
    key: str
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None


@dataclass(frozen=True)
class Contains:
    key: str
    text: str


@dataclass(frozen=True)
class Present:
    key: str


@dataclass(frozen=True)
class Bool:
    must: tuple[Cond, ...] = ()
    should: tuple[Cond, ...] = ()
    must_not: tuple[Cond, ...] = ()


Cond = Match | AnyOf | Range | Contains | Present | Bool

T = TypeVar("T")


class Vocabulary(Protocol[T]):
    """How one Qdrant API spells each condition (embedded engine vs qdrant-client)."""

    def match(self, key: str, value: str | int | bool) -> T: ...
    def match_any(self, key: str, values: list[str] | list[int]) -> T: ...
    def range(self, key: str, r: Range) -> T: ...
    def substring(self, key: str, text: str) -> T: ...
    def is_null(self, key: str) -> T: ...
    def is_empty(self, key: str) -> T: ...
    def combine(self, must: list[T], should: list[T], must_not: list[T]) -> T: ...


def parse_filters(filters: Mapping[str, Any] | None) -> Bool:
    """Parse a mem0-style filter dict; raise ``FilterError`` on anything malformed."""
    if filters is None:
        return Bool()
    if not isinstance(filters, Mapping):
        raise FilterError(f"filters must be a dict, got {type(filters).__name__}")
    return _parse_dict(filters, 0)


def _parse_dict(d: Mapping[str, Any], depth: int) -> Bool:
    if depth > _MAX_DEPTH:
        raise FilterError(f"filters nest deeper than {_MAX_DEPTH} levels")
    must: list[Cond] = []
    must_not: list[Cond] = []
    for key, value in d.items():
        if not isinstance(key, str):
            raise FilterError(f"filter keys must be strings, got {key!r}")
        if key in ("AND", "OR", "NOT"):
            parts = _parse_list(key, value, depth)
            if key == "AND":
                must.extend(parts)
            elif key == "OR":
                must.append(Bool(should=tuple(parts)))
            else:
                must_not.extend(parts)
        else:
            must.append(_parse_field(key, value))
    return Bool(must=tuple(must), must_not=tuple(must_not))


def _parse_list(op: str, value: Any, depth: int) -> list[Cond]:
    if not isinstance(value, list | tuple) or not value:
        raise FilterError(f"{op} takes a non-empty list of filter dicts")
    out: list[Cond] = []
    for part in value:
        if not isinstance(part, Mapping):
            raise FilterError(f"{op} takes filter dicts, got {type(part).__name__}")
        out.append(_parse_dict(part, depth + 1))
    return out


def _field_path(key: str) -> str:
    if not _KEY.match(key):
        raise FilterError(f"invalid filter key {key!r}")
    if key in TIME_FIELDS:
        return TIME_FIELDS[key]
    if key in ITEM_FIELDS or key.startswith("metadata."):
        return key
    return f"metadata.{key}"


def _parse_field(key: str, value: Any) -> Cond:
    path = _field_path(key)
    timed = key in TIME_FIELDS
    if isinstance(value, Mapping):
        if len(value) != 1:
            raise FilterError(f"{key!r}: one operator per dict, got {sorted(value)}")
        ((op, arg),) = value.items()
        return _operator(key, path, str(op), arg, timed)
    if value == "*":
        return Present(path)
    return _eq(key, path, value, timed)


def _operator(key: str, path: str, op: str, arg: Any, timed: bool) -> Cond:
    if op == "eq":
        return _eq(key, path, arg, timed)
    if op == "ne":
        return Bool(must_not=(_eq(key, path, arg, timed),))
    if op in ("gt", "gte", "lt", "lte"):
        return Range(path, **{op: _number(key, arg, timed)})
    if op in ("in", "nin"):
        cond = _any_of(key, path, arg)
        return cond if op == "in" else Bool(must_not=(cond,))
    if op == "contains":
        if not isinstance(arg, str) or not arg:
            raise FilterError(f"{key!r}: contains takes a non-empty string")
        return Contains(path, arg)
    raise FilterError(
        f"{key!r}: unknown operator {op!r} (use eq, ne, gt, gte, lt, lte, in, nin, contains)"
    )


def _eq(key: str, path: str, value: Any, timed: bool) -> Cond:
    if timed:
        t = _number(key, value, True)
        return Range(path, gte=t, lte=t)
    if value is None or isinstance(value, str | bool | int):
        return Match(path, value)
    if isinstance(value, float):
        return Range(path, gte=value, lte=value)
    raise FilterError(f"{key!r}: cannot compare with {type(value).__name__}")


def _number(key: str, value: Any, timed: bool) -> float:
    if timed:
        try:
            return to_epoch(value)
        except InvalidInputError as exc:
            raise FilterError(f"{key!r}: {exc}") from exc
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FilterError(f"{key!r}: range operators take numbers, got {value!r}")
    if value != value or value in (float("inf"), float("-inf")):
        raise FilterError(f"{key!r}: range bound must be finite")
    return float(value)


def _any_of(key: str, path: str, values: Any) -> AnyOf:
    if not isinstance(values, list | tuple) or not values:
        raise FilterError(f"{key!r}: in/nin take a non-empty list")
    if all(isinstance(v, str) for v in values):
        return AnyOf(path, tuple(values))
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return AnyOf(path, tuple(values))
    raise FilterError(f"{key!r}: in/nin take a list of all strings or all integers")


def compile_filter(cond: Cond, vocab: Vocabulary[T]) -> T:
    """Translate a parsed condition into one backend's filter objects."""
    leaf: dict[type, Callable[[Any], T]] = {
        Match: lambda c: vocab.is_null(c.key) if c.value is None else vocab.match(c.key, c.value),
        AnyOf: lambda c: vocab.match_any(c.key, list(c.values)),
        Range: lambda c: vocab.range(c.key, c),
        Contains: lambda c: vocab.substring(c.key, c.text),
        Present: lambda c: vocab.combine([], [], [vocab.is_empty(c.key), vocab.is_null(c.key)]),
    }
    if isinstance(cond, Bool):
        return vocab.combine(
            [compile_filter(c, vocab) for c in cond.must],
            [compile_filter(c, vocab) for c in cond.should],
            [compile_filter(c, vocab) for c in cond.must_not],
        )
    return leaf[type(cond)](cond)


def scope_condition(scope_fields: Mapping[str, str], *, active_only: bool) -> Bool:
    """The condition every scoped read and write carries: the scope, and the status."""
    must: list[Cond] = [Match(k, v) for k, v in scope_fields.items()]
    if active_only:
        must.append(Match("status", "active"))
    return Bool(must=tuple(must))
