"""Helpers shared by the tests (importable as ``helpers``)."""

from __future__ import annotations

from memory_r1 import Memory


def snapshot(m: Memory, **scope: str) -> tuple[list[tuple[str, str, int, str]], int]:
    """Everything observable in a scope: memories (deleted too) and their history length."""
    items = sorted(
        (str(i.id), i.text, i.version, i.status.value)
        for i in m.get_all(limit=10_000, include_deleted=True, **scope)
    )
    history = sum(len(m.history(i[0])) for i in items)
    return items, history
