"""Benchmark the memory bank's two stores side by side: ``EdgeStore`` (the embedded Qdrant
engine, the default) and ``QdrantStore(location=":memory:")`` (qdrant-client's local mode),
plus ``Memory`` end to end (hashing embedder + history log + embedded engine).

Real payloads (``item_to_payload``), ``store.apply`` batches of 1,000, and the bank's own
scoped search (``scope_condition(user, active_only=True)``). One user owns ``--big-share`` of
the bank, ``--users`` others share the rest; 5% of memories are deleted. Each backend and size
runs in its own subprocess (separate peak RSS). Report: benchmarks/results/bank.md.

    python benchmarks/bank.py              # 10k and 100k, about 5 minutes
    python benchmarks/bank.py --million    # adds 1M for the embedded engine
    python benchmarks/bank.py --optimize   # also optimize() (HNSW build) at 100k: +4-9 min
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from memory_r1._core.filters import scope_condition
from memory_r1._core.payload import item_to_payload
from memory_r1.store.base import Upsert, VectorStore
from memory_r1.types import MemoryItem, MemoryStatus, Scope

DIM, BATCH, WARMUP, LIMIT = 384, 1_000, 10, 10
DELETED_SHARE = 0.05
TARGET_MS, TARGET_SIZE = 5.0, 100_000
BIG_USER = "user-big"
RESULTS = Path(__file__).resolve().parent / "results" / "bank.md"
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
WORDS = (
    "alice",
    "bob",
    "likes",
    "hates",
    "visited",
    "moved",
    "to",
    "lisbon",
    "paris",
    "tea",
    "coffee",
    "jazz",
    "chess",
    "work",
)


@dataclass(frozen=True)
class Options:
    sizes: tuple[int, ...]
    users: int
    big_share: float
    queries: int
    local_queries: int
    local_max: int
    optimize_max: int
    api_points: int
    seed: int
    worker: str | None


@dataclass
class Row:
    backend: str
    points: int
    insert_pps: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    big_p95_ms: float | None = None
    peak_rss_mb: float | None = None
    notes: list[str] = field(default_factory=list)


def parse_args(argv: list[str]) -> Options:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="10000,100000", help="bank sizes, comma-separated")
    p.add_argument("--million", action="store_true", help="add 1,000,000 (embedded engine only)")
    p.add_argument("--users", type=int, default=1000, help="users besides the big one")
    p.add_argument("--big-share", type=float, default=0.10, help="share owned by the big user")
    p.add_argument("--queries", type=int, default=200, help="timed searches, embedded engine")
    p.add_argument("--local-queries", type=int, default=20, help="timed searches, local mode")
    p.add_argument("--local-max", type=int, default=100_000, help="skip local mode above this")
    p.add_argument("--optimize-max", type=int, default=10_000, help="optimize() up to this size")
    p.add_argument("--optimize", action="store_true", help="optimize() at every size (slow)")
    p.add_argument("--no-optimize", action="store_true", help="never call optimize()")
    p.add_argument("--api-points", type=int, default=10_000, help="Memory end-to-end (0: skip)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--worker", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    sizes = {int(s) for s in a.sizes.split(",") if s} | ({1_000_000} if a.million else set())
    optimize_max = 0 if a.no_optimize else sys.maxsize if a.optimize else a.optimize_max
    return Options(
        tuple(sorted(sizes)),
        a.users,
        a.big_share,
        a.queries,
        a.local_queries,
        a.local_max,
        optimize_max,
        a.api_points,
        a.seed,
        a.worker,
    )


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM), dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


def owners(n: int, opts: Options) -> list[str]:
    """Who owns each point: the big user, or one of the others in turn (equal shares)."""
    rng = np.random.default_rng(opts.seed + 1)
    big = rng.random(n) < opts.big_share
    turn = np.cumsum(~big) % opts.users
    return [BIG_USER if b else f"user-{t}" for b, t in zip(big, turn, strict=True)]


def payload(i: int, rng: np.random.Generator, user: str, text: str) -> dict[str, Any]:
    at = EPOCH + timedelta(seconds=i)
    deleted = rng.random() < DELETED_SHARE
    item = MemoryItem(
        id=uuid.UUID(bytes=rng.bytes(16), version=4),
        text=text,
        scope=Scope(user_id=user),
        actor="user",
        event_time=at,
        created_at=at,
        updated_at=at,
        sources=[f"turn-{i}"],
        metadata={"topic": WORDS[i % len(WORDS)]},
        status=MemoryStatus.DELETED if deleted else MemoryStatus.ACTIVE,
    )
    return item_to_payload(item) | {"_id": str(item.id)}


def load(store: VectorStore, n: int, opts: Options) -> tuple[float, Counter[str]]:
    """Write ``n`` points in batches of ``BATCH``: points/s of ``store.apply`` alone, and how
    many active memories each user has."""
    rng, who, spent = np.random.default_rng(opts.seed), owners(n, opts), 0.0
    active: Counter[str] = Counter()
    for start in range(0, n, BATCH):
        vecs = unit_vectors(rng, min(BATCH, n - start)).tolist()
        ops = []
        for k, vec in enumerate(vecs):
            i = start + k
            p = payload(i, rng, who[i], f"memory {i} of {who[i]}")
            ops.append(Upsert(p.pop("_id"), vec, p))
            active[who[i]] += p["status"] == "active"
        t0 = time.perf_counter()
        store.apply(ops)
        spent += time.perf_counter() - t0
        if (start // BATCH) % 100 == 99:
            log(f"  {start + BATCH:,} points written")
    return n / spent, active


def percentiles(times: list[float]) -> tuple[float, float]:
    p50, p95 = np.percentile(np.array(times) * 1000, [50, 95])
    return float(p50), float(p95)


def time_calls(call: Callable[[int], object], n: int, warmup: int = WARMUP) -> list[float]:
    """Run ``call(n + k)`` ``warmup`` times untimed, then ``call(k)`` ``n`` times, timed."""
    for k in range(warmup):
        call(n + k)
    times = []
    for k in range(n):
        t0 = time.perf_counter()
        call(k)
        times.append(time.perf_counter() - t0)
    return times


def measure(store: VectorStore, row: Row, active: Counter[str], opts: Options, local: bool) -> Row:
    """Scoped searches for users in turn, then for the big user. Every answer is checked: only
    the user's active memories, and as many as there are (up to the limit)."""
    n = opts.local_queries if local else opts.queries
    warmup = 2 if local else WARMUP  # local mode takes seconds per search at 100k
    queries = unit_vectors(np.random.default_rng(opts.seed + 2), n + warmup).tolist()
    bad = 0

    def search(user: str, k: int) -> None:
        nonlocal bad
        hits = store.search(queries[k], scope_condition({"user_id": user}, active_only=True), LIMIT)
        bad += any(h.payload["user_id"] != user or h.payload["status"] != "active" for h in hits)
        bad += len(hits) != min(LIMIT, active[user])

    row.p50_ms, row.p95_ms = percentiles(
        time_calls(lambda k: search(f"user-{(k * 7919) % opts.users}", k), n, warmup)
    )
    row.big_p95_ms = percentiles(time_calls(lambda k: search(BIG_USER, k), n, warmup))[1]
    row.notes += [f"{n} queries"] + [f"**{bad} wrong answers**"] * bool(bad)
    return row


