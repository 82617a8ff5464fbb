"""An agent that remembers a user's facts across threads, and what changes when a fact changes.

A LangGraph agent loop (model → tools → model, one checkpointer thread per conversation)
gets memory-r1's two tools. Each conversation is a new thread, so the agent's own message
history starts empty every time: whatever it knows about the user comes from memory-r1.

    python remember_across_threads.py                      # offline, scripted replies
    python remember_across_threads.py --model litellm:openai/gpt-4o-mini --embedder \\
        sentence-transformers                               # a real Memory Manager / Answer Agent

By default every model reply is scripted, so it runs offline with no API key. ``--model``
gives memory-r1's Memory Manager and Answer Agent a real model (any memory-r1 LLM spec); the
agent's own turns stay scripted, since the point here is what memory-r1 stores and recalls.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from memory_r1 import Memory
from memory_r1.testing import ScriptedLLM

from langchain_memory_r1 import MemoryR1Store, create_manage_memory_tool, create_search_memory_tool

ALICE = ("memories", "alice")

# (user, what they say, the tool the agent calls, its argument, the agent's closing words)
CONVERSATIONS = [
    ("alice", "Hi! I live in Boston and I have a cat named Miso.", "manage_memory",
     "I live in Boston and I have a cat named Miso.", "Nice to meet you, and Miso!"),
    ("alice", "Where do I live?", "search_memory", "Where does the user live?", "In Boston."),
    ("alice", "Big news: I moved to Seattle last month.", "manage_memory",
     "I moved to Seattle last month.", "Congratulations on the move!"),
    ("alice", "Where do I live now?", "search_memory", "Where does the user live?",
     "In Seattle."),
    ("bob", "Where do I live?", "search_memory", "Where does the user live?",
     "I don't know yet."),
]  # fmt: skip

# What a good model replies to memory-r1's prompts, in call order (used without --model).
SCRIPTED_MEMORY_REPLIES = [
    json.dumps({"facts": ["Alice lives in Boston", "Alice has a cat named Miso"]}),
    json.dumps({"memory": [
        {"id": "0", "text": "Alice lives in Boston", "event": "ADD"},
        {"id": "1", "text": "Alice has a cat named Miso", "event": "ADD"},
    ]}),
    "- Alice lives in Boston\n**Answer:** Boston",
    json.dumps({"facts": ["Alice moved to Seattle"]}),
    json.dumps({"memory": [
        {"id": "0", "text": "Alice lives in Seattle (moved from Boston)", "event": "UPDATE",
         "old_memory": "Alice lives in Boston"},
    ]}),
    "- Alice lives in Seattle (moved from Boston)\n**Answer:** Seattle",
]  # fmt: skip


def scripted_agent_model() -> GenericFakeChatModel:
    """The agent's turns: one tool call, then a closing reply, per conversation."""
    turns: list[AIMessage] = []
    for i, (_, _, tool, argument, closing) in enumerate(CONVERSATIONS):
        key = "content" if tool == "manage_memory" else "query"
        call = {"name": tool, "args": {key: argument}, "id": f"call-{i}"}
        turns += [AIMessage("", tool_calls=[call]), AIMessage(closing)]
    return GenericFakeChatModel(messages=iter(turns))


def build_agent(store: MemoryR1Store) -> CompiledStateGraph[Any, Any, Any, Any]:
    """A plain LangGraph agent loop with memory-r1's tools and store."""
    model = scripted_agent_model()
    tools = [create_manage_memory_tool(), create_search_memory_tool()]

    def call_model(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("model", call_model)
    builder.add_node("tools", ToolNode(tools))
    builder.add_edge(START, "model")
    builder.add_conditional_edges("model", tools_condition)
    builder.add_edge("tools", "model")
    return builder.compile(checkpointer=InMemorySaver(), store=store)


def show_memories(store: MemoryR1Store, title: str) -> None:
    print(f"\n  [{title}] what the store holds for alice:")
    for item in store.search(ALICE):
        print(f"    {item.key[:8]}…  {item.value['content']}")


@contextmanager
def open_memory(model: str | None, embedder: str) -> Iterator[Memory]:
    llm: Any = model if model else ScriptedLLM(SCRIPTED_MEMORY_REPLIES)
    with (
        tempfile.TemporaryDirectory() as folder,
        Memory(path=folder, embedder=embedder, llm=llm) as memory,
    ):
        yield memory


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a memory-r1 LLM spec, e.g. litellm:openai/gpt-4o-mini")
    parser.add_argument("--embedder", default="hashing", help="a memory-r1 embedder spec")
    args = parser.parse_args(argv)
    with open_memory(args.model, args.embedder) as memory:
        store = MemoryR1Store(memory)
        agent = build_agent(store)
        for thread, (user, text, *_rest) in enumerate(CONVERSATIONS, start=1):
            config: RunnableConfig = {
                "configurable": {"thread_id": f"thread-{thread}", "user_id": user}
            }
            state = agent.invoke({"messages": [HumanMessage(text)]}, config)
            tool = next(m for m in state["messages"] if isinstance(m, ToolMessage))
            print(f"\nthread {thread} ({user}): {text}")
            print(f"  {tool.name} → " + str(tool.content).replace("\n", "\n    "))
            print(f"  agent: {state['messages'][-1].content}")
            if thread in (1, 3):
                show_memories(store, f"after thread {thread}")
        home = store.search(ALICE, query="Alice lives in Seattle")[0]
        print("\nThe history of that memory (UPDATE keeps the old version):")
        for record in memory.history(home.key):
            print(f"  v{record.version} {record.operation.value}: {record.new_text}")


if __name__ == "__main__":
    main()
