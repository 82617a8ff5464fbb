"""The append-only history log, the raw inputs, and the write journal, in one SQLite file.

SQLite in WAL mode with a busy timeout, next to the bank. Every mutation appends rows to
``history`` in the same transaction that puts the batch's store operations in ``journal``;
the journal row is removed once the vector store has applied them, and replayed when the
bank opens after a crash. Rows of ``history`` and ``inputs`` are never changed; only
``erase`` and ``reset`` delete them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from memory_r1._core.ops import LogEntry
from memory_r1.exceptions import StorageError
from memory_r1.store.base import Overwrite, Remove, StoreOp, Upsert
from memory_r1.types import HistoryOp, HistoryRecord, MemoryItem, Scope

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    memory_id TEXT NOT NULL, operation TEXT NOT NULL, old_text TEXT, new_text TEXT,
    version INTEGER NOT NULL, actor TEXT, source TEXT, time TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, run_id TEXT, item TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS history_memory ON history (memory_id, seq);
CREATE INDEX IF NOT EXISTS history_user ON history (user_id);
CREATE INDEX IF NOT EXISTS history_agent ON history (agent_id);
CREATE INDEX IF NOT EXISTS history_run ON history (run_id);
CREATE TABLE IF NOT EXISTS inputs (
    id TEXT PRIMARY KEY, time TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, run_id TEXT, content TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY AUTOINCREMENT, ops TEXT NOT NULL);
"""


class RawInput:
    """What a caller handed to ``add``, kept so that ``erase`` can remove it too."""

    def __init__(self, id: UUID, time: datetime, scope: Scope, content: Any) -> None:
        self.id, self.time, self.scope, self.content = id, time, scope, content


class HistoryLog:
    """The SQLite file ``path`` (``":memory:"`` for a throwaway log)."""

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 10.0) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA secure_delete=ON")  # erased text is overwritten on disk
            self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the history log {self.path}: {exc}") from exc

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StorageError(f"history log {self.path}: {exc}") from exc

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise StorageError(f"history log {self.path}: {exc}") from exc

    def get_meta(self, key: str) -> str | None:
        """A stored setting, e.g. the bank's vector size."""
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def begin(
        self, entries: Sequence[LogEntry], ops: Sequence[StoreOp], inputs: Sequence[RawInput] = ()
    ) -> int:
        """Append history and raw inputs, and journal the store ops, in one transaction."""
        with self._tx() as db:
            db.executemany(
                "INSERT INTO inputs VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (str(r.id), r.time.isoformat(), *_scope_cols(r.scope), json.dumps(r.content))
                    for r in inputs
                ],
            )
            db.executemany(
                "INSERT INTO history (memory_id, operation, old_text, new_text, version, actor,"
                " source, time, user_id, agent_id, run_id, item)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_entry_row(e) for e in entries],
            )
            cur = db.execute("INSERT INTO journal (ops) VALUES (?)", (_dump_ops(ops),))
            return int(cur.lastrowid or 0)

    def done(self, journal_id: int) -> None:
        """The store has applied journal entry ``journal_id``."""
        with self._tx() as db:
            db.execute("DELETE FROM journal WHERE id = ?", (journal_id,))

    def pending(self) -> list[tuple[int, list[StoreOp]]]:
        """Journal entries not yet confirmed applied, oldest first."""
        rows = self._read("SELECT id, ops FROM journal ORDER BY id")
        return [(int(i), _load_ops(ops)) for i, ops in rows]

    def history(self, memory_id: UUID) -> list[HistoryRecord]:
        """Every entry for one memory, oldest first."""
        rows = self._read(
            "SELECT seq, memory_id, operation, old_text, new_text, version, actor, source, time,"
            " item FROM history WHERE memory_id = ? ORDER BY seq",
            (str(memory_id),),
        )
        return [_record(row) for row in rows]

    def memory_ids(self, scope: Scope) -> list[str]:
        """Ids of every memory ever written within ``scope`` (deleted ones included)."""
        where, args = _scope_where(scope)
        return [
            r[0] for r in self._read(f"SELECT DISTINCT memory_id FROM history WHERE {where}", args)
        ]

    def actors(self, scope: Scope, limit: int = 16) -> list[str | None]:
        """The speakers whose memories live within ``scope`` (None: memories without one)."""
        where, args = _scope_where(scope)
        rows = self._read(
            f"SELECT json_extract(item, '$.actor') AS a, MIN(seq) FROM history WHERE {where}"
            f" AND operation = 'ADD' GROUP BY a ORDER BY MIN(seq) LIMIT {int(limit)}",
            args,
        )
        return [r[0] for r in rows]

    def scopes(self, within: Scope | None = None) -> list[Scope]:
        """Every distinct scope that memories were ever written in, optionally within one."""
        where, args = _scope_where(within) if within and not within.is_empty() else ("1", [])
        rows = self._read(
            f"SELECT DISTINCT user_id, agent_id, run_id FROM history WHERE {where}"
            " ORDER BY user_id, agent_id, run_id",
            args,
        )
        return [Scope(user_id=u, agent_id=a, run_id=r) for u, a, r in rows]

    def erase(self, scope: Scope, ops: Sequence[StoreOp]) -> tuple[int, int, int]:
        """Delete the history and inputs within ``scope`` and journal ``ops``, in one transaction.

        Returns:
            (history rows deleted, inputs deleted, journal id)
        """
        where, args = _scope_where(scope)
        with self._tx() as db:
            n_hist = db.execute(f"DELETE FROM history WHERE {where}", args).rowcount
            n_in = db.execute(f"DELETE FROM inputs WHERE {where}", args).rowcount
            cur = db.execute("INSERT INTO journal (ops) VALUES (?)", (_dump_ops(ops),))
            journal_id = int(cur.lastrowid or 0)
        self._checkpoint()
        return n_hist, n_in, journal_id

    def _checkpoint(self) -> None:
        """Fold the WAL into the file and truncate it, so erased rows leave no copy there."""
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                raise StorageError(f"history log {self.path}: {exc}") from exc

    def clear(self, ops: Sequence[StoreOp]) -> int:
        """Delete all history and inputs and journal ``ops``; returns the journal id."""
        with self._tx() as db:
            db.execute("DELETE FROM history")
            db.execute("DELETE FROM inputs")
            cur = db.execute("INSERT INTO journal (ops) VALUES (?)", (_dump_ops(ops),))
            journal_id = int(cur.lastrowid or 0)
        self._checkpoint()
        return journal_id

    def count_inputs(self, scope: Scope) -> int:
        """Raw inputs stored within ``scope``."""
        where, args = _scope_where(scope)
        return int(self._read(f"SELECT COUNT(*) FROM inputs WHERE {where}", args)[0][0])

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()