def shard_note(store: Any) -> str:
    info = store._shard.info()  # the engine's own view: segments, HNSW-indexed vectors
    return f"{info.segments_count} segment(s), {info.indexed_vectors_count:,} HNSW-indexed"


def run_edge(n: int, opts: Options) -> list[Row]:
    from memory_r1.store.edge import EdgeStore

    with tempfile.TemporaryDirectory(prefix="bench-edge-") as tmp:
        store = EdgeStore(Path(tmp) / "qdrant", DIM)
        pps, active = load(store, n, opts)
        log(f"edge {n:,}: loaded at {pps:,.0f} pts/s; searching")
        row = Row("embedded, as loaded", n, pps, notes=[shard_note(store)])
        rows = [measure(store, row, active, opts, local=False)]
        if n <= opts.optimize_max:
            t0 = time.perf_counter()
            store.optimize()
            took = time.perf_counter() - t0
            log(f"edge {n:,}: optimize took {took:.1f} s")
            row = Row("embedded, optimized", n, notes=[f"optimize() {took:.1f} s"])
            row.notes.append(shard_note(store))
            rows.append(measure(store, row, active, opts, local=False))
        disk = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
        rows[-1].notes.append(f"disk {disk / 2**20:,.0f} MB")
        store.close()
    return rows


def run_local(n: int, opts: Options) -> list[Row]:
    from memory_r1.store.qdrant import QdrantStore

    warnings.simplefilter("ignore")  # local mode warns about its size above 20k points
    store = QdrantStore(DIM, location=":memory:")
    pps, active = load(store, n, opts)
    log(f"local {n:,}: loaded at {pps:,.0f} pts/s; searching")
    rows = [measure(store, Row("qdrant-client :memory:", n, pps), active, opts, local=True)]
    store.close()
    return rows


