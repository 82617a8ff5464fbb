"""``MemoryR1Retriever``: memory-r1 memories as llama-index nodes."""

from __future__ import annotations

from typing import Any

from llama_index.core.async_utils import asyncio_run
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from memory_r1 import AsyncMemory, ScoredMemory

from llama_index.memory.memory_r1._settings import RecallSettings

__all__ = ["MemoryR1Retriever"]

_VISIBLE = ("actor", "event_time")  # the metadata an LLM reads with the text


class MemoryR1Retriever(BaseRetriever):
    """Retrieve a scope's memories as ``NodeWithScore`` (cosine similarity, best first).

    Each node's ``id_`` is the memory's id and its text the memory's text; its metadata holds
    the memory's own metadata plus ``memory_id``, ``actor``, ``event_time``, ``updated_at``,
    ``version`` and the scope fields (an LLM sees only ``actor`` and ``event_time``). With
    ``distill=True`` the nodes are the memories the Answer Agent selects (one LLM call).

    Args:
        bank: a ``memory_r1.AsyncMemory``.
        user_id / agent_id / run_id: the memory scope (at least one).
        top_k: how many memories at most.
        distill: keep only the memories the Answer Agent selects.
        min_score: drop memories with a lower cosine similarity.
        filters: memory-r1 metadata filters, e.g. ``{"topic": "travel"}`` (not with distill).

    Raises:
        TypeError: ``bank`` is not an ``AsyncMemory``.
        pydantic.ValidationError: no scope, or an option out of range.

    Example:
        >>> import asyncio
        >>> from memory_r1 import AsyncMemory
        >>> bank = AsyncMemory(embedder="hashing")
        >>> _ = asyncio.run(bank.add("Alice moved to Lisbon", user_id="alice", infer=False))
        >>> [n.node.get_content() for n in MemoryR1Retriever(bank, user_id="alice").retrieve(
        ...     "Where does Alice live?")]
        ['Alice moved to Lisbon']
        >>> bank.close()
    """

    def __init__(
        self,
        bank: AsyncMemory,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        top_k: int = 10,
        distill: bool = False,
        min_score: float | None = None,
        filters: dict[str, Any] | None = None,
    ) -> None:
        self.settings = RecallSettings(
            bank=bank,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            top_k=top_k,
            distill=distill,
            min_score=min_score,
            filters=filters,
        )
        super().__init__()

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        nodes: list[NodeWithScore] = asyncio_run(self._aretrieve(query_bundle))
        return nodes

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        memories = await self.settings.recall(query_bundle.query_str)
        return [NodeWithScore(node=to_node(m), score=m.score) for m in memories]


def to_node(memory: ScoredMemory) -> TextNode:
    """A ``TextNode`` holding one memory (its id, text and metadata)."""
    meta: dict[str, Any] = {
        **memory.metadata,
        "memory_id": str(memory.id),
        "actor": memory.actor,
        "event_time": memory.event_time.isoformat() if memory.event_time else None,
        "updated_at": memory.updated_at.isoformat(),
        "version": memory.version,
        **memory.scope.fields(),
    }
    hidden = [k for k in meta if k not in _VISIBLE]
    return TextNode(
        id_=str(memory.id),
        text=memory.text,
        metadata=meta,
        excluded_llm_metadata_keys=hidden,
        excluded_embed_metadata_keys=list(meta),
    )
