"""``AutoMemory``: long-term memory for agents that should not have to call a tool.

Two graph nodes and one runnable, sync and async:

- ``remember``: after the model has answered (its last message has no tool calls), hand
  the finished exchange (the last user message and that answer) to the Memory Manager.
- ``recall``: before the model runs, ask the Answer Agent which memories matter for the
  last user message and put them in a system message; returns
  ``{"llm_input_messages": [...]}`` (the ``pre_model_hook`` contract of LangGraph's
  prebuilt agent), so the state's messages are never changed.
- ``inject``: the same as a runnable over a message list, to put in front of a model in
  your own graph: ``auto.inject | model``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    MessageLikeRepresentation,
    SystemMessage,
    convert_to_messages,
)
from langchain_core.runnables import Runnable, RunnableLambda
from memory_r1 import InvalidInputError

from langchain_memory_r1 import _agents, _bridge
from langchain_memory_r1._bridge import AnyMemory
from langchain_memory_r1._context import check_template, fill, resolve_store, run_values
from langchain_memory_r1.store import MemoryR1Store

__all__ = ["AutoMemory"]

DEFAULT_NAMESPACE = ("memories", "{user_id}")
HEADER = "What you remember about the user from earlier conversations:"
_ROLES = frozenset({"user", "assistant"})


class AutoMemory:
    """Automatic memory: recall before each model call, remember after each exchange.

    With LangGraph's prebuilt agent, pass ``pre_model_hook=auto.recall`` and
    ``post_model_hook=auto.remember``. In your own graph, call the model through
    ``auto.inject | model`` and add ``auto.remember`` as the node after the model's final
    answer. The scope comes from the namespace template, filled from the run's
    ``config["configurable"]`` or context, exactly as for the tools.

    Recall runs before every model call (also after tool results), so in answer-agent mode
    it costs one LLM call per model step; ``answer_agent=False`` uses a plain vector search
    (no LLM). Remembering costs one or two LLM calls per speaker and runs before the graph
    returns.

    Args:
        store: the ``MemoryR1Store`` to use; by default the store the graph was compiled
            with. Its memory needs an ``llm`` (unless ``answer_agent=False`` and you only
            recall).
        namespace: a namespace or template such as ``("memories", "{user_id}")``.
        answer_agent: distil memories with the Answer Agent (default) or take the top
            ``limit`` search hits.
        limit: how many memories a plain search injects.
        roles: which side of the exchange to remember: ``"user"``, ``"assistant"`` or both.
        header: the first line of the injected system message.

    Raises:
        ScopeError: a bad namespace template.
        ConfigurationError: ``store`` is not a ``MemoryR1Store``.
        InvalidInputError: bad ``roles`` or ``limit``.

    Example:
        >>> from memory_r1 import Memory
        >>> with Memory(embedder="hashing") as m:
        ...     auto = AutoMemory(MemoryR1Store(m), namespace=("memories", "alice"),
        ...                       answer_agent=False)
        ...     auto.inject.invoke([("user", "hi")])[-1].content
        'hi'
    """

    def __init__(
        self,
        store: MemoryR1Store | None = None,
        *,
        namespace: Sequence[str] = DEFAULT_NAMESPACE,
        answer_agent: bool = True,
        limit: int = 10,
        roles: Sequence[str] = ("user", "assistant"),
        header: str = HEADER,
    ) -> None:
        self._template = check_template(namespace)
        self._store = resolve_store(store) if store is not None else None
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInputError(f"limit must be a positive integer, got {limit!r}")
        if isinstance(roles, str) or not roles or not set(roles) <= _ROLES:
            raise InvalidInputError(f"roles must be a non-empty subset of {sorted(_ROLES)}")
        self.answer_agent = answer_agent
        self.limit = limit
        self.roles = tuple(roles)
        self.header = header
        self.inject: Runnable[Sequence[MessageLikeRepresentation], list[BaseMessage]] = (
            RunnableLambda(self._inject, afunc=self._ainject, name="memory_r1_inject")
        )
        self.recall: Runnable[Any, dict[str, list[BaseMessage]]] = RunnableLambda(
            self._recall, afunc=self._arecall, name="memory_r1_recall"
        )
        self.remember: Runnable[Any, dict[str, Any]] = RunnableLambda(
            self._remember, afunc=self._aremember, name="memory_r1_remember"
        )

    def _target(self) -> tuple[AnyMemory, dict[str, str]]:
        store = resolve_store(self._store)
        return store.memory, store.scope_for(fill(self._template, run_values()))

    # -- recall --------------------------------------------------------------------------

    def _inject(self, messages: Sequence[MessageLikeRepresentation]) -> list[BaseMessage]:
        msgs = convert_to_messages(messages)
        query = _last_user_text(msgs)
        if query is None:
            return msgs
        memory, scope = self._target()
        found = _bridge.run(memory, self._recall_flow(query, scope))
        return _with_memories(msgs, found, self.header)

    async def _ainject(self, messages: Sequence[MessageLikeRepresentation]) -> list[BaseMessage]:
        msgs = convert_to_messages(messages)
        query = _last_user_text(msgs)
        if query is None:
            return msgs
        memory, scope = self._target()
        found = await _bridge.arun(memory, self._recall_flow(query, scope))
        return _with_memories(msgs, found, self.header)

    def _recall_flow(self, query: str, scope: dict[str, str]) -> _bridge.Flow[_agents.Recall]:
        return _agents.recall(query, scope, answer_agent=self.answer_agent, limit=self.limit)

    def _recall(self, state: Any) -> dict[str, list[BaseMessage]]:
        return {"llm_input_messages": self._inject(_state_messages(state))}

    async def _arecall(self, state: Any) -> dict[str, list[BaseMessage]]:
        return {"llm_input_messages": await self._ainject(_state_messages(state))}

    # -- remember ------------------------------------------------------------------------

    def _remember(self, state: Any) -> dict[str, Any]:
        exchange = _finished_exchange(_state_messages(state), self.roles)
        if exchange:
            memory, scope = self._target()
            _bridge.run(memory, _agents.manage(exchange, scope))
        return {}

    async def _aremember(self, state: Any) -> dict[str, Any]:
        exchange = _finished_exchange(_state_messages(state), self.roles)
        if exchange:
            memory, scope = self._target()
            await _bridge.arun(memory, _agents.manage(exchange, scope))
        return {}


def _state_messages(state: Any) -> list[BaseMessage]:
    messages = (
        state.get("messages") if isinstance(state, Mapping) else getattr(state, "messages", None)
    )
    if messages is None:
        raise InvalidInputError("AutoMemory nodes need a state with a 'messages' list")
    return convert_to_messages(messages)


def _last_user_text(messages: Sequence[BaseMessage]) -> str | None:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            text = message.text
            return text if text.strip() else None
    return None


def _with_memories(
    messages: list[BaseMessage], found: _agents.Recall, header: str
) -> list[BaseMessage]:
    if not found.memories:
        return messages
    note = SystemMessage(content=f"{header}\n{_agents.bullet_lines(found.memories)}")
    lead = 0
    while lead < len(messages) and isinstance(messages[lead], SystemMessage):
        lead += 1
    return [*messages[:lead], note, *messages[lead:]]


def _finished_exchange(
    messages: Sequence[BaseMessage], roles: Sequence[str]
) -> list[dict[str, str]]:
    """The last user message and the model's final answer to it, as memory-r1 messages."""
    if not messages or not isinstance(messages[-1], AIMessage) or messages[-1].tool_calls:
        return []
    answer = messages[-1]
    question = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
    exchange: list[dict[str, str]] = []
    if question is not None and "user" in roles and question.text.strip():
        exchange.append(_turn("user", question))
    if "assistant" in roles and answer.text.strip():
        exchange.append(_turn("assistant", answer))
    return exchange


def _turn(role: str, message: BaseMessage) -> dict[str, str]:
    turn = {"role": role, "content": message.text}
    if message.name:
        turn["name"] = message.name
    return turn
