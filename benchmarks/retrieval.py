"""Evidence recall@k of raw LoCoMo turns (``rag-turns``): dense vs BM25 vs hybrid. No LLM.

Every turn of the chosen split is stored as it is (``infer=False``) with its speaker as the
actor and its dia_id as the source, in one bank per conversation and retrieval mode; each
question then searches it and recall@k is the share of the question's evidence dia_ids
found. k = 10 and 60 over the whole conversation, and 30 per speaker (30 + 30, the Answer
Agent's retrieval). Turns that share a photo carry its caption, as LoCoMo's own RAG does.
Embeddings are computed once and reused by every mode. Run:

    python benchmarks/retrieval.py [--split test] [--embedder sentence-transformers]

Writes benchmarks/results/retrieval.json. LoCoMo is read from $MEMORY_R1_LOCOMO or
../shared/data/locomo/locomo10.json (CC BY-NC 4.0; never copied into this repository).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from memory_r1 import Memory
from memory_r1.embeddings import resolve_embedder
from memory_r1.eval import load_locomo
from memory_r1.eval.locomo import Conversation

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "locomo" / "locomo10.json"
MODES = ("dense", "bm25", "hybrid")


class CachedEmbedder:
    """Wraps an embedder and remembers every vector, so each text is embedded once."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.dim, self.name = inner, inner.dim, inner.name
        self.cache: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if todo:
            self.cache.update(zip(todo, self.inner.embed(todo), strict=True))
        return np.stack([self.cache[t] for t in texts])


def turn_text(text: str, caption: str | None) -> str:
    return f"{text} [shares a photo: {caption}]" if caption else text


def ingest(mem: Memory, conv: Conversation) -> None:
    requests = [
        {
            "messages": [
                {"role": "user", "name": t.speaker, "content": turn_text(t.text, t.image_caption)}
            ],
            "user_id": conv.sample_id,
            "timestamp": s.date_time,
            "source": t.dia_id,
            "infer": False,
        }
        for s, t in conv.iter_turns()
    ]
    mem.add_batch(requests)


def found(mem: Memory, conv: Conversation, question: str, k: int, per_speaker: bool) -> set[str]:
    filters = [{"actor": conv.speaker_a}, {"actor": conv.speaker_b}] if per_speaker else [None]
    out: set[str] = set()
    for f in filters:
        for hit in mem.search(question, user_id=conv.sample_id, filters=f, limit=k):
            out.update(hit.sources)
    return out


def recall_of(mem: Memory, conv: Conversation) -> dict[str, list[float]]:
    scores: dict[str, list[float]] = {"@10": [], "@30/speaker": [], "@60": []}
    for qa in conv.questions():
        evidence = set(qa.evidence)
        if not evidence:
            continue
        for key, k, per in (("@10", 10, False), ("@30/speaker", 30, True), ("@60", 60, False)):
            scores[key].append(
                len(evidence & found(mem, conv, qa.question, k, per)) / len(evidence)
            )
    return scores


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--split", default="test", choices=["train", "validation", "test", "all"])
    p.add_argument("--embedder", default="sentence-transformers")
    p.add_argument(
        "--data", type=Path, default=Path(os.environ.get("MEMORY_R1_LOCOMO", DEFAULT_DATA))
    )
    args = p.parse_args()
    data = load_locomo(args.data)
    embedder = CachedEmbedder(resolve_embedder(args.embedder))
    scores: dict[str, dict[str, list[float]]] = {m: {} for m in MODES}
    start = time.perf_counter()
    for i, conv in enumerate(data.split(args.split), 1):
        for mode in MODES:
            with tempfile.TemporaryDirectory(
                dir="/dev/shm" if Path("/dev/shm").is_dir() else None
            ) as tmp:
                cfg = {"store": {"path": tmp, "retrieval": mode}}
                with Memory(cfg, embedder=embedder) as mem:
                    ingest(mem, conv)
                    for key, vals in recall_of(mem, conv).items():
                        scores[mode].setdefault(key, []).extend(vals)
        print(f"[{i}] {conv.sample_id} done, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    table = {m: {k: round(statistics.mean(v), 3) for k, v in s.items()} for m, s in scores.items()}
    n = len(scores["dense"]["@10"])
    print(f"evidence recall, {args.split} split, {n} questions with evidence, {embedder.name}")
    print(f"{'mode':<8} {'@10':>6} {'@30/speaker':>12} {'@60':>6}")
    for mode, row in table.items():
        print(f"{mode:<8} {row['@10']:>6.3f} {row['@30/speaker']:>12.3f} {row['@60']:>6.3f}")
    out = ROOT / "benchmarks" / "results" / "retrieval.json"
    out.write_text(
        json.dumps(
            {"split": args.split, "questions": n, "embedder": embedder.name, "recall": table},
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
