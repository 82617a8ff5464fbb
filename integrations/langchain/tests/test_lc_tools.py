"""manage_memory and search_memory: LangChain's standard tool suites, scope resolution, content."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode
from memory_r1 import AsyncMemory, Memory
from memory_r1.testing import CallInfo, FunctionLLM, ScriptedLLM

from langchain_memory_r1 import (
    MemoryR1Store,
    create_manage_memory_tool,
    create_search_memory_tool,
)
from lc_support import Clock, answer, bank_config, facts, ops, tool_call

STATIC = ("memories", "standard-suite")


def quiet_policy(messages: list[Any], info: CallInfo) -> str:
    """Extraction finds nothing new; the Answer Agent answers from no memory."""
    if info.json_schema and "facts" in info.json_schema.get("properties", {}):
        return facts()
    return answer("I don't know")


class _StandardSuite:
    """A real bank for each standard test (the suites build the tool from a property)."""

    _store: MemoryR1Store

    @pytest.fixture(autouse=True)
    def _bank(self, tmp_path: Path) -> Iterator[None]:
        memory = Memory(bank_config(tmp_path / "bank"), llm=FunctionLLM(quiet_policy))
        self._store = MemoryR1Store(memory)
        yield
        memory.close()


class _ManageTool(_StandardSuite):
    @property
    def tool_constructor(self) -> BaseTool:
        return create_manage_memory_tool(STATIC, store=self._store)

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"content": "I moved to Berlin last week"}


class _SearchTool(_StandardSuite):
    @property
    def tool_constructor(self) -> BaseTool:
        return create_search_memory_tool(STATIC, store=self._store)

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"query": "Where does the user live?"}


class TestManageMemoryToolUnit(_ManageTool, ToolsUnitTests):
    pass


class TestManageMemoryToolIntegration(_ManageTool, ToolsIntegrationTests):
    pass


class TestSearchMemoryToolUnit(_SearchTool, ToolsUnitTests):
    pass


class TestSearchMemoryToolIntegration(_SearchTool, ToolsIntegrationTests):
    pass


def test_the_model_sees_only_the_information_argument(memory: Memory) -> None:
    store = MemoryR1Store(memory)
    manage = create_manage_memory_tool(store=store)
    search = create_search_memory_tool(store=store)
    assert list(manage.args) == ["content"] and list(search.args) == ["query"]
    assert (manage.name, search.name) == ("manage_memory", "search_memory")


@pytest.mark.parametrize("style", ["sync", "async"])
async def test_manage_lets_the_manager_decide_and_reports_it(
    any_memory: Memory | AsyncMemory, llm: ScriptedLLM, style: str
) -> None:
    store = MemoryR1Store(any_memory)
    store.put(("memories", "alice"), "home", {"content": "Alice lives in Lisbon"})
    tool = create_manage_memory_tool(store=store)
    llm.script(
        facts("Alice moved to Porto"),
        ops({"id": "0", "text": "Alice lives in Porto", "event": "UPDATE"},
            {"id": "1", "text": "Alice is learning the guitar", "event": "ADD"}),
    )  # fmt: skip
    call = {"name": "manage_memory", "args": {"content": "I moved to Porto"}, "id": "c1",
            "type": "tool_call"}  # fmt: skip
    config: RunnableConfig = {"configurable": {"user_id": "alice"}}
    msg = tool.invoke(call, config) if style == "sync" else await tool.ainvoke(call, config)
    assert isinstance(msg, ToolMessage)
    assert str(msg.content).splitlines() == [
        "Updated: Alice lives in Lisbon -> Alice lives in Porto",
        "Added: Alice is learning the guitar",
    ]
    assert msg.artifact["facts"] == ["Alice moved to Porto"]
    assert [e["event"] for e in msg.artifact["events"]] == ["UPDATE", "ADD"]
    item = store.get(("memories", "alice"), "home")
    assert item is not None and item.value["content"] == "Alice lives in Porto"
    assert "I moved to Porto" in llm.calls[0].messages[-1]["content"]


@pytest.mark.parametrize("style", ["sync", "async"])
async def test_search_returns_the_distilled_memories_and_raw_records(
    any_memory: Memory | AsyncMemory, llm: ScriptedLLM, style: str
) -> None:
    store = MemoryR1Store(any_memory)
    store.put(("memories", "alice"), "home", {"content": "Alice lives in Porto"})
    store.put(("memories", "alice"), "pet", {"content": "Alice has a cat named Miso"})
    store.put(("memories", "bob"), "home", {"content": "Bob lives in Oslo"})
    tool = create_search_memory_tool(store=store)
    llm.script(answer("Porto", "Alice lives in Porto"))
    call = {"name": "search_memory", "args": {"query": "Where does Alice live?"}, "id": "c1",
            "type": "tool_call"}  # fmt: skip
    config: RunnableConfig = {"configurable": {"user_id": "alice"}}
    msg = tool.invoke(call, config) if style == "sync" else await tool.ainvoke(call, config)
    assert msg.content == (
        "Relevant memories:\n- Alice lives in Porto\nAnswer Agent's draft answer: Porto"
    )
    records = {r["text"]: r for r in msg.artifact}
    assert set(records) == {"Alice lives in Porto", "Alice has a cat named Miso"}
    assert records["Alice lives in Porto"]["selected"] is True
    assert records["Alice has a cat named Miso"]["selected"] is False
    assert all(isinstance(r["score"], float) and r["created_at"] for r in msg.artifact)
    assert "Oslo" not in llm.calls[0].messages[-1]["content"]


def test_search_without_the_answer_agent_needs_no_llm(tmp_path: Path) -> None:
    with Memory(bank_config(tmp_path / "b"), clock=Clock()) as memory:
        store = MemoryR1Store(memory)
        store.put(("memories", "alice"), "a", {"content": "Alice lives in Porto"})
        tool = create_search_memory_tool(store=store, answer_agent=False, limit=1)
        content = tool.invoke({"query": "Porto"}, {"configurable": {"user_id": "alice"}})
        assert content == "Relevant memories:\n- Alice lives in Porto"


@dataclass
class Context:
    user_id: str


def test_scope_comes_from_the_run_context_inside_a_graph(memory: Memory, llm: ScriptedLLM) -> None:
    """Context wins over configurable; the tool reaches the graph's store by itself."""
    tool = create_manage_memory_tool()
    builder = StateGraph(MessagesState, context_schema=Context)
    builder.add_node("tools", ToolNode([tool]))
    builder.add_edge(START, "tools")
    store = MemoryR1Store(memory)
    graph = builder.compile(store=store)
    llm.script(
        facts("Carol likes jazz"), ops({"id": "0", "text": "Carol likes jazz", "event": "ADD"})
    )
    message = tool_call("manage_memory", "c1", content="I like jazz")
    state: MessagesState = {"messages": [HumanMessage("hi"), message]}
    graph.invoke(state, {"configurable": {"user_id": "mallory"}}, context=Context(user_id="carol"))
    assert [i.value["content"] for i in store.search(("memories", "carol"))] == ["Carol likes jazz"]
    assert store.search(("memories", "mallory")) == []


def test_langmem_style_template_fields_work(memory: Memory) -> None:
    store = MemoryR1Store(memory)
    store.put(("memories", "dana"), "a", {"content": "Dana likes tea"})
    tool = create_search_memory_tool(("memories", "{langgraph_user_id}"), store=store,
                                     answer_agent=False)  # fmt: skip
    out = tool.invoke({"query": "tea"}, {"configurable": {"langgraph_user_id": "dana"}})
    assert "Dana likes tea" in out
