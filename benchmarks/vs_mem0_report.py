"""Turn the samples of ``vs_mem0.py`` into the Markdown report (pure formatting)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

LIBS = ("memory-r1", "mem0")
ADD_COLUMNS = {  # add(): memory-r1 on both LLM clients, then mem0
    "memory-r1": "memory-r1 (litellm)",
    "memory-r1-openai": "memory-r1 (openai)",
    "mem0": "mem0",
}
ADD_TARGET = 1 / 5  # memory-r1's per-add overhead over mem0's
SEARCH_TARGET_MS = {100_000: 5.0, 1_000_000: 20.0}


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def ms(x: float) -> str:
    return f"{x * 1000:,.2f}" if x == x else "–"


def add_figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-add figures for one library; the overheads subtract what the LLM took."""
    over = [r["wall_s"] - r["server_s"] for r in rows]
    no_client = [r["wall_s"] - r["client_llm_s"] for r in rows]
    no_embed = [r["wall_s"] - r["client_llm_s"] - r["embed_s"] for r in rows]
    n = len(rows)
    return {
        "wall": [pct([r["wall_s"] for r in rows], q) for q in (50, 95)],
        "over": [pct(over, 50), pct(over, 95), float(np.mean(over))],
        "no_client": [pct(no_client, 50), pct(no_client, 95)],
        "no_embed": [pct(no_embed, 50), pct(no_embed, 95)],
        "embed": [
            pct([r["embed_s"] for r in rows], 50),
            float(np.mean([r["embed_s"] for r in rows])),
        ],
        "calls": sum(r["calls"] for r in rows) / n,
        "client_call": sum(r["client_llm_s"] - r["server_s"] for r in rows)
        / max(1, sum(r["calls"] for r in rows)),
        "prompt": sum(r["prompt_tokens"] for r in rows) / n,
        "completion": sum(r["completion_tokens"] for r in rows) / n,
        "total_s": sum(r["wall_s"] for r in rows),
        "library_s": sum(over),
        "written": sum(r["written"] for r in rows),
    }


def ratio_text(r1: dict[str, Any], m0: dict[str, Any]) -> str:
    """memory-r1's median overheads over mem0's, with the verdicts against the target."""
    ratios = [r1["over"][0] / m0["over"][0], r1["no_embed"][0] / m0["no_embed"][0]]
    verdicts = ["met" if x <= ADD_TARGET else "**not met**" for x in ratios]
    return (
        f"{ratios[0]:.2f} counting everything but the LLM server's time ({verdicts[0]}); "
        f"{ratios[1]:.2f} without the LLM client and the MiniLM forward passes, which both "
        f"libraries share ({verdicts[1]})"
    )


def adds_section(adds: dict[str, Any], where: str = "") -> list[str]:
    libs = [lib for lib in ADD_COLUMNS if lib in adds["rows"]]
    f = {lib: add_figures(adds["rows"][lib]) for lib in libs}
    target = (
        "Target: memory-r1's per-add overhead ≤ 1/5 of mem0's. Median ratio memory-r1 / mem0: "
        + ratio_text(f["memory-r1"], f["mem0"])
    )
    if "memory-r1-openai" in f:
        target += "; with the openai backend: " + ratio_text(f["memory-r1-openai"], f["mem0"])
    lines = [
        f"### add(infer=True), one LoCoMo conversation turn by turn ({adds['turns']} turns{where})",
        "",
        target + ".",
        "",
        "| per add | " + " | ".join(ADD_COLUMNS[lib] for lib in libs) + " |",
        "|---|" + "---:|" * len(libs),
    ]
    table: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("wall time p50 / p95 ms", lambda x: f"{ms(x['wall'][0])} / {ms(x['wall'][1])}"),
        (
            "overhead = wall − LLM server time, p50 / p95 ms",
            lambda x: f"{ms(x['over'][0])} / {ms(x['over'][1])}",
        ),
        ("overhead mean ms", lambda x: ms(x["over"][2])),
        (
            "… also without the LLM client (litellm / openai SDK), p50 / p95 ms",
            lambda x: f"{ms(x['no_client'][0])} / {ms(x['no_client'][1])}",
        ),
        (
            "… also without MiniLM embedding, p50 / p95 ms",
            lambda x: f"{ms(x['no_embed'][0])} / {ms(x['no_embed'][1])}",
        ),
        ("MiniLM embedding p50 / mean ms", lambda x: f"{ms(x['embed'][0])} / {ms(x['embed'][1])}"),
        ("LLM calls per turn", lambda x: f"{x['calls']:.2f}"),
        (
            "LLM client per call (client-side LLM time − server time), mean ms",
            lambda x: ms(x["client_call"]),
        ),
        ("prompt tokens per turn", lambda x: f"{x['prompt']:,.0f}"),
        ("completion tokens per turn", lambda x: f"{x['completion']:,.0f}"),
        ("memories written", lambda x: f"{x['written']:,}"),
        (
            "whole conversation: wall s (library s)",
            lambda x: f"{x['total_s']:,.1f} ({x['library_s']:,.1f})",
        ),
    ]
    for label, cell in table:
        lines.append(f"| {label} | " + " | ".join(cell(f[lib]) for lib in libs) + " |")
    stored = " | ".join(f"{adds['stored'][lib]:,}" for lib in libs)
    lines.append(f"| memories stored (count at the end) | {stored} |")
    return [*lines, ""]


