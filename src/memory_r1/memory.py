"""``Memory``: the blocking facade over the shared core (see ``memory_r1._core``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

from memory_r1._base import CONFIRM, MemoryBase, T, single
from memory_r1._core import validate as v
from memory_r1._core.effects import Flow, run_sync
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

__all__ = ["Memory"]


class Memory(MemoryBase):
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
        return single(self._run(self._core.add_batch([req])))

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

    def scopes(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> list[Scope]:
        """The exact scopes that hold active memories (all of them, or those within the given
        fields), sorted: what adapters list as namespaces."""
        scope = v.check_scope(user_id, agent_id, run_id, required=False)
        return self._run(self._core.scopes(scope))

    def erase(
        self, *, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> EraseReport:
        """Remove the scope's memories, history and raw inputs for good (right to be forgotten)."""
        scope = v.check_scope(user_id, agent_id, run_id)
        return self._run(self._core.erase(scope))

    def reset(self, *, confirm: bool = False) -> int:
        """Wipe the whole bank, every scope; requires ``confirm=True``. Returns the count."""
        if confirm is not True:
            raise InvalidInputError(CONFIRM)
        return self._bank.reset()
