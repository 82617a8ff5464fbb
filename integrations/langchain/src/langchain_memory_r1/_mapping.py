"""How LangGraph's namespaces, keys, values and filters map onto memory-r1 (pure functions).

**Namespace ↔ scope.** A namespace ``("memories", "alice")`` is the memory-r1 scope whose
``scope_field`` (``user_id`` by default) is the labels joined by ``"."``:
``user_id="memories.alice"``. LangGraph forbids ``"."`` inside a label, so the mapping is
exact both ways without escaping; a single label is the id itself (``("alice",)`` ↔
``user_id="alice"``). A namespace sees every memory *within* its scope (memories that also
carry an ``agent_id`` or ``run_id`` included). Scopes that do not set ``scope_field``, or
whose value has an empty label (``"a..b"``), are not namespaces of the store.

**Key ↔ memory id.** memory-r1 chooses its own UUIDs, LangGraph callers choose their keys. A
memory written through the store keeps the caller's key in the reserved metadata field
``lg_key``; every other memory (written by the Memory Manager, or by memory-r1 directly)
has its id as its key. So ``str(memory.id)`` always works as a key for the latter.

**Value ↔ text + metadata.** When ``value[text_key]`` (``"content"`` by default, as in
LangMem) is a non-blank string and is the text to index, it becomes the memory's text and
the other fields become metadata; reading the item back gives ``{text_key: <current text>,
**metadata}``, so an UPDATE by the Memory Manager shows through. Any other value (no text
field, or ``index=[...]`` naming other fields) is kept whole in metadata, with a search
text derived from the indexed fields (or the whole value as JSON) and the reserved flag
``lg_derived_text``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from langgraph.store.base import (
    InvalidNamespaceError,
    Item,
    MatchCondition,
    SearchItem,
    get_text_at_path,
)
from memory_r1 import FilterError, InvalidInputError, MemoryItem, Scope, ScoredMemory

ScopeField = Literal["user_id", "agent_id", "run_id"]
SCOPE_FIELDS: tuple[ScopeField, ...] = ("user_id", "agent_id", "run_id")
KEY_FIELD = "lg_key"
DERIVED_FIELD = "lg_derived_text"
RESERVED = frozenset({KEY_FIELD, DERIVED_FIELD})
SEPARATOR = "."
_OPERATORS = {"$eq": "eq", "$ne": "ne", "$gt": "gt", "$gte": "gte", "$lt": "lt", "$lte": "lte"}


@dataclass(frozen=True)
class StoreMapping:
    """The store's mapping, fixed at construction (see the module docstring)."""

    scope_field: ScopeField = "user_id"
    text_key: str = "content"

    def __post_init__(self) -> None:
        if self.scope_field not in SCOPE_FIELDS:
            raise InvalidInputError(
                f"scope_field must be one of {SCOPE_FIELDS}, got {self.scope_field!r}"
            )
        if not isinstance(self.text_key, str) or not self.text_key:
            raise InvalidInputError("text_key must be a non-empty string")
        if self.text_key in RESERVED:
            raise InvalidInputError(f"text_key cannot be a reserved field {sorted(RESERVED)}")

    # -- namespaces ----------------------------------------------------------------------

    def scope(self, namespace: tuple[str, ...]) -> dict[str, str]:
        """The scope keyword arguments for ``namespace`` (validated)."""
        check_namespace(namespace, allow_empty=False)
        return {self.scope_field: SEPARATOR.join(namespace)}

    def namespace(self, scope: Scope) -> tuple[str, ...] | None:
        """The namespace holding ``scope``'s memories, or None when it maps to none."""
        value = scope.fields().get(self.scope_field)
        if value is None:
            return None
        labels = tuple(value.split(SEPARATOR))
        return labels if all(labels) else None

    # -- values --------------------------------------------------------------------------

    def encode(
        self, value: Mapping[str, Any], index: Literal[False] | Sequence[str] | None
    ) -> tuple[str, dict[str, Any]]:
        """The memory text and metadata for ``value`` (without the key field)."""
        if not isinstance(value, Mapping):
            raise InvalidInputError(f"a store value must be a dict, got {type(value).__name__}")
        bad = [k for k in value if not isinstance(k, str) or k in RESERVED]
        if bad:
            raise InvalidInputError(
                f"store value keys must be strings and not the reserved {sorted(RESERVED)}; "
                f"got {bad!r}"
            )
        own = value.get(self.text_key)
        text = _index_text(value, index, self.text_key)
        if isinstance(own, str) and own.strip() and own == text:
            return own, {k: v for k, v in value.items() if k != self.text_key}
        return text, {**value, DERIVED_FIELD: True}

    def key(self, memory: MemoryItem) -> str:
        """The LangGraph key of ``memory``: its ``lg_key``, else its id."""
        key = memory.metadata.get(KEY_FIELD)
        return key if isinstance(key, str) else str(memory.id)

    def value(self, memory: MemoryItem) -> dict[str, Any]:
        """The LangGraph value of ``memory`` (its current text included)."""
        if memory.metadata.get(DERIVED_FIELD) is True:
            return {k: v for k, v in memory.metadata.items() if k not in RESERVED}
        rest = RESERVED | {self.text_key}  # the memory's text wins over a metadata field
        fields = {k: v for k, v in memory.metadata.items() if k not in rest}
        return {self.text_key: memory.text, **fields}

    def item(self, namespace: tuple[str, ...], memory: MemoryItem) -> Item:
        """``memory`` as a LangGraph ``Item`` in ``namespace``."""
        return Item(
            value=self.value(memory),
            key=self.key(memory),
            namespace=namespace,
            created_at=memory.created_at,
            updated_at=memory.updated_at,
        )

    def search_item(self, namespace: tuple[str, ...], memory: MemoryItem) -> SearchItem:
        """``memory`` as a ``SearchItem`` (with its cosine score when it has one)."""
        score = memory.score if isinstance(memory, ScoredMemory) else None
        return SearchItem(
            namespace=namespace,
            key=self.key(memory),
            value=self.value(memory),
            created_at=memory.created_at,
            updated_at=memory.updated_at,
            score=score,
        )

    # -- filters -------------------------------------------------------------------------

    def filters(self, flt: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """A LangGraph ``filter`` in memory-r1's (mem0's) grammar.

        ``{"f": v}`` and ``{"f": {"$eq"|"$ne"|"$gt"|"$gte"|"$lt"|"$lte": v}}`` address the
        value's field ``f`` (nested dicts address nested fields); ``text_key`` addresses the
        memory text. List equality has no counterpart and raises ``FilterError``.
        """
        if not flt:
            return None
        if not isinstance(flt, Mapping):
            raise FilterError(f"filter must be a dict, got {type(flt).__name__}")
        conditions = [c for key, want in flt.items() for c in self._conditions((key,), want)]
        return conditions[0] if len(conditions) == 1 else {"AND": conditions}

    def _conditions(self, path: tuple[str, ...], want: Any) -> list[dict[str, Any]]:
        """One mem0 condition per comparison (mem0 allows one operator per dict)."""
        if not all(isinstance(p, str) and p for p in path):
            raise FilterError(f"filter keys must be non-empty strings, got {path!r}")
        field = "text" if path == (self.text_key,) else "metadata." + ".".join(path)
        if isinstance(want, Mapping) and any(str(k).startswith("$") for k in want):
            out = []
            for op, operand in want.items():
                if op not in _OPERATORS:
                    raise FilterError(f"unsupported filter operator {op!r}; use {list(_OPERATORS)}")
                out.append({field: {_OPERATORS[op]: _scalar(operand, path)}})
            return out
        if isinstance(want, Mapping):
            return [c for sub, w in want.items() for c in self._conditions((*path, sub), w)]
        return [{field: _scalar(want, path)}]


def _scalar(value: Any, path: tuple[str, ...]) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise FilterError(
        f"filter on {'.'.join(path)!r}: only strings, numbers, booleans and null compare; "
        f"got {type(value).__name__}"
    )


def _index_text(
    value: Mapping[str, Any], index: Literal[False] | Sequence[str] | None, text_key: str
) -> str:
    """The text to embed: the ``index`` fields, else ``value[text_key]``, else all as JSON."""
    if index:
        if isinstance(index, str) or not all(isinstance(p, str) for p in index):
            raise InvalidInputError(f"index must be False, None or a list of paths: {index!r}")
        texts = [t for path in index for t in get_text_at_path(value, path)]
        if any(t.strip() for t in texts):
            return "\n".join(texts)
    own = value.get(text_key)
    if isinstance(own, str) and own.strip():
        return own
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def check_namespace(namespace: Any, *, allow_empty: bool) -> tuple[str, ...]:
    """``namespace`` as a tuple of valid labels, or ``InvalidNamespaceError``."""
    if not isinstance(namespace, tuple):
        raise InvalidNamespaceError(f"a namespace is a tuple of strings, got {namespace!r}")
    if not namespace and not allow_empty:
        raise InvalidNamespaceError("namespace cannot be empty")
    for label in namespace:
        if not isinstance(label, str) or not label or SEPARATOR in label or "\x00" in label:
            raise InvalidNamespaceError(
                f"invalid namespace label {label!r} in {namespace}: labels are non-empty "
                "strings without '.' or NUL"
            )
    return namespace


def matches(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    """LangGraph's prefix/suffix match, ``"*"`` matching any one label."""
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    if condition.match_type == "prefix":
        pairs = zip(namespace, path, strict=False)
    elif condition.match_type == "suffix":
        pairs = zip(reversed(namespace), reversed(path), strict=False)
    else:
        raise InvalidInputError(f"unsupported match type {condition.match_type!r}")
    return all(want in ("*", have) for have, want in pairs)