def bulk_section(bulk: dict[str, Any]) -> list[str]:
    lines = [
        "### All ten LoCoMo conversations, infer=False",
        "",
        "memory-r1: one `add_batch` per conversation; mem0: one `add(infer=False)` per session "
        "(it has no batch API).",
        "",
        "| library | turns | memories | wall s | memories/s | MiniLM s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for lib in LIBS:
        rows = bulk[lib]
        wall, n = sum(r["wall_s"] for r in rows), sum(r["written"] for r in rows)
        turns, emb = sum(r["turns"] for r in rows), sum(r["embed_s"] for r in rows)
        lines.append(f"| {lib} | {turns:,} | {n:,} | {wall:,.1f} | {n / wall:,.0f} | {emb:,.1f} |")
    return [*lines, ""]


def rss_cell(rss: dict[str, float] | None) -> str:
    return "–" if rss is None else f"{rss['rss_mb']:,.0f} ({rss['peak_mb']:,.0f})"


def search_section(results: list[dict[str, Any]], title: str) -> list[str]:
    lines = [
        title,
        "",
        "| memories | library | fill s (so far) | searches | p50 ms | p95 ms | mean ms "
        "| other users' hits | short answers | same top-1 as mem0 | RSS MB (peak) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rows = [
            (lib, times, r["leaks"][lib], r["short"][lib], r["same_top1"], r["rss"][lib])
            for lib, times in r["times"].items()
        ]
        if "dense" in r:
            d = r["dense"]
            same = d.get("same_top1")
            rows.append(("memory-r1, dense", d["times"], d["leaks"], d["short"], same, None))
        for lib, times, leaks, short, same, rss in rows:
            fill = r["fill_s"].get(lib)
            lines.append(
                f"| {r['size']:,} | {lib} | {'–' if fill is None else f'{fill:,.1f}'} "
                f"| {len(times)} | {ms(pct(times, 50))} | {ms(pct(times, 95))} "
                f"| {ms(float(np.mean(times)))} | {leaks} | {short} "
                f"| {'–' if same is None else f'{same:.0%}'} | {rss_cell(rss)} |"
            )
    lines += [""]
    for r in results:
        target = SEARCH_TARGET_MS.get(r["size"])
        runs = [("", r["times"].get("memory-r1")), (", dense", r.get("dense", {}).get("times"))]
        for label, times in runs:
            if target is None or not times:
                continue
            p95 = pct(times, 95) * 1000
            verdict = "met" if p95 <= target else "**not met**"
            lines.append(
                f"Target at {r['size']:,}: memory-r1{label} scoped search p95 ≤ {target:g} ms "
                f"— {verdict} ({p95:.2f} ms)."
            )
    return [*lines, ""]


def rss_section(res: dict[str, Any]) -> list[str]:
    lines = [
        "### Resident memory (MB, current / peak of each worker process)",
        "",
        "| point | memory-r1 | mem0 |",
        "|---|---:|---:|",
    ]
    points = [("opened (MiniLM loaded, empty bank)", res["rss_open"])]
    if "rss_adds" in res:
        points.append(("after the add() conversation", res["rss_adds"]))
    points += [(f"bank of {r['size']:,} filled memories", r["rss"]) for r in res["search"]]
    for label, rss in points:
        cells = [f"{rss[lib]['rss_mb']:,.0f} / {rss[lib]['peak_mb']:,.0f}" for lib in LIBS]
        lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
    return [*lines, ""]


def report(res: dict[str, Any], meta: dict[str, Any]) -> str:
    load = (
        ", ".join(f"{x:.1f}" for x in meta["load"][0])
        + " → "
        + ", ".join(f"{x:.1f}" for x in meta["load"][1])
    )
    v = meta["versions"]
    lines = [
        "# memory-r1 vs mem0, side by side",
        "",
        f"- date: {meta['date']}; runtime {meta['runtime_s']:.0f} s; command: `{meta['command']}`",
        f"- machine: {meta['machine']}; load average (1/5/15 min) at start → end: {load} "
        "(shared with other work: noisy; where two libraries run, they alternate call by call)",
        f"- memory-r1 {v['memory-r1']} (qdrant-edge-py {v['qdrant-edge-py']}, litellm "
        f"{v['litellm']}; the openai backend: openai {v['openai']}); mem0ai {v['mem0ai']} "
        f"(qdrant-client {v['qdrant-client']} local mode, "
        f"openai {v['openai']}); torch {v['torch']}, one thread per worker",
        f"- retrieval: memory-r1 `{meta['options']['retrieval']}` (store.retrieval); mem0 "
        "semantic only (its BM25 and entity boosts need fastembed and spaCy, which its "
        "default install lacks)",
        f"- fake LLM delay {meta['options']['delay'] * 1000:.0f} ms per call"
        + "".join(f"; {lib} worker start-up {s:.1f} s" for lib, s in res.get("open_s", {}).items()),
        "",
    ]
    if "adds" in res:
        lines += adds_section(res["adds"])
    if "adds_filled" in res:
        filled = res["adds_filled"]
        where = f", into a user's scope in a bank of {filled['size']:,} memories"
        lines += adds_section(filled, where)
    if "bulk" in res:
        lines += bulk_section(res["bulk"])
    if "search" in res:
        lines += search_section(res["search"], "### Scoped search (limit 10) among 1,000 users")
        lines += rss_section(res)
    if "million" in res:
        lines += search_section([res["million"]], "### memory-r1 alone at 1,000,000 memories")
        lines.append(f"Fill and search took {res['million']['fill_and_search_s']:,.0f} s.")
    return "\n".join(lines) + "\n"
