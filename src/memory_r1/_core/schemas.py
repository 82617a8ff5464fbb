"""JSON schemas of the extractor's and the Memory Manager's output, for JSON mode or
constrained decoding (``LLM.complete(json_schema=...)``). Pure.

The functions build a fresh dict on every call; the module constants are the defaults and
must not be mutated. Callers validate the text anyway (``parsing.parse_facts`` /
``parsing.parse_manager``): a schema is a hint to the backend, not a guarantee.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "DEFAULT_MAX_FACTS",
    "DEFAULT_MAX_OPS",
    "FACTS_SCHEMA",
    "MANAGER_EVENTS",
    "MANAGER_SCHEMA",
    "MAX_FACT_CHARS",
    "facts_schema",
    "manager_schema",
]

DEFAULT_MAX_FACTS = 20
DEFAULT_MAX_OPS = 64
MAX_FACT_CHARS = 300
MAX_MEMORY_CHARS = 1000  # a memory text the manager writes (merged facts run longer)
MAX_ID_CHARS = 16
MANAGER_EVENTS = ("ADD", "UPDATE", "DELETE", "NONE")


def facts_schema(
    max_items: int = DEFAULT_MAX_FACTS, max_length: int = MAX_FACT_CHARS
) -> dict[str, Any]:
    """The schema of ``{"facts": ["...", ...]}`` with at most ``max_items`` strings.

    Example:
        >>> facts_schema(3)["properties"]["facts"]["maxItems"]
        3
    """
    _check_positive(max_items=max_items, max_length=max_length)
    return {
        "type": "object",
        "properties": {
            "facts": {
                "type": "array",
                "maxItems": max_items,
                "items": {"type": "string", "minLength": 1, "maxLength": max_length},
            }
        },
        "required": ["facts"],
        "additionalProperties": False,
    }


def manager_schema(
    max_items: int = DEFAULT_MAX_OPS,
    shown_ids: Sequence[str] | None = None,
    texts: Sequence[str] | None = None,
    shown_texts: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The schema of the Memory Manager's ``{"memory": [{id, text, event, old_memory?}]}``.

    ``max_items`` bounds the number of operations; it must cover the memories shown plus
    the new facts. With ``shown_ids`` the schema also carries the id rule, so that a
    constrained decoder cannot invent ids: UPDATE, DELETE and NONE take one of those ids,
    ADD any id (and with no memories shown, ADD is the only operation). With ``texts``
    (verbatim mode) ADD and UPDATE must write one of those texts, and with ``shown_texts``
    DELETE, NONE and ``old_memory`` repeat a shown memory's text. Every free string is
    bounded, so a greedy decoding loop inside one ends instead of eating the budget.

    Example:
        >>> manager_schema(5)["properties"]["memory"]["items"]["required"]
        ['id', 'text', 'event']
    """
    _check_positive(max_items=max_items)
    free: dict[str, Any] = {"type": "string", "maxLength": MAX_MEMORY_CHARS}
    any_id: dict[str, Any] = {"type": "string", "maxLength": MAX_ID_CHARS}
    new_text = {"type": "string", "enum": list(texts)} if texts is not None else free
    kept = {"type": "string", "enum": list(shown_texts)} if shown_texts else free
    if shown_ids is None:
        items = _op_item(any_id, list(MANAGER_EVENTS), free, free)
    elif not shown_ids:
        items = _op_item(any_id, ["ADD"], new_text, kept)
    else:
        shown = {"type": "string", "enum": list(shown_ids)}
        alternatives = [_op_item(shown, ["DELETE", "NONE"], kept, kept)]
        alternatives.append(_op_item(shown, ["UPDATE"], new_text, kept))
        alternatives.append(_op_item(any_id, ["ADD"], new_text, kept))
        items = {"anyOf": alternatives}
    return {
        "type": "object",
        "properties": {"memory": {"type": "array", "maxItems": max_items, "items": items}},
        "required": ["memory"],
        "additionalProperties": False,
    }


def _op_item(
    id_schema: dict[str, Any],
    events: list[str],
    text_schema: dict[str, Any],
    old_schema: dict[str, Any],
) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "id": id_schema,
            "text": text_schema,
            "event": {"type": "string", "enum": events},
            "old_memory": old_schema,
        },
        "required": ["id", "text", "event"],
        "additionalProperties": False,
    }


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")


FACTS_SCHEMA: dict[str, Any] = facts_schema()
MANAGER_SCHEMA: dict[str, Any] = manager_schema()
