"""``MemoryR1Memory``: a ``BaseMemory`` that sends every turn to memory-r1's Memory Manager."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.async_utils import asyncio_run
from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock
from llama_index.core.memory import BaseMemory, Memory
from memory_r1 import AsyncMemory
from pydantic import Field, SerializeAsAny, field_validator

from llama_index.memory.memory_r1._settings import RecallSettings, query_of, render

__all__ = ["MemoryR1Memory"]

DEFAULT_CONTEXT_TEMPLATE = "Relevant long-term memories, most relevant first:\n{memories}"


class MemoryR1Memory(RecallSettings, BaseMemory):
    """Short-term chat history plus memory-r1 long-term memory, for agents and chat engines.

    ``put`` / ``put_messages`` hand each turn to the Memory Manager (fact extraction, then
    ADD / UPDATE / DELETE / NONE against related memories) and append it to
    ``primary_memory``, a llama-index ``Memory``. ``get`` returns the short-term history with
    the memories retrieved for the latest user message (or ``input``) in a system message.
    Every method has a native async twin (``aget``, ``aput``, ...); the sync ones drive the
    same coroutines. ``reset`` clears the short-term history only; ``clear_long_term``
    clears the scope's memories.

    Args:
        bank: a ``memory_r1.AsyncMemory`` (with an ``llm`` unless ``infer=False``).
        user_id / agent_id / run_id: the memory scope (at least one).
        primary_memory: the short-term memory (default: ``Memory.from_defaults()``).
        context_template: how memories are introduced; must contain ``{memories}``.
        top_k, distill, min_score, filters, infer, roles, names, query_messages, clock: the
            shared options (each field's description; the table in docs/llama-index.md).

    Raises:
        TypeError: ``bank`` is not an ``AsyncMemory``.
        pydantic.ValidationError: no scope, an option out of range, or a template without
            ``{memories}``.
        memory_r1.MemoryR1Error: from the bank, e.g. ``ConfigurationError`` when ``infer=True``
            and the bank has no ``llm``, ``PolicyOutputError`` when the model's output stays
            invalid; nothing is written then.

    Example:
        >>> from memory_r1 import AsyncMemory
        >>> from llama_index.core.base.llms.types import ChatMessage
        >>> bank = AsyncMemory(embedder="hashing")
        >>> memory = MemoryR1Memory.from_defaults(bank=bank, user_id="alice", infer=False)
        >>> memory.put(ChatMessage(role="user", content="I live in Lisbon"))
        >>> memory.reset()  # the short-term history only
        >>> print(memory.get(input="Where do I live?")[0].content)  # doctest: +ELLIPSIS
        Relevant long-term memories, most relevant first:
        - [...] I live in Lisbon
        >>> bank.close()
    """

    primary_memory: SerializeAsAny[Memory] = Field(
        default_factory=Memory.from_defaults, description="The short-term chat history."
    )
    context_template: str = Field(
        default=DEFAULT_CONTEXT_TEMPLATE, description="Introduces the memories; has {memories}."
    )

    @field_validator("context_template")
    @classmethod
    def _has_slot(cls, template: str) -> str:
        if "{memories}" not in template:
            raise ValueError("context_template must contain {memories}")
        return template

    @classmethod
    def class_name(cls) -> str:
        """The name llama-index serializes this class under."""
        return "MemoryR1Memory"

    @classmethod
    def from_defaults(  # type: ignore[override]
        cls,
        *,
        bank: AsyncMemory,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        primary_memory: Memory | None = None,
        **options: Any,
    ) -> MemoryR1Memory:
        """Build one; ``options`` are the other fields (``top_k``, ``distill``, ...)."""
        if primary_memory is not None:
            options["primary_memory"] = primary_memory
        return cls(bank=bank, user_id=user_id, agent_id=agent_id, run_id=run_id, **options)

    # -- async, native --------------------------------------------------------------------

    async def aget(self, input: str | None = None, **kwargs: Any) -> list[ChatMessage]:
        """The short-term history, with the memories for ``input`` (else the latest user
        message) in the first system message (a new one when there is none)."""
        messages = await self.primary_memory.aget(input=input, **kwargs)
        query = input if input else query_of(messages, self.query_messages)
        memories = await self.recall(query)
        if not memories:
            return messages
        return _with_context(
            messages, self.context_template.replace("{memories}", render(memories))
        )

    async def aget_all(self) -> list[ChatMessage]:
        """Every short-term message, without long-term memories."""
        return await self.primary_memory.aget_all()

    async def aput(self, message: ChatMessage) -> None:
        """Hand one message to the Memory Manager, then to the short-term history."""
        await self.remember([message])
        await self.primary_memory.aput(message)

    async def aput_messages(self, messages: list[ChatMessage]) -> None:
        """Hand the messages to the Memory Manager in one call, then to the short-term history."""
        await self.remember(messages)
        await self.primary_memory.aput_messages(messages)

    async def aset(self, messages: list[ChatMessage]) -> None:
        """Replace the short-term history; messages beyond its current length are remembered
        as new turns (those before were put already)."""
        known = len(await self.primary_memory.aget_all())
        await self.remember(messages[known:])
        await self.primary_memory.aset(messages)

    async def areset(self) -> None:
        """Clear the short-term history; long-term memories stay (see ``clear_long_term``)."""
        await self.primary_memory.areset()

    async def aclear_long_term(self, *, erase: bool = False) -> int:
        """Delete the scope's long-term memories; returns how many.

        By default they are deleted the memory-r1 way (hidden, restorable, history kept);
        ``erase=True`` removes them, their history and raw inputs for good.
        """
        if erase:
            return (await self.bank.erase(**self.scope_args())).memories
        return await self.bank.delete_all(**self.scope_args())

    # -- sync, over the same coroutines -----------------------------------------------------

    def get(self, input: str | None = None, **kwargs: Any) -> list[ChatMessage]:
        """See ``aget``."""
        result: list[ChatMessage] = asyncio_run(self.aget(input=input, **kwargs))
        return result

    def get_all(self) -> list[ChatMessage]:
        """See ``aget_all``."""
        result: list[ChatMessage] = asyncio_run(self.aget_all())
        return result

    def put(self, message: ChatMessage) -> None:
        """See ``aput``."""
        asyncio_run(self.aput(message))

    def put_messages(self, messages: list[ChatMessage]) -> None:
        """See ``aput_messages``."""
        asyncio_run(self.aput_messages(messages))

    def set(self, messages: list[ChatMessage]) -> None:
        """See ``aset``."""
        asyncio_run(self.aset(messages))

    def reset(self) -> None:
        """See ``areset``."""
        asyncio_run(self.areset())

    def clear_long_term(self, *, erase: bool = False) -> int:
        """See ``aclear_long_term``."""
        count: int = asyncio_run(self.aclear_long_term(erase=erase))
        return count


def _with_context(messages: Sequence[ChatMessage], context: str) -> list[ChatMessage]:
    """A copy of ``messages`` whose first system message starts with ``context``."""
    out = list(messages)
    for i, message in enumerate(out):
        if message.role == MessageRole.SYSTEM:
            blocks = [TextBlock(text=context + "\n"), *message.blocks]
            out[i] = message.model_copy(update={"blocks": blocks})
            return out
    return [ChatMessage(role=MessageRole.SYSTEM, content=context), *out]
