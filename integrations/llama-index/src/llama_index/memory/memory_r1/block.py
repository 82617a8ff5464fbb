"""``MemoryR1Block``: memory-r1 as a block of llama-index's ``Memory``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.memory.memory import BaseMemoryBlock
from llama_index.core.utils import get_tokenizer
from pydantic import Field

from llama_index.memory.memory_r1._settings import RecallSettings, drop_lowest, query_of, render

__all__ = ["MemoryR1Block"]


class MemoryR1Block(RecallSettings, BaseMemoryBlock[str]):
    """A memory block whose long-term store is memory-r1's bank.

    llama-index's ``Memory`` keeps recent turns in a short-term queue; the turns it flushes out
    of that queue (once it holds more than ``token_limit * chat_history_token_ratio`` tokens)
    reach ``_aput``, which hands them to the Memory Manager (fact extraction, then
    ADD / UPDATE / DELETE / NONE against related memories). On every ``Memory.get``,
    ``_aget`` retrieves the memories for the latest user message (or, with ``distill=True``,
    the ones the Answer Agent selects) and renders them one per line, best first, inside
    ``<long_term_memory>`` in the system message. When the context is over budget,
    ``atruncate`` drops the lowest-scored memories, not the whole block.

    Args:
        bank: a ``memory_r1.AsyncMemory`` (with an ``llm`` unless ``infer=False``).
        user_id / agent_id / run_id: the memory scope (at least one).
        name: the block's name, also the tag it is rendered in.
        priority: llama-index's truncation priority (0 never truncates; default 1).
        top_k, distill, min_score, filters, infer, roles, names, query_messages, clock: the
            shared options (each field's description; the table in docs/llama-index.md).

    Raises:
        TypeError: ``bank`` is not an ``AsyncMemory``.
        pydantic.ValidationError: no scope, or an option out of range.

    Example:
        >>> from llama_index.core.memory import Memory
        >>> from memory_r1 import AsyncMemory
        >>> bank = AsyncMemory(embedder="hashing")
        >>> block = MemoryR1Block(bank=bank, user_id="alice", infer=False)
        >>> memory = Memory.from_defaults(token_limit=200, memory_blocks=[block])
        >>> bank.close()
    """

    name: str = Field(default="long_term_memory", description="The block's name and tag.")
    priority: int = Field(default=1, description="Truncation priority; 0 never truncates.")
    tokenizer_fn: Callable[[str], list[Any]] = Field(
        default_factory=get_tokenizer,
        exclude=True,
        description="Counts tokens when truncating (llama-index's default tokenizer).",
    )

    async def _aget(self, messages: list[ChatMessage] | None = None, **block_kwargs: Any) -> str:
        """The rendered memories for the latest user message(s); "" when there are none."""
        return render(await self.recall(query_of(messages or [], self.query_messages)))

    async def _aput(self, messages: list[ChatMessage]) -> None:
        """Hand the flushed messages to the Memory Manager."""
        await self.remember(messages)

    async def atruncate(self, content: str, tokens_to_truncate: int) -> str | None:
        """Drop the lowest-scored memories until ``tokens_to_truncate`` are saved."""
        return drop_lowest(content, tokens_to_truncate, self.tokenizer_fn)
