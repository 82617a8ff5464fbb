"""Memory tools for LangChain / LangGraph agents: ``manage_memory`` and ``search_memory``.

They mirror LangMem's tool shapes, but the decisions are memory-r1's: ``manage_memory``
takes new information and lets the Memory Manager decide ADD / UPDATE / DELETE / NONE
itself; ``search_memory`` is the Answer Agent's retrieval with distillation. Both are
``StructuredTool`` objects with a sync and an async implementation, and both return
``(content, artifact)``: short text for the model, the raw records for your code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.tools import StructuredTool
from memory_r1 import AddResult, InvalidInputError
from pydantic import BaseModel, Field

from langchain_memory_r1 import _agents, _bridge
from langchain_memory_r1._context import check_template, fill, resolve_store, run_values
from langchain_memory_r1.store import MemoryR1Store

__all__ = ["create_manage_memory_tool", "create_search_memory_tool"]

DEFAULT_NAMESPACE = ("memories", "{user_id}")
MANAGE_DESCRIPTION = (
    "Save new information to long-term memory: facts about the user, their preferences, "
    "plans, and corrections of what was said before. Pass the information in plain words. "
    "The memory manager compares it with what is already stored and decides itself "
    "whether to add, update, delete or keep memories."
)
SEARCH_DESCRIPTION = (
    "Look up long-term memory about the user. Pass a question; returns the relevant "
    "memories (selected by the answer agent) and its draft answer."
)


class ManageMemoryInput(BaseModel):
    """Arguments of ``manage_memory``."""

    content: str = Field(
        description="The new information in plain words, e.g. 'I moved to Berlin last week'."
    )


class SearchMemoryInput(BaseModel):
    """Arguments of ``search_memory``."""

    query: str = Field(description="What to look up, e.g. 'Where does the user live?'.")


def _target(
    store: MemoryR1Store | None, template: tuple[str, ...]
) -> tuple[_bridge.AnyMemory, dict[str, str]]:
    resolved = resolve_store(store)
    return resolved.memory, resolved.scope_for(fill(template, run_values()))


def create_manage_memory_tool(
    namespace: Sequence[str] = DEFAULT_NAMESPACE,
    *,
    store: MemoryR1Store | None = None,
    name: str = "manage_memory",
    description: str = MANAGE_DESCRIPTION,
) -> StructuredTool:
    """A tool that hands new information to memory-r1's Memory Manager.

    The Manager extracts the facts, retrieves related memories of the same scope and
    decides ADD / UPDATE / DELETE / NONE for each (UPDATE keeps the old version in
    history; DELETE is restorable). The tool's content lists the decisions; its artifact
    is ``{"facts", "decisions", "events"}`` as JSON-ready dicts.

    Args:
        namespace: a namespace or template whose ``{name}`` fields are filled from
            ``config["configurable"]`` or the run's context, e.g. ``("memories", "{user_id}")``.
        store: the ``MemoryR1Store`` to use; by default the store the graph was compiled
            with (``get_store()``). Its memory needs an ``llm``.
        name: the tool's name.
        description: the tool's description, as the model sees it.

    Raises:
        ScopeError: a bad template (at creation), or a field without a value (at call).
        ConfigurationError: no ``MemoryR1Store`` to use, or the memory has no ``llm``.

    Example:
        >>> from memory_r1 import Memory
        >>> with Memory(embedder="hashing") as m:
        ...     tool = create_manage_memory_tool(store=MemoryR1Store(m))
        ...     sorted(tool.get_input_schema().model_json_schema()["properties"])
        ['content']
    """
    template = check_template(namespace)
    if store is not None:
        resolve_store(store)

    def manage(content: str) -> tuple[str, dict[str, Any]]:
        memory, scope = _target(store, template)
        return _manage_output(_bridge.run(memory, _agents.manage(_text(content), scope)))

    async def amanage(content: str) -> tuple[str, dict[str, Any]]:
        memory, scope = _target(store, template)
        result = await _bridge.arun(memory, _agents.manage(_text(content), scope))
        return _manage_output(result)

    return StructuredTool.from_function(
        func=manage,
        coroutine=amanage,
        name=name,
        description=description,
        args_schema=ManageMemoryInput,
        response_format="content_and_artifact",
    )


def create_search_memory_tool(
    namespace: Sequence[str] = DEFAULT_NAMESPACE,
    *,
    store: MemoryR1Store | None = None,
    name: str = "search_memory",
    description: str = SEARCH_DESCRIPTION,
    answer_agent: bool = True,
    limit: int = 10,
) -> StructuredTool:
    """A tool that recalls memories with memory-r1's Answer Agent.

    The Answer Agent retrieves the top memories of each speaker in the scope (30 by
    default), keeps the ones it uses (distillation) and drafts an answer. The tool's content
    lists the distilled memories and the draft; its artifact is every retrieved memory as a
    dict (``id``, ``text``, ``score``, times, ``metadata``, ``selected``).

    Args:
        namespace: a namespace or template, as for ``create_manage_memory_tool``.
        store: the ``MemoryR1Store`` to use; by default the graph's store.
        name: the tool's name.
        description: the tool's description, as the model sees it.
        answer_agent: False skips the Answer Agent (no LLM call): the content lists the
            ``limit`` closest memories instead.
        limit: how many memories a plain search returns (``answer_agent=False``).

    Raises:
        ScopeError: a bad template (at creation), or a field without a value (at call).
        ConfigurationError: no ``MemoryR1Store`` to use, or the memory has no ``llm``.
        InvalidInputError: ``limit`` is not a positive integer.
    """
    template = check_template(namespace)
    if store is not None:
        resolve_store(store)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInputError(f"limit must be a positive integer, got {limit!r}")

    def search(query: str) -> tuple[str, list[dict[str, Any]]]:
        memory, scope = _target(store, template)
        flow = _agents.recall(_text(query), scope, answer_agent=answer_agent, limit=limit)
        return _search_output(_bridge.run(memory, flow))

    async def asearch(query: str) -> tuple[str, list[dict[str, Any]]]:
        memory, scope = _target(store, template)
        flow = _agents.recall(_text(query), scope, answer_agent=answer_agent, limit=limit)
        return _search_output(await _bridge.arun(memory, flow))

    return StructuredTool.from_function(
        func=search,
        coroutine=asearch,
        name=name,
        description=description,
        args_schema=SearchMemoryInput,
        response_format="content_and_artifact",
    )


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"expected non-empty text, got {value!r}")
    return value


def _manage_output(result: AddResult) -> tuple[str, dict[str, Any]]:
    artifact = result.model_dump(mode="json", include={"facts", "decisions", "events"})
    return _agents.describe(result), artifact


def _search_output(found: _agents.Recall) -> tuple[str, list[dict[str, Any]]]:
    chosen = {m.id for m in found.memories}
    records = [_agents.record(m, selected=m.id in chosen) for m in found.retrieved]
    return _agents.render_recall(found), records
