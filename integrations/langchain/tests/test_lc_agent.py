"""Real LangGraph agent loops (langchain-core's fake chat model scripts the turns).

- With the tools: a fact stored in one thread is recalled in another; the Manager's UPDATE
  shows through the store; two users never see each other's memories.
- With ``AutoMemory``: the agent calls no tool, yet remembers and recalls.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from memory_r1 import AsyncMemory, HistoryOp, Memory
from memory_r1.testing import ScriptedLLM

from langchain_memory_r1 import (
    AutoMemory,
    MemoryR1Store,
    create_manage_memory_tool,
    create_search_memory_tool,
)
from lc_support import ModelInputs, agent, answer, facts, fake_model, ops, tool_call

ALICE = ("memories", "alice")


def config(thread: str, user: str, *callbacks: ModelInputs) -> RunnableConfig:
    return {"configurable": {"thread_id": thread, "user_id": user}, "callbacks": list(callbacks)}


def tool_messages(state: dict[str, Any]) -> list[ToolMessage]:
    return [m for m in state["messages"] if isinstance(m, ToolMessage)]


@pytest.mark.parametrize("style", ["sync", "async"])
async def test_tools_agent_remembers_across_threads_updates_and_isolates_users(
    any_memory: Memory | AsyncMemory, llm: ScriptedLLM, style: str
) -> None:
    store = MemoryR1Store(any_memory)
    model = fake_model(
        tool_call("manage_memory", "c1", content="I live in Boston"),
        AIMessage("Noted, you live in Boston."),
        tool_call("search_memory", "c2", query="Where does the user live?"),
        AIMessage("You live in Boston."),
        tool_call("manage_memory", "c3", content="I moved to Seattle"),
        AIMessage("Got it: Seattle now."),
        tool_call("search_memory", "c4", query="Where does the user live?"),
        AIMessage("I don't know where you live."),
        tool_call("search_memory", "c5", query="Where does the user live?"),
        AIMessage("I still don't know."),
    )
    graph = agent(model, [create_manage_memory_tool(), create_search_memory_tool()], store)

    async def turn(text: str, thread: str, user: str) -> dict[str, Any]:
        state = {"messages": [HumanMessage(text)]}
        if style == "sync":
            out: dict[str, Any] = graph.invoke(state, config(thread, user))
        else:
            out = await graph.ainvoke(state, config(thread, user))
        return out

    llm.script(facts("Alice lives in Boston"),
               ops({"id": "0", "text": "Alice lives in Boston", "event": "ADD"}))  # fmt: skip
    await turn("I live in Boston", "thread-1", "alice")

    llm.script(answer("Boston", "Alice lives in Boston"))
    second = await turn("Where do I live?", "thread-2", "alice")
    assert second["messages"][0].content == "Where do I live?"  # a fresh thread
    [recalled] = tool_messages(second)
    assert "- Alice lives in Boston" in str(recalled.content)
    assert [r["text"] for r in recalled.artifact if r["selected"]] == ["Alice lives in Boston"]

    [stored] = store.search(ALICE)
    llm.script(
        facts("Alice moved to Seattle"),
        ops({"id": "0", "text": "Alice lives in Seattle", "event": "UPDATE",
             "old_memory": "Alice lives in Boston"}),
    )  # fmt: skip
    third = await turn("I moved to Seattle", "thread-3", "alice")
    assert "Updated: Alice lives in Boston -> Alice lives in Seattle" in str(
        tool_messages(third)[0].content
    )
    item = store.get(ALICE, stored.key)
    assert item is not None and item.value == {"content": "Alice lives in Seattle"}
    assert [h.key for h in store.search(ALICE, query="Seattle")] == [stored.key]
    history = any_memory.history(stored.key)
    if isinstance(any_memory, AsyncMemory):
        history = await history  # type: ignore[misc]
    assert [h.operation for h in history] == [HistoryOp.ADD, HistoryOp.UPDATE]  # type: ignore[union-attr]

    llm.script()  # bob has no memories: the Answer Agent is not even asked
    fourth = await turn("Where do I live?", "thread-4", "bob")
    assert tool_messages(fourth)[0].content == "No relevant memories." and llm.calls == []
    store.put(("memories", "bob"), "music", {"content": "Bob likes jazz"})
    llm.script(answer("unknown"))
    await turn("Where do I live?", "thread-5", "bob")
    shown = llm.calls[0].messages[-1]["content"]
    assert "Bob likes jazz" in shown
    assert "Seattle" not in shown and "Boston" not in shown
    assert [i.key for i in store.search(("memories", "bob"))] == ["music"]
    assert store.list_namespaces() == [ALICE, ("memories", "bob")]


def test_auto_memory_recalls_and_remembers_without_tools(memory: Memory, llm: ScriptedLLM) -> None:
    store = MemoryR1Store(memory)
    auto = AutoMemory(roles=("user",))
    model = fake_model(AIMessage("Nice to meet you!"), AIMessage("You live in Boston."))
    chain = auto.inject | model

    def call_model(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [chain.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("model", call_model)
    builder.add_node("remember", auto.remember)
    builder.add_edge(START, "model")
    builder.add_edge("model", "remember")
    builder.add_edge("remember", END)
    graph = builder.compile(checkpointer=InMemorySaver(), store=store)
    seen = ModelInputs()

    llm.script(
        facts("Alice lives in Boston"),
        ops({"id": "0", "text": "Alice lives in Boston", "event": "ADD"}),
    )
    first: MessagesState = {"messages": [HumanMessage("Hi, I'm Alice and I live in Boston")]}
    graph.invoke(first, config("t1", "alice", seen))
    assert [i.value["content"] for i in store.search(ALICE)] == ["Alice lives in Boston"]
    assert not any(isinstance(m, SystemMessage) for m in seen.calls[0])  # nothing known yet

    llm.script(answer("Boston", "Alice lives in Boston"), facts())
    out = graph.invoke({"messages": [HumanMessage("Where do I live?")]},
                       config("t2", "alice", seen))  # fmt: skip
    note = seen.calls[1][0]
    assert isinstance(note, SystemMessage) and "- Alice lives in Boston" in note.text
    assert not any(isinstance(m, SystemMessage) for m in out["messages"])  # state untouched
    assert "Where do I live?" in llm.calls[1].messages[-1]["content"]  # the exchange went in


async def test_auto_memory_async_nodes_and_plain_search(amemory: AsyncMemory) -> None:
    store = MemoryR1Store(amemory)
    await store.aput(ALICE, "home", {"content": "Alice lives in Boston"})
    await store.aput(("memories", "bob"), "home", {"content": "Bob lives in Oslo"})
    auto = AutoMemory(store, answer_agent=False, limit=3)
    cfg = config("t", "alice")
    out = await auto.recall.ainvoke({"messages": [HumanMessage("Where do I live? Boston?")]}, cfg)
    note, question = out["llm_input_messages"]
    assert note.text.splitlines()[1:] == ["- Alice lives in Boston"]
    assert question.text == "Where do I live? Boston?"
    kept = [SystemMessage("You are helpful."), HumanMessage("Boston?")]
    injected = await auto.inject.ainvoke(kept, cfg)
    assert [type(m).__name__ for m in injected] == [
        "SystemMessage",
        "SystemMessage",
        "HumanMessage",
    ]
    assert await auto.remember.ainvoke({"messages": [HumanMessage("hi")]}, cfg) == {}


def test_auto_memory_as_prebuilt_agent_hooks(memory: Memory, llm: ScriptedLLM) -> None:
    from langgraph.prebuilt import create_react_agent

    store = MemoryR1Store(memory)
    store.put(ALICE, "home", {"content": "Alice lives in Boston"})
    auto = AutoMemory(store, roles=("user",))
    model: GenericFakeChatModel = fake_model(AIMessage("You live in Boston."))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # moved to langchain.agents
        graph = create_react_agent(model, [], pre_model_hook=auto.recall,
                                   post_model_hook=auto.remember)  # fmt: skip
    seen = ModelInputs()
    llm.script(answer("Boston", "Alice lives in Boston"), facts())
    graph.invoke({"messages": [HumanMessage("Where do I live?")]},
                 config("t", "alice", seen))  # fmt: skip
    assert "- Alice lives in Boston" in seen.calls[0][0].text
    assert len(llm.calls) == 2  # recall, then the exchange handed to the Manager
