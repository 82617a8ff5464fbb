"""Helpers for the adapter's tests: scripted replies, a fake agent model, a plain agent loop.

The only fakes are LLM replies (memory-r1's ``ScriptedLLM`` / ``FunctionLLM``, and
langchain-core's fake chat models for agents) and memory-r1's ``HashingEmbedder``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.tools import BaseTool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph.store.base import BaseStore


class Clock:
    """Moves one second per reading, so every change gets its own time."""

    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def facts(*items: str) -> str:
    """The fact-extraction reply listing ``items``."""
    return json.dumps({"facts": list(items)})


def ops(*entries: dict[str, str]) -> str:
    """The Memory Manager's reply with these operations."""
    return json.dumps({"memory": list(entries)})


def answer(text: str, *used: str) -> str:
    """The Answer Agent's reply: the memories it uses, then the answer."""
    return "".join(f"- {u}\n" for u in used) + f"**Answer:** {text}"


def bank_config(path: Path) -> dict[str, Any]:
    return {"store": {"path": str(path)}, "embedder": "hashing:64", "agents": {"max_reasks": 0}}


class ModelInputs(BaseCallbackHandler):
    """Records the messages every chat model call received."""

    def __init__(self) -> None:
        self.calls: list[list[BaseMessage]] = []

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **kwargs: Any
    ) -> None:
        self.calls.extend(messages)


def fake_model(*replies: AIMessage) -> GenericFakeChatModel:
    """langchain-core's fake chat model, replying with ``replies`` in order."""
    return GenericFakeChatModel(messages=iter(replies))


def tool_call(name: str, call_id: str, **args: Any) -> AIMessage:
    """A model turn that calls one tool."""
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])


def agent(
    model: GenericFakeChatModel, tools: Sequence[BaseTool], store: BaseStore
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """A plain LangGraph agent loop: model → tools → model … with a checkpointer per thread."""

    def call_model(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("model", call_model)
    builder.add_node("tools", ToolNode(tools))
    builder.add_edge(START, "model")
    builder.add_conditional_edges("model", tools_condition)
    builder.add_edge("tools", "model")
    return builder.compile(checkpointer=InMemorySaver(), store=store)
