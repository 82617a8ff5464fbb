"""The memory bank: a vector store and its history log, kept in agreement.

A write goes: plan (pure, may raise) → history + journal in one SQLite transaction →
vector store → journal entry cleared. A crash between the two steps leaves a journal entry
that ``Bank`` replays when it next opens, so the store and the history always agree and
an acknowledged write is never lost. Writes are serialised by a lock; reads are not.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from uuid import UUID

from memory_r1._core.filters import Bool, Cond, Present, scope_condition
from memory_r1._core.ops import AddOp, WriteOp, WritePlan, plan_writes
from memory_r1._core.payload import payload_to_item
from memory_r1.exceptions import BankLockedError, StorageError
from memory_r1.store.base import Remove, Retrieval, StoreOp, VectorStore
from memory_r1.store.history import HistoryLog, RawInput
from memory_r1.types import EraseReport, HistoryRecord, MemoryItem, Scope, ScoredMemory

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


class FolderLock:
    """An exclusive lock on a bank folder, held for the life of the bank."""

    def __init__(self, folder: Path, timeout_s: float = 0.0) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "bank.lock"
        self._file: IO[str] = open(path, "a+")  # noqa: SIM115 - held until release()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._file.seek(0)
                    holder = self._file.read().strip() or "unknown"
                    self._file.close()
                    raise BankLockedError(
                        f"the bank at {folder} is open in another process (pid {holder}). "
                        "The embedded bank serves one process: close it there, wait for it "
                        "(lock_timeout_s), or use a Qdrant server for several processes."
                    ) from None
                time.sleep(0.05)
        self._file.seek(0)
        self._file.truncate()
        self._file.write(str(os.getpid()))
        self._file.flush()

    def release(self) -> None:
        """Let another process open the bank."""
        with contextlib.suppress(OSError):
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._file.close()


class Bank:
    """A vector store plus its history log. Build one with ``open_embedded``/``open_server``."""

    def __init__(
        self,
        store: VectorStore,
        log: HistoryLog,
        *,
        lock: FolderLock | None = None,
        temp_dir: Path | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.store, self.log, self.clock = store, log, clock
        self._lock, self._temp_dir = lock, temp_dir
        self._write = threading.RLock()
        self._closed = False
        self.recover()

    @classmethod
    def open_embedded(
        cls,
        path: str | Path | None,
        dim: int,
        *,
        lock_timeout_s: float = 0.0,
        clock: Clock = utc_now,
        retrieval: Retrieval | None = None,
    ) -> Bank:
        """The embedded Qdrant engine in ``path`` (a temporary folder when ``None``)."""
        from memory_r1.store.edge import EdgeStore

        temp = Path(tempfile.mkdtemp(prefix="memory-r1-")) if path is None else None
        folder = Path(path) if path is not None else temp
        assert folder is not None
        lock = FolderLock(folder, lock_timeout_s)
        try:
            log = HistoryLog(folder / "history.sqlite3")
            store = EdgeStore(folder / "qdrant", dim, retrieval)
        except BaseException:
            lock.release()
            raise
        return cls(store, log, lock=lock, temp_dir=temp, clock=clock)

    @classmethod
    def open_server(
        cls,
        dim: int,
        *,
        history_path: str | Path,
        clock: Clock = utc_now,
        retrieval: Retrieval | None = None,
        **client_args: str | None,
    ) -> Bank:
        """A Qdrant server collection, with the history log in the local file ``history_path``."""
        from memory_r1.store.qdrant import QdrantStore

        store = QdrantStore(dim, retrieval=retrieval, **client_args)  # type: ignore[arg-type]
        if str(history_path) != ":memory:":
            Path(history_path).parent.mkdir(parents=True, exist_ok=True)
        return cls(store, HistoryLog(history_path), clock=clock)

    def recover(self) -> int:
        """Apply journal entries left by a crash; returns how many there were."""
        with self._write:
            pending = self.log.pending()
            for journal_id, ops in pending:
                self.store.apply(ops)
                self.log.done(journal_id)
            return len(pending)

    def commit(
        self,
        ops: list[WriteOp],
        vectors: dict[int, list[float]],
        *,
        guard: Scope | None = None,
        inputs: Sequence[RawInput] = (),
    ) -> WritePlan:
        """Plan and apply a batch of writes, all or nothing (see the module docstring)."""
        with self._write:
            self._check_open()
            touched = [str(op.id) for op in ops]
            current = {item.id: item for item in self.get_items(touched)}
            added = [op.id for op in ops if isinstance(op, AddOp) and op.id in current]
            if added:
                raise StorageError(f"memory id {added[0]} is already taken")
            plan = plan_writes(ops, current, vectors, self.clock(), guard)
            if plan.store_ops or inputs:
                self._journaled(self.log.begin(plan.log, plan.store_ops, inputs), plan.store_ops)
            return plan

    def _journaled(self, journal_id: int, ops: Sequence[StoreOp]) -> None:
        try:
            self.store.apply(ops)
        except StorageError:
            try:
                self.store.apply(ops)  # each op is idempotent: one retry is safe
            except StorageError as exc:
                raise StorageError(
                    f"{exc}; the write is in the history journal and is applied when the "
                    "bank next opens"
                ) from exc
        self.log.done(journal_id)

    def get_items(self, ids: Sequence[str]) -> list[MemoryItem]:
        """The stored memories with these ids (missing ones are left out)."""
        if not ids:
            return []
        return [payload_to_item(h.id, h.payload) for h in self.store.retrieve(ids)]

    def search(
        self,
        vector: Sequence[float],
        where: Cond,
        limit: int,
        threshold: float | None,
        text: str | None = None,
    ) -> list[ScoredMemory]:
        """The memories matching ``where`` that best fit ``vector`` (and ``text``), best first."""
        hits = self.store.search(vector, where, limit, threshold, text)
        return [
            ScoredMemory(**payload_to_item(h.id, h.payload).model_dump(), score=h.score)
            for h in hits
        ]

    def scroll(
        self, where: Cond, limit: int, cursor: str | None
    ) -> tuple[list[MemoryItem], str | None]:
        """One page of memories matching ``where``."""
        hits, nxt = self.store.scroll(where, limit, cursor)
        return [payload_to_item(h.id, h.payload) for h in hits], nxt

    def count(self, where: Cond) -> int:
        """How many memories match ``where``."""
        return self.store.count(where)

    def scopes(self, within: Scope | None) -> list[Scope]:
        """The exact scopes holding at least one active memory, optionally within ``within``."""
        out = []
        for scope in self.log.scopes(within):
            fields = scope.fields()
            unset = tuple(Present(k) for k in ("user_id", "agent_id", "run_id") if k not in fields)
            base = scope_condition(fields, active_only=True)
            if self.store.count(Bool(must=base.must, must_not=unset)) > 0:
                out.append(scope)
        return out

    def actors(self, scope: Scope) -> list[str | None]:
        """The speakers with memories in ``scope``, in order of their first memory."""
        return self.log.actors(scope)

    def history(self, memory_id: UUID) -> list[HistoryRecord]:
        """The memory's history, oldest first."""
        return self.log.history(memory_id)

    def erase(self, scope: Scope) -> EraseReport:
        """Remove every memory, history entry and raw input within ``scope``, for good."""
        with self._write:
            self._check_open()
            ids = set(self.log.memory_ids(scope)) | set(self._all_ids(scope))
            ops: list[StoreOp] = [Remove(tuple(sorted(ids)))] if ids else []
            n_inputs = self.log.count_inputs(scope)
            n_hist, _, journal_id = self.log.erase(scope, ops)
            self._journaled(journal_id, ops)
            return EraseReport(
                scope=scope, memories=len(ids), history_records=n_hist, inputs=n_inputs
            )

    def reset(self) -> int:
        """Remove everything; returns how many memories there were."""
        with self._write:
            self._check_open()
            ids = self._all_ids(None)
            ops: list[StoreOp] = [Remove(tuple(ids))] if ids else []
            self._journaled(self.log.clear(ops), ops)
            return len(ids)

    def _all_ids(self, scope: Scope | None) -> list[str]:
        where = scope_condition(scope.fields() if scope else {}, active_only=False)
        ids: list[str] = []
        cursor: str | None = None
        while True:
            hits, cursor = self.store.scroll(where, 1000, cursor)
            ids.extend(h.id for h in hits)
            if cursor is None:
                return ids

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the bank is closed")

    def close(self) -> None:
        """Flush and release everything (and delete a temporary bank's folder)."""
        with self._write:
            if self._closed:
                return
            self._closed = True
            try:
                self.store.close()
                self.log.close()
            finally:
                if self._lock is not None:
                    self._lock.release()
                if self._temp_dir is not None:
                    shutil.rmtree(self._temp_dir, ignore_errors=True)
