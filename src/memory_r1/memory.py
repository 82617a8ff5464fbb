"""``Memory`` and ``AsyncMemory``: the public facade over one shared core.

Both classes only build a flow from ``MemoryCore`` and drive it (blocking, or on the
event loop); every decision lives in the core, once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from memory_r1._core import validate as v
from memory_r1._core.effects import Flow, Hook, run_async, run_sync
from memory_r1._core.flows import AddRequest, MemoryCore, Messages
from memory_r1.config import MemoryConfig, load_config
from memory_r1.embeddings import Embedder, resolve_embedder
from memory_r1.exceptions import ConfigurationError, InvalidInputError
from memory_r1.llms.base import LLM
from memory_r1.store.bank import Bank, Clock, utc_now
from memory_r1.types import (
    AddResult,
    AnswerResult,
    EraseReport,
    HistoryRecord,
    MemoryItem,
    Page,
    ScoredMemory,
)

__all__ = ["AsyncMemory", "Memory"]

T = TypeVar("T")
_CONFIRM = "reset(confirm=True) wipes every scope; pass confirm=True to do it"


class _Base:
    """Opening and closing, shared by both facades."""

    def __init__(
        self,
        config: MemoryConfig | Mapping[str, Any] | str | Path | None = None,
        *,
        path: str | Path | None = None,
        embedder: Embedder | str | None = None,
        llm: LLM | str | None = None,
        answer_llm: LLM | str | None = None,
        on_event: Hook | None = None,
        clock: Clock = utc_now,
    ) -> None:
        cfg = load_config(config, environ={}) if not isinstance(config, MemoryConfig) else config
        if path is not None:
            cfg = cfg.model_copy(
                update={"store": cfg.store.model_copy(update={"path": Path(path)})}
            )
        self.config = cfg
        self.embedder = resolve_embedder(embedder or cfg.embedder, **cfg.embedder_args)
        manager = _llm(llm if llm is not None else cfg.llm)
        answerer = _llm(answer_llm if answer_llm is not None else cfg.answer_llm) or manager
        self.on_event = on_event
        self._bank = _open_bank(cfg, self.embedder.dim, clock)
        self._core = MemoryCore(
            self._bank, llm=manager, answer_llm=answerer, prompts=cfg.prompts, agents=cfg.agents
        )

    @classmethod
    def from_config(
        cls, source: MemoryConfig | Mapping[str, Any] | str | Path | None = None
    ) -> Self:
        """Build from a dict, a ``MemoryConfig`` or a .json/.toml file, with ``MEMORY_R1_*``
        environment overrides (see ``memory_r1.config``)."""
        return cls(load_config(source))

    def optimize(self) -> bool:
        """Build the embedded engine's HNSW index now (after a bulk load; blocking).

        Scoped searches are fast without it (the payload index narrows them first); it pays
        off for scopes of tens of thousands of memories. Returns False on a server bank.
        """
        optimize = getattr(self._bank.store, "optimize", None)
        return bool(optimize()) if optimize is not None else False

    def close(self) -> None:
        """Release the bank (a temporary bank's folder is deleted)."""
        self._bank.close()


def _llm(spec: LLM | str | None) -> LLM | None:
    if spec is None:
        return None
    from memory_r1.llms import resolve_llm

    return resolve_llm(spec)


def _open_bank(cfg: MemoryConfig, dim: int, clock: Clock) -> Bank:
    store = cfg.store
    if not store.is_server:
        return Bank.open_embedded(store.path, dim, lock_timeout_s=store.lock_timeout_s, clock=clock)
    if store.location == ":memory:":
        history: str | Path = store.path / "history.sqlite3" if store.path else ":memory:"
        return Bank.open_server(
            dim, history_path=history, location=":memory:", collection=store.collection, clock=clock
        )
    if store.path is None:  # the config validator already says so; keep mypy informed
        raise ConfigurationError("a server bank needs store.path for its history log")
    key = store.api_key.get_secret_value() if store.api_key else None
    return Bank.open_server(
        dim,
        history_path=store.path / "history.sqlite3",
        url=store.url,
        api_key=key,
        collection=store.collection,
        clock=clock,
    )


def _single(results: list[AddResult]) -> AddResult:
    return results[0]


class Memory(_Base):
    """Long-term memory for an agent, on an embedded Qdrant bank by default.

    Args:
        config: a ``MemoryConfig``, a dict of one, or a .json/.toml file.
        path: the bank's folder (overrides ``config.store.path``); a temporary folder if unset.
        embedder: an ``Embedder`` or spec such as ``"hashing"`` (overrides the config).
        clock: returns "now" (tests pass a fixed clock).

    Example:
        >>> from memory_r1 import Memory
        >>> with Memory(embedder="hashing") as m:
        ...     r = m.add("Alice moved to Lisbon", user_id="alice", infer=False)
        ...     m.search("Where does Alice live?", user_id="alice")[0].text
        'Alice moved to Lisbon'
    """

    def _run(self, flow: Flow[T]) -> T:
        return run_sync(flow, self.embedder, self.on_event)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        self.close()

    def add(
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
        """Remember a text or a list of chat messages.

        Args:
            messages: a string, or messages ``{"role", "content", "name"?}``.
            user_id / agent_id / run_id: the scope (at least one).
            metadata: JSON object stored with each memory (filterable).
            timestamp: when it happened (datetime, ISO string or epoch seconds).
            infer: True runs fact extraction and the Memory Manager (needs an LLM);
                False stores each non-system message (or the text) as it is.
            source: where it came from, e.g. a dialogue turn id.

        Returns:
            An ``AddResult`` with one event per memory written.

        Raises:
            InvalidInputError: empty text, missing scope, bad metadata or timestamp.
        """
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
        return _single(self._run(self._core.add_batch([req])))

    def add_batch(self, requests: Sequence[AddRequest | Mapping[str, Any]]) -> list[AddResult]:
        """Many ``add`` calls (dicts of their arguments) embedded together and committed as
        one atomic batch: the fast path for bulk ingestion."""
        return self._run(self._core.add_batch(requests))

    def answer(
        self,
        question: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        actors: Sequence[str | None] | None = None,
        distill: bool | None = None,
    ) -> AnswerResult:
        """Answer a question from the scope's memories with Memory-R1's Answer Agent.

        It retrieves the top ``agents.answer_k`` memories (default 30) of each speaker in the
        scope (``actors`` picks them; by default every speaker with memories there), shows
        them as timestamped lines, lets the model list the ones it uses (distillation; switch
        off with ``distill=False``) and answer after ``**Answer:**``.

        Returns:
            An ``AnswerResult``: the answer, the selected and retrieved memories, token usage
            and latency.

        Raises:
            ConfigurationError: no LLM is configured.
            PolicyOutputError: the model gave no parseable answer after the re-asks.
        """
        scope = v.check_scope(user_id, agent_id, run_id)
        return self._run(self._core.answer(question, scope, actors, distill))

    def search(
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
        """The active memories within the scope closest to ``query``, best first.

        ``filters`` takes mem0's grammar (see ``memory_r1._core.filters``); ``threshold``
        drops results with a lower cosine similarity.
        """
        scope = v.check_scope(user_id, agent_id, run_id)
        return self._run(self._core.search(query, scope, filters, limit, threshold))

    def get(
        self,
        memory_id: Any,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> MemoryItem:
        """One memory by id; with a scope, an id from another scope is ``NotFoundError``."""
        scope = v.check_scope(user_id, agent_id, run_id, required=False)
        return self._run(self._core.get(memory_id, scope))

    def get_all(
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
        """A page of memories within the scope; pass ``page.next_cursor`` for the next one."""
        scope = v.check_scope(user_id, agent_id, run_id)
        return self._run(self._core.get_all(scope, filters, limit, cursor, include_deleted))

    def update(
        self,
        memory_id: Any,
        text: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> MemoryItem:
        """Give a memory new text and/or metadata; the old version stays in its history."""
        scope = v.check_scope(user_id, agent_id, run_id, required=False)
        return self._run(self._core.update(memory_id, text, metadata, scope))

    def delete(
        self,
        memory_id: Any,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> MemoryItem:
        """Hide a memory from search (restorable; its history is kept)."""
        scope = v.check_scope(user_id, agent_id, run_id, required=False)
        return self._run(self._core.set_status(memory_id, delete=True, scope=scope))

    def restore(
        self,
        memory_id: Any,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> MemoryItem:
        """Bring a deleted memory back."""
        scope = v.check_scope(user_id, agent_id, run_id, required=False)
        return self._run(self._core.set_status(memory_id, delete=False, scope=scope))

    def delete_all(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> int:
        """Delete (restorably) every memory within the scope; refuses an empty scope."""
        scope = v.check_scope(user_id, agent_id, run_id)
        return self._run(self._core.delete_all(scope))

    def history(
        self,
        memory_id: Any,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[HistoryRecord]:
        """Every change to a memory, oldest first."""
        scope = v.check_scope(user_id, agent_id, run_id, required=False)
        return self._run(self._core.history(memory_id, scope))

    def erase(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> EraseReport:
        """Remove the scope's memories, history and raw inputs for good (right to be forgotten)."""
        scope = v.check_scope(user_id, agent_id, run_id)
        return self._run(self._core.erase(scope))

    def reset(self, *, confirm: bool = False) -> int:
        """Wipe the whole bank, every scope; requires ``confirm=True``. Returns the count."""
        if confirm is not True:
            raise InvalidInputError(_CONFIRM)
        return self._bank.reset()


class AsyncMemory(_Base):
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
        return _single(await self._run(self._core.add_batch([req])))

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

    async def erase(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> EraseReport:
        """See ``Memory.erase``."""
        scope = v.check_scope(user_id, agent_id, run_id)
        return await self._run(self._core.erase(scope))

    async def reset(self, *, confirm: bool = False) -> int:
        """See ``Memory.reset``."""
        if confirm is not True:
            raise InvalidInputError(_CONFIRM)
        return await self._run(self._reset_flow())

    def _reset_flow(self) -> Flow[int]:
        from memory_r1._core.effects import Call

        count: int = yield Call(self._bank.reset)
        return count
