"""``MemoryR1Retriever``: memory-r1's search as a LangChain retriever, for RAG chains."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from memory_r1 import AsyncMemory, InvalidInputError, Memory, ScoredMemory
from pydantic import ConfigDict, Field, model_validator

from langchain_memory_r1 import _agents, _bridge
from langchain_memory_r1._bridge import Call, Flow

__all__ = ["MemoryR1Retriever"]

_OVERRIDES = frozenset({"k", "filters", "threshold"})


class MemoryR1Retriever(BaseRetriever):
    """The active memories of one scope closest to the query, as ``Document`` objects.

    Each document's ``page_content`` is the memory's text, its ``id`` the memory id, and its
    ``metadata`` holds ``id``, ``score`` (cosine similarity), ``created_at``,
    ``updated_at``, ``event_time`` (ISO strings), ``actor``, ``scope``, ``version`` and the
    memory's own ``metadata``. ``invoke(query, k=..., filters=..., threshold=...)``
    overrides the fields for one call. Works on a ``Memory`` or an ``AsyncMemory``
    (``ainvoke`` awaits an ``AsyncMemory`` natively).

    Attributes:
        memory: the memory-r1 ``Memory`` or ``AsyncMemory`` to search.
        user_id / agent_id / run_id: the scope (at least one).
        k: how many documents to return.
        filters: mem0-style metadata filters (see memory-r1's docs).
        threshold: drop memories with a lower cosine similarity.

    Raises:
        pydantic.ValidationError: no scope field is set, or ``k`` is not positive.
        InvalidInputError: an unknown ``invoke`` keyword, or a bad override (from memory-r1).

    Example:
        >>> from memory_r1 import Memory
        >>> with Memory(embedder="hashing") as m:
        ...     _ = m.add("Alice likes green tea", user_id="alice", infer=False)
        ...     docs = MemoryR1Retriever(memory=m, user_id="alice").invoke("tea")
        ...     docs[0].page_content
        'Alice likes green tea'
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memory: Memory | AsyncMemory
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    k: int = Field(default=4, gt=0)
    filters: dict[str, Any] | None = None
    threshold: float | None = None

    @model_validator(mode="after")
    def _needs_scope(self) -> MemoryR1Retriever:
        if not (self.user_id or self.agent_id or self.run_id):
            raise ValueError("MemoryR1Retriever needs user_id, agent_id or run_id")
        return self

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        return _bridge.run(self.memory, self._flow(query, kwargs))

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        return await _bridge.arun(self.memory, self._flow(query, kwargs))

    def _flow(self, query: str, overrides: dict[str, Any]) -> Flow[list[Document]]:
        unknown = set(overrides) - _OVERRIDES
        if unknown:
            raise InvalidInputError(f"unknown retriever arguments {sorted(unknown)}")
        fields = {"user_id": self.user_id, "agent_id": self.agent_id, "run_id": self.run_id}
        scope = {name: value for name, value in fields.items() if value}
        kwargs = {
            "limit": overrides.get("k", self.k),
            "filters": overrides.get("filters", self.filters),
            "threshold": overrides.get("threshold", self.threshold),
        }
        hits: list[ScoredMemory] = yield Call("search", (query,), {**scope, **kwargs})
        return [
            Document(page_content=m.text, id=str(m.id), metadata=_agents.record(m)) for m in hits
        ]
