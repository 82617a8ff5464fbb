"""Where tools and nodes find their scope: namespace templates filled from the current run.

A template such as ``("memories", "{user_id}")`` is filled, label by label, from the run's
values: ``config["configurable"]`` first, then the LangGraph runtime context
(``graph.invoke(..., context=...)``), which wins on a clash. The context may be a dict, a
dataclass or a pydantic model. LangMem's ``"{langgraph_user_id}"`` works unchanged.
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import RunnableConfig, ensure_config
from langgraph.config import get_store
from langgraph.runtime import get_runtime
from memory_r1 import ConfigurationError, ScopeError
from pydantic import BaseModel

from langchain_memory_r1._mapping import check_namespace

if TYPE_CHECKING:
    from langchain_memory_r1.store import MemoryR1Store

NamespaceTemplate = tuple[str, ...]
_FORMATTER = string.Formatter()


def check_template(template: Any) -> NamespaceTemplate:
    """A namespace template: a non-empty tuple of labels, each with only ``{name}`` fields."""
    if isinstance(template, str) or not isinstance(template, tuple | list) or not template:
        raise ScopeError(f"a namespace template is a tuple of labels, got {template!r}")
    for label in template:
        if not isinstance(label, str) or not label:
            raise ScopeError(f"namespace template labels must be non-empty strings: {template!r}")
        try:
            parsed = list(_FORMATTER.parse(label))
        except ValueError as exc:
            raise ScopeError(f"bad namespace template label {label!r}: {exc}") from exc
        for _, name, spec, conversion in parsed:
            if name is not None and (not name.isidentifier() or spec or conversion):
                raise ScopeError(
                    f"template fields are plain names such as '{{user_id}}', got {label!r}"
                )
    return tuple(template)


def run_values(config: RunnableConfig | None = None) -> dict[str, Any]:
    """The values a template may use in the current run (see the module docstring)."""
    cfg = ensure_config(config)
    configurable = cfg.get("configurable") or {}
    values = {k: v for k, v in configurable.items() if not str(k).startswith("__")}
    values.update(_context_values())
    return values


def _context_values() -> dict[str, Any]:
    try:
        runtime = get_runtime()
    except (RuntimeError, KeyError):  # outside a graph run
        return {}
    context = getattr(runtime, "context", None)
    if context is None:
        return {}
    if isinstance(context, Mapping):
        return dict(context)
    if isinstance(context, BaseModel):
        return context.model_dump()
    if dataclasses.is_dataclass(context) and not isinstance(context, type):
        return {f.name: getattr(context, f.name) for f in dataclasses.fields(context)}
    return dict(vars(context)) if hasattr(context, "__dict__") else {}


def fill(template: NamespaceTemplate, values: Mapping[str, Any]) -> tuple[str, ...]:
    """The namespace ``template`` names in a run with these ``values``.

    Raises:
        ScopeError: a field has no value (or an empty one).
        InvalidNamespaceError: a filled label is not a valid namespace label.

    Example:
        >>> fill(("memories", "{user_id}"), {"user_id": "alice"})
        ('memories', 'alice')
    """
    out = []
    for label in template:
        parts = []
        for literal, name, _, _ in _FORMATTER.parse(label):
            parts.append(literal)
            if name is None:
                continue
            value = values.get(name)
            if value is None or value == "":
                raise ScopeError(
                    f"the namespace {template} needs {name!r}: pass it in "
                    f"config['configurable'][{name!r}] or in the run's context"
                )
            parts.append(str(value))
        out.append("".join(parts))
    return check_namespace(tuple(out), allow_empty=False)


def resolve_store(store: MemoryR1Store | None) -> MemoryR1Store:
    """``store``, or the store of the running graph, which must be a ``MemoryR1Store``."""
    from langchain_memory_r1.store import MemoryR1Store

    if store is None:
        try:
            store = get_store()  # type: ignore[assignment]
        except (RuntimeError, KeyError):
            store = None
        if store is None:
            raise ConfigurationError(
                "no store: pass store=MemoryR1Store(memory), or run inside a graph compiled "
                "with store=MemoryR1Store(memory)"
            )
    if not isinstance(store, MemoryR1Store):
        raise ConfigurationError(
            f"memory-r1 tools and nodes need a MemoryR1Store, got {type(store).__name__}"
        )
    return store
