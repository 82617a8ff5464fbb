"""Checks on everything that comes in through the public API (pure; raise typed errors)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import JsonValue

from memory_r1.exceptions import InvalidInputError, NotFoundError, ScopeError
from memory_r1.types import MemoryItem, Scope

MAX_TEXT_CHARS = 100_000
MAX_METADATA_BYTES = 64_000
MAX_METADATA_DEPTH = 8
MAX_ID_CHARS = 256
INT64 = (-(2**63), 2**63)  # Qdrant stores payload integers as i64


def check_text(text: Any, *, what: str = "text", max_chars: int = MAX_TEXT_CHARS) -> str:
    """A memory's text: a non-blank string of valid Unicode, without NUL, not too long."""
    if not isinstance(text, str):
        raise InvalidInputError(f"{what} must be a string, got {type(text).__name__}")
    if not text.strip():
        raise InvalidInputError(f"{what} is empty or only whitespace")
    if len(text) > max_chars:
        raise InvalidInputError(f"{what} has {len(text):,} characters; the limit is {max_chars:,}")
    if "\x00" in text:
        raise InvalidInputError(f"{what} contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(f"{what} is not valid Unicode (lone surrogate)") from exc
    return text


def check_scope(
    user_id: Any = None, agent_id: Any = None, run_id: Any = None, *, required: bool = True
) -> Scope:
    """Build a ``Scope``; ``required`` demands at least one field."""
    values = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
    for name, value in values.items():
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise ScopeError(f"{name} must be a non-empty string, got {value!r}")
        if len(value) > MAX_ID_CHARS or "\x00" in value:
            raise ScopeError(f"{name} is longer than {MAX_ID_CHARS} characters or has NUL")
        check_text(value, what=name)
    scope = Scope(**values)
    if required and scope.is_empty():
        raise ScopeError("give at least one of user_id, agent_id or run_id")
    return scope


def check_metadata(metadata: Any) -> dict[str, JsonValue]:
    """Metadata: a JSON object with string keys, finite numbers, 64-bit integers, bounded depth
    and size."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidInputError(f"metadata must be a dict, got {type(metadata).__name__}")
    _check_json(metadata, 0)
    try:
        size = len(json.dumps(metadata, allow_nan=False, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise InvalidInputError(f"metadata is not JSON-serialisable: {exc}") from exc
    if size > MAX_METADATA_BYTES:
        raise InvalidInputError(f"metadata is {size:,} bytes; the limit is {MAX_METADATA_BYTES:,}")
    return dict(json.loads(json.dumps(metadata)))


def _check_json(value: Any, depth: int) -> None:
    if depth > MAX_METADATA_DEPTH:
        raise InvalidInputError(f"metadata nests deeper than {MAX_METADATA_DEPTH} levels")
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidInputError(f"metadata keys must be strings, got {k!r}")
            _check_str(k)
            _check_json(v, depth + 1)
    elif isinstance(value, list | tuple):
        for v in value:
            _check_json(v, depth + 1)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError("metadata numbers must be finite (no NaN or infinity)")
    elif isinstance(value, str):
        _check_str(value)
    elif isinstance(value, int) and not INT64[0] <= value < INT64[1]:
        raise InvalidInputError(f"metadata integer {value} is outside the 64-bit signed range")
    elif value is not None and not isinstance(value, bool | int):
        raise InvalidInputError(f"metadata value of type {type(value).__name__} is not JSON")


def _check_str(s: str) -> None:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError("metadata contains invalid Unicode (lone surrogate)") from exc


def to_datetime(value: Any, *, what: str = "timestamp") -> datetime:
    """Datetime, ISO string or epoch seconds → an aware UTC datetime (naive means UTC)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise InvalidInputError(f"{what} must be finite")
        try:
            dt = datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise InvalidInputError(f"{what} {value!r} is out of range") from exc
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise InvalidInputError(f"{what} {value!r} is not an ISO 8601 date/time") from exc
    else:
        raise InvalidInputError(f"{what} must be a datetime, ISO string or epoch seconds")
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def to_epoch(value: Any) -> float:
    """Like ``to_datetime``, as epoch seconds."""
    return to_datetime(value).timestamp()


def to_uuid(value: Any) -> UUID:
    """A memory id from a UUID or its string; anything else is ``NotFoundError``."""
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise NotFoundError(f"no memory with id {value!r} (ids are UUIDs)")


def check_within(item: MemoryItem | None, memory_id: UUID, scope: Scope | None) -> MemoryItem:
    """The item, if it exists and lies within ``scope``; otherwise ``NotFoundError``.

    An id from another scope reads as "not found", so ids never leak across scopes.
    """
    if item is None or (scope is not None and not scope.contains(item.scope)):
        where = f" in scope {scope}" if scope is not None else ""
        raise NotFoundError(f"no memory with id {memory_id}{where}")
    return item


def check_limit(limit: Any, *, upper: int = 10_000) -> int:
    """A positive result count."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= upper:
        raise InvalidInputError(f"limit must be an integer from 1 to {upper}, got {limit!r}")
    return limit
