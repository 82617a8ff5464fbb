"""Per-turn cost of ingesting one LoCoMo conversation through the Memory Manager.

The policy is a scripted function LLM that answers instantly (one fact per turn, an ADD, or
NONE when the fact is already stored), so the figures measure the library, not a model:
LLM calls and prompt/completion tokens per turn, and the library's own time per turn
(everything except the LLM call). Run:

    python benchmarks/ingest.py [--conversation 0] [--embedder hashing|sentence-transformers]
    python benchmarks/ingest.py --all      # all ten conversations (5,882 turns): wall time

LoCoMo is read from $MEMORY_R1_LOCOMO or ../shared/data/locomo/locomo10.json (CC BY-NC 4.0;
never copied into this repository).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from memory_r1 import Memory
from memory_r1.llms.base import LLMResponse, Message
from memory_r1.testing import CallInfo, FunctionLLM

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "locomo" / "locomo10.json"


def locomo_path() -> Path:
    """Where LoCoMo is: $MEMORY_R1_LOCOMO, else the shared folder beside the checkout."""
    return Path(os.environ.get("MEMORY_R1_LOCOMO", DEFAULT_DATA))


def turns(conversation: dict[str, Any]) -> list[tuple[str, str, str, datetime]]:
    """(speaker, text, dia_id, session time) for every turn, in order."""
    conv = conversation["conversation"]
    out = []
    n = 1
    while f"session_{n}" in conv:
        when = datetime.strptime(conv[f"session_{n}_date_time"], "%I:%M %p on %d %B, %Y")
        out += [(t["speaker"], t["text"], t["dia_id"], when) for t in conv[f"session_{n}"]]
        n += 1
    return out


class ScriptedPolicy:
    """Extraction: the turn itself as one fact. Manager: NONE if stored, else ADD."""

    def __init__(self) -> None:
        self.llm_s = 0.0

    def __call__(self, messages: list[Message], info: CallInfo) -> LLMResponse:
        start = time.perf_counter()
        prompt = messages[-1]["content"]
        if '"facts"' in messages[0]["content"] and "Conversation:" in prompt:
            line = prompt.split("Conversation:\n", 1)[1].split("\n", 1)[0]
            text = json.dumps({"facts": [line.split(": ", 1)[-1][:200]]})
        else:
            fact = json.loads(prompt.split("New facts:\n", 1)[1].split("\n\n", 1)[0])[0]
            stored = prompt.split("Stored memories:\n", 1)[1].split("\n\nNew facts", 1)[0]
            event = "NONE" if json.dumps(fact) in stored else "ADD"
            text = json.dumps({"memory": [{"id": "0", "text": fact, "event": event}]})
        self.llm_s += time.perf_counter() - start
        words = sum(len(m["content"].split()) for m in messages)
        return LLMResponse(text=text, prompt_tokens=words, completion_tokens=len(text.split()))


def run(conversation: dict[str, Any], embedder: str) -> dict[str, float]:
    """Ingest every turn with add(infer=True); return per-turn figures."""
    policy = ScriptedPolicy()
    rows = turns(conversation)
    calls = prompt = completion = 0
    per_turn: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        mem = Memory(path=folder, embedder=embedder, llm=FunctionLLM(policy))
        mem.add("warm-up", user_id="warm", infer=False)
        for speaker, text, dia_id, when in rows:
            before, start = policy.llm_s, time.perf_counter()
            result = mem.add(
                [{"role": "user", "name": speaker, "content": text}],
                user_id=conversation["sample_id"],
                timestamp=when,
                source=dia_id,
            )
            per_turn.append(time.perf_counter() - start - (policy.llm_s - before))
            calls += result.usage.calls
            prompt += result.usage.prompt_tokens
            completion += result.usage.completion_tokens
        stored = len(mem.get_all(user_id=conversation["sample_id"], limit=10_000))
        mem.close()
    n = len(rows)
    return {
        "turns": n,
        "memories": stored,
        "llm_calls_per_turn": calls / n,
        "prompt_tokens_per_turn": prompt / n,
        "completion_tokens_per_turn": completion / n,
        "library_ms_per_turn_mean": 1000 * statistics.mean(per_turn),
        "library_ms_per_turn_p95": 1000 * statistics.quantiles(per_turn, n=20)[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversation", type=int, default=0)
    parser.add_argument("--embedder", default="hashing:384")
    parser.add_argument("--all", action="store_true", help="every conversation, one after another")
    args = parser.parse_args()
    data = json.loads(locomo_path().read_text())
    if args.all:
        start = time.perf_counter()
        totals = [run(c, args.embedder) for c in data]
        wall = time.perf_counter() - start
        n = sum(int(t["turns"]) for t in totals)
        calls = sum(t["llm_calls_per_turn"] * t["turns"] for t in totals) / n
        print(f"all {len(data)} conversations, {n} turns, embedder {args.embedder}: {wall:.1f} s")
        print(f"({n / wall:.0f} turns/s, {calls:.2f} LLM calls per turn, scripted policy)")
        return
    conversation = data[args.conversation]
    figures = run(conversation, args.embedder)
    print(f"conversation {conversation['sample_id']}, embedder {args.embedder}")
    print("| figure | value |\n|---|---|")
    for key, value in figures.items():
        print(f"| {key} | {value:.3f} |" if isinstance(value, float) else f"| {key} | {value} |")


if __name__ == "__main__":
    main()