def run_api(n: int, opts: Options) -> list[Row]:
    from memory_r1 import Memory

    rng, who = np.random.default_rng(opts.seed), owners(n, opts)

    def sentence() -> str:
        return " ".join(rng.choice(WORDS, 6))

    with (
        tempfile.TemporaryDirectory(prefix="bench-api-") as tmp,
        Memory(path=tmp, embedder="hashing:384") as mem,
    ):
        t0 = time.perf_counter()
        for start in range(0, n, BATCH):
            mem.add_batch(
                [
                    {"messages": sentence(), "user_id": who[i], "infer": False}
                    for i in range(start, min(n, start + BATCH))
                ]
            )
        pps = n / (time.perf_counter() - t0)
        qs = [sentence() for _ in range(opts.queries + WARMUP)]
        users = [f"user-{(k * 7919) % opts.users}" for k in range(len(qs))]
        times = time_calls(lambda k: mem.search(qs[k], user_id=users[k]), opts.queries)
        big = time_calls(lambda k: mem.search(qs[k], user_id=BIG_USER), opts.queries)
    note = [f"hashing embedder + history; add_batch of {BATCH}; {opts.queries} queries"]
    p50, p95 = percentiles(times)
    return [Row("Memory API (end to end)", n, pps, p50, p95, percentiles(big)[1], None, note)]


WORKERS: dict[str, Callable[[int, Options], list[Row]]] = {
    "edge": run_edge,
    "local": run_local,
    "api": run_api,
}


def spawn(backend: str, n: int) -> list[Row]:
    log(f"worker {backend} at {n:,} points")
    cmd = [sys.executable, __file__, *sys.argv[1:], "--worker", f"{backend}:{n}"]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True).stdout
    rows = [Row(**r) for r in json.loads(out.strip().splitlines()[-1])]
    rows[0].notes.append(f"worker {time.perf_counter() - t0:.0f} s")
    return rows


def worker(spec: str, opts: Options) -> None:
    backend, n = spec.split(":")
    rows = WORKERS[backend](int(n), opts)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    for row in rows:
        row.peak_rss_mb = peak
    print(json.dumps([asdict(r) for r in rows]))


def verdict(rows: list[Row]) -> list[str]:
    edge = [r for r in rows if r.backend.startswith("embedded") and r.points == TARGET_SIZE]
    if not edge:
        return [f"Target not measured (no embedded-engine run at {TARGET_SIZE:,} points)."]
    ok = {True: "PASS", False: "FAIL"}
    return [
        f"- {r.backend}: p95 {r.p95_ms:.2f} ms → **{ok[r.p95_ms <= TARGET_MS]}**"
        for r in edge
        if r.p95_ms is not None
    ]


def fmt(x: float | None, spec: str) -> str:
    return "–" if x is None else format(x, spec)


def report(rows: list[Row], runtime_s: float) -> str:
    version = metadata.version
    lines = [
        "# Memory bank benchmark: embedded Qdrant engine vs qdrant-client local mode",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M UTC}; total runtime {runtime_s:.0f} s",
        f"- command: `{shlex.join(['python', *sys.argv])}`",
        f"- machine: {os.cpu_count()} cores, {platform.platform()}, load avg at end "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (shared, noisy machine)",
        f"- python {platform.python_version()}, qdrant-edge-py {version('qdrant-edge-py')}, "
        f"qdrant-client {version('qdrant-client')}, numpy {version('numpy')}",
        f"- workload: {DIM}-d unit vectors; payloads from `item_to_payload`; `store.apply` "
        f"batches of {BATCH}; scoped search `scope_condition(user, active_only=True)`, "
        f"limit {LIMIT}; {DELETED_SHARE:.0%} of memories deleted; {WARMUP} warm-up queries",
        "- insert pts/s times `store.apply` only (payload building excluded), except the API "
        "row (add_batch, embedding and history included); peak RSS is per worker process",
        "",
        f"Target: scoped search p95 ≤ {TARGET_MS:g} ms at {TARGET_SIZE:,} points, embedded engine:",
        *verdict(rows),
        "",
        "| backend | points | insert pts/s | scoped search p50 ms | p95 ms | big-scope p95 ms "
        "| peak RSS MB | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r.backend} | {r.points:,} | {fmt(r.insert_pps, ',.0f')} | {fmt(r.p50_ms, '.2f')} "
        f"| {fmt(r.p95_ms, '.2f')} | {fmt(r.big_p95_ms, '.2f')} | {fmt(r.peak_rss_mb, ',.0f')} "
        f"| {'; '.join(r.notes)} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    opts = parse_args(sys.argv[1:])
    if opts.worker:
        worker(opts.worker, opts)
        return
    t0, rows = time.perf_counter(), []
    for n in opts.sizes:
        rows += spawn("edge", n)
        if n <= opts.local_max:
            rows += spawn("local", n)
        else:
            rows.append(Row("qdrant-client :memory:", n, notes=["skipped above --local-max"]))
    if opts.api_points:
        rows += spawn("api", opts.api_points)
    md = report(rows, time.perf_counter() - t0)
    print(md)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(md)


if __name__ == "__main__":
    main()
