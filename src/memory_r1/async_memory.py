"""``AsyncMemory``: the async facade over the same core as ``Memory``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

from memory_r1._base import CONFIRM, MemoryBase, T, single
from memory_r1._core import validate as v
from memory_r1._core.effects import Call, Flow, run_async
from memory_r1._core.flows import AddRequest, Messages
from memory_r1.exceptions import InvalidInputError
from memory_r1.types import (
    AddResult,
    AnswerResult,
    EraseReport,
    HistoryRecord,
    MemoryItem,
    Page,
    Scope,
    ScoredMemory,
)

__all__ = ["AsyncMemory"]


class AsyncMemory(MemoryBase):
    """The async twin of ``Memory``: same arguments, same results, awaitable.

    Embedding and LLM calls use the backends' native async methods; bank calls run in a
    worker thread so the event loop never blocks.
    """

    async def _run(self, flow: Flow[T]) -> T:
        return await run_async(flow, self.embedder, self.on_event)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        self.close()

    async def add(
        self,
        messages: Messages,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        timestamp: Any = None,
        infer: bool = True,
        source: str | None = None,
    ) -> AddResult:
        """See ``Memory.add``."""
        req = {
            "messages": messages,
            "user_id": user_id,
            "agent_id": agent_id,
            "run_id": run_id,
            "metadata": metadata,
            "timestamp": timestamp,
            "source": source,
            "infer": infer,
        }
        return single(await self._run(self._core.add_batch([req])))

    async def add_batch(
        self, requests: Sequence[AddRequest | Mapping[str, Any]]
    ) -> list[AddResult]:
        """See ``Memory.add_batch``."""
        return await self._run(self._core.add_batch(requests))

    async def answer(
        self,
        question: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        actors: Sequence[str | None] | None = None,
        distill: bool | None = None,
    ) -> AnswerResult:
        """See ``Memory.answer``."""
        scope = v.check_scope(user_id, agent_id, run_id)
        return await self._run(self._core.answer(question, scope, actors, distill))

    async def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        filters: Mapping[str, Any] | None = None,
        limit: int = 10,
        threshold: float | None = None,
    ) -> list[ScoredMemory]:
        """See ``Memory.search``."""
        scope = v.check_scope(user_id, agent_id, run_id)
        return await self._run(self._core.search(query, scope, filters, limit, threshold))

    async def get(
        self,
        memory_id: Any,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> MemoryItem:
        """See ``Memory.get``."""
        scope = v.check_scope(user_id, agent_id, run_id, required=False)
        return await self._run(self._core.get(memory_id, scope))

    async def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        filters: Mapping[str, Any] | None = None,
        limit: int = 100,
        cursor: str | None = None,
        include_deleted: bool = False,
    ) -> Page:
        """See ``Memory.get_all``."""
        scope = v.check_scope(user_id, agent_id, run_id)
        return await self._run(self._core.get_all(scope, filters, limit, cursor, include_deleted))

    async def update(
        self,
        memory_id: Any,
        text: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> MemoryItem:
        """See ``Memory.update``."""
        scope = v.check_scope(user_id, agent_id, run_id, required=False)
        return await self._run(self._core.update(memory_id, text, metadata, scope))

    async def delete(
        self,
        memory_id: Any,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> MemoryItem:
        """See ``Memory.delete``."""
        scope = v.check_scope(user_id, agent_id, run_id, required=False)
        return await self._run(self._core.set_status(memory_id, delete=True, scope=scope))

    async def restore(
        self,
        memory_id: Any,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> MemoryItem:
        """See ``Memory.restore``."""
        scope = v.check_scope(user_id, agent_id, run_id, required=False)
        return await self._run(self._core.set_status(memory_id, delete=False, scope=scope))

    async def delete_all(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> int:
        """See ``Memory.delete_all``."""
        scope = v.check_scope(user_id, agent_id, run_id)
        return await self._run(self._core.delete_all(scope))

    async def history(
        self,
        memory_id: Any,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[HistoryRecord]:
        """See ``Memory.history``."""
        scope = v.check_scope(user_id, agent_id, run_id, required=False)
        return await self._run(self._core.history(memory_id, scope))

    async def scopes(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> list[Scope]:
        """See ``Memory.scopes``."""
        scope = v.check_scope(user_id, agent_id, run_id, required=False)
        return await self._run(self._core.scopes(scope))

    async def erase(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> EraseReport:
        """See ``Memory.erase``."""
        scope = v.check_scope(user_id, agent_id, run_id)
        return await self._run(self._core.erase(scope))

    async def reset(self, *, confirm: bool = False) -> int:
        """See ``Memory.reset``."""
        if confirm is not True:
            raise InvalidInputError(CONFIRM)
        return await self._run(self._reset_flow())

    def _reset_flow(self) -> Flow[int]:
        count: int = yield Call(self._bank.reset)
        return count