def _scope_cols(scope: Scope) -> tuple[str | None, str | None, str | None]:
    return scope.user_id, scope.agent_id, scope.run_id


def _scope_where(scope: Scope) -> tuple[str, list[str]]:
    fields = scope.fields()
    if not fields:
        raise ValueError("an empty scope selects nothing here")  # callers check first
    return " AND ".join(f"{k} = ?" for k in fields), list(fields.values())


def _entry_row(e: LogEntry) -> tuple[Any, ...]:
    return (
        str(e.memory_id),
        e.operation.value,
        e.old_text,
        e.new_text,
        e.item.version,
        e.actor,
        e.source,
        e.time.isoformat(),
        *_scope_cols(e.item.scope),
        e.item.model_dump_json(),
    )


def _record(row: tuple[Any, ...]) -> HistoryRecord:
    seq, memory_id, op, old, new, version, actor, source, time, item = row
    return HistoryRecord(
        seq=seq,
        memory_id=UUID(memory_id),
        operation=HistoryOp(op),
        old_text=old,
        new_text=new,
        version=version,
        actor=actor,
        source=source,
        time=datetime.fromisoformat(time),
        item=MemoryItem.model_validate_json(item),
    )


def _dump_ops(ops: Sequence[StoreOp]) -> str:
    out: list[dict[str, Any]] = []
    for op in ops:
        if isinstance(op, Upsert):
            out.append({"t": "upsert", "id": op.id, "vector": op.vector, "payload": op.payload})
        elif isinstance(op, Overwrite):
            out.append({"t": "overwrite", "id": op.id, "payload": op.payload})
        else:
            out.append({"t": "remove", "ids": list(op.ids)})
    return json.dumps(out)


def _load_ops(text: str) -> list[StoreOp]:
    ops: list[StoreOp] = []
    for o in json.loads(text):
        if o["t"] == "upsert":
            ops.append(Upsert(o["id"], o["vector"], o["payload"]))
        elif o["t"] == "overwrite":
            ops.append(Overwrite(o["id"], o["payload"]))
        else:
            ops.append(Remove(tuple(o["ids"])))
    return ops
