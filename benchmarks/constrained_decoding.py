"""Constrained (xgrammar JSON schema) vs unconstrained decoding with the bundled SmolLM2-135M.

Loads SmolLM2 once, runs the same Memory Manager prompts greedily with and without the
manager schema, one call at a time with the same token budget, and prints a markdown table
(also written to ``benchmarks/results/constrained_decoding.md``).

Usage::

    python benchmarks/constrained_decoding.py [--n 20] [--max-tokens 160] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memory_r1.llms.base import LLMResponse, Message
from memory_r1.llms.transformers import TransformersLLM, smollm2_gguf_path

RESULTS = Path(__file__).parent / "results" / "constrained_decoding.md"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "memory": {
            "type": "array",
            "maxItems": 4,
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "text": {"type": "string"},
                    "event": {"type": "string", "enum": ["ADD", "UPDATE", "DELETE", "NONE"]},
                    "old_memory": {"type": "string"},
                },
                "required": ["id", "text", "event"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["memory"],
    "additionalProperties": False,
}

SYSTEM = (
    "You are the Memory Manager of a personal assistant. You keep short memories about the "
    "user. Given the existing memories and one new fact, choose an operation for each memory: "
    "ADD a new memory for new information (use the next free id), UPDATE an existing memory "
    "when the fact refines it (keep its id, put the previous text in old_memory), DELETE a "
    "memory the fact contradicts, or NONE when nothing changes. Each text is one short "
    'sentence. Reply only with JSON like {"memory": [{"id": "0", "text": "...", "event": "NONE"}]}.'
)

CASES: list[tuple[list[str], str]] = [
    (["Lives in Berlin", "Works as a nurse"], "I just moved to Munich for a new job."),
    (["Has a dog named Rex", "Likes jogging"], "My cat Luna turned three today."),
    (["Is vegetarian", "Loves Italian food"], "I started eating fish again last month."),
    (["Plays guitar", "Studies chemistry"], "I also play the piano now."),
    (["Allergic to peanuts", "Drinks coffee every morning"], "I switched from coffee to tea."),
    (["Birthday is May 3", "Has two sisters"], "My brother Tom is visiting next week."),
    (["Drives a Toyota", "Commutes by car"], "I sold my car and bike to work now."),
    (["Favourite color is blue", "Likes hiking"], "The weather is nice today."),
    (["Learning Spanish", "Visited Mexico in 2022"], "I passed my B2 Spanish exam."),
    (["Works at Acme Corp", "Manager is Dana"], "I quit Acme and joined Globex."),
    (["Reads sci-fi novels", "Favourite author is Asimov"], "I am reading Dune right now."),
    (["Runs 5 km weekly", "Training for a half marathon"], "I finished my first marathon!"),
    (["Has a daughter, Mia", "Mia is 4 years old"], "Mia started school this autumn."),
    (["Lives with a roommate", "Rents an apartment"], "I bought a house with my partner."),
    (["Uses Linux at work", "Prefers vim"], "I switched my editor to VS Code."),
    (["Likes jazz", "Goes to concerts monthly"], "I saw Norah Jones live last night."),
    (["Is learning to cook", "Favourite dish is curry"], "I cooked ramen from scratch."),
    (["Has a peanut allergy", "Carries an EpiPen"], "My doctor says I am not allergic."),
    (["Supports FC Barcelona", "Watches every match"], "I stopped following football."),
    (["Wakes up at 6am", "Meditates daily"], "I now wake up at 7am."),
    (["Owns a bakery", "Bakes sourdough", "Opens at 8am"], "The bakery now opens at 7am."),
    (["Enjoys chess", "Rated 1500 online", "Plays on weekends"], "My rating reached 1650."),
    (["Is a teacher", "Teaches math"], "I also coach the school basketball team."),
    (["Has a fish tank", "Keeps goldfish"], "Nothing new about me today."),
]


@dataclass
class Call:
    """One timed completion: wall latency from the response, CPU time of this process."""

    response: LLMResponse
    cpu_s: float


@dataclass
class Run:
    """One mode over all prompts; ``prefill`` holds each prompt's 1-token completion."""

    label: str
    calls: list[Call]
    prefill: list[Call]

    @property
    def valid(self) -> int:
        return sum(not c.response.truncated and matches_schema(c.response.text) for c in self.calls)

    @property
    def truncated(self) -> int:
        return sum(c.response.truncated for c in self.calls)

    @property
    def tokens(self) -> int:
        return sum(c.response.completion_tokens for c in self.calls)

    @property
    def seconds(self) -> float:
        return sum(c.response.latency_s for c in self.calls)

    def decode_per_token(self, cpu: bool) -> float:
        """Seconds per generated token after the first, prompt processing subtracted."""
        spent = sum(
            (c.cpu_s - p.cpu_s) if cpu else (c.response.latency_s - p.response.latency_s)
            for c, p in zip(self.calls, self.prefill, strict=True)
        )
        return spent / max(self.tokens - len(self.calls), 1)


def messages(memories: list[str], fact: str) -> list[Message]:
    existing = json.dumps([{"id": str(i), "text": t} for i, t in enumerate(memories)])
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Existing memories: {existing}\nNew fact: {fact}"},
    ]


def matches_schema(text: str) -> bool:
    """Hand-written check of SCHEMA, so the benchmark needs no jsonschema."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return False
    if not isinstance(obj, dict) or set(obj) != {"memory"} or not isinstance(obj["memory"], list):
        return False
    items = obj["memory"]
    return len(items) <= 4 and all(
        isinstance(item, dict)
        and {"id", "text", "event"} <= set(item) <= {"id", "text", "event", "old_memory"}
        and all(isinstance(v, str) for v in item.values())
        and item["event"] in {"ADD", "UPDATE", "DELETE", "NONE"}
        for item in items
    )


def timed(
    llm: TransformersLLM, msgs: list[Message], schema: dict[str, Any] | None, max_tokens: int
) -> Call:
    cpu = time.process_time()
    response = llm.complete(msgs, json_schema=schema, max_tokens=max_tokens)
    return Call(response, time.process_time() - cpu)


def run_all(llm: TransformersLLM, args: Any) -> tuple[Run, Run]:
    """Interleave the modes prompt by prompt, so load from other processes hits both alike."""
    prefill: list[Call] = []
    plain = Run("unconstrained", [], prefill)
    constrained = Run("xgrammar, compact", [], prefill)
    for memories, fact in (CASES * (args.n // len(CASES) + 1))[: args.n]:
        msgs = messages(memories, fact)
        prefill.append(timed(llm, msgs, None, 1))
        plain.calls.append(timed(llm, msgs, None, args.max_tokens))
        constrained.calls.append(timed(llm, msgs, SCHEMA, args.max_tokens))
        print(".", end="", flush=True)
    print()
    return plain, constrained


def table(plain: Run, constrained: Run, compile_s: float, load_s: float, args: Any) -> str:
    wall = constrained.decode_per_token(False) / plain.decode_per_token(False) - 1
    cpu = constrained.decode_per_token(True) / plain.decode_per_token(True) - 1
    rows = [
        "| mode | valid JSON (schema) | truncated | tokens | tokens/s | decode tokens/s "
        "| mean latency/call | decode overhead (wall / CPU) | one-off compile |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    cells = ((plain, "—", "—"), (constrained, f"{wall:+.1%} / {cpu:+.1%}", f"{compile_s:.2f} s"))
    for r, over, comp in cells:
        rows.append(
            f"| {r.label} | {r.valid} / {len(r.calls)} | {r.truncated} | {r.tokens} "
            f"| {r.tokens / r.seconds:.1f} | {1 / r.decode_per_token(False):.1f} "
            f"| {r.seconds / len(r.calls):.2f} s | {over} | {comp} |"
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    notes = (
        f"\nSmolLM2-135M-Instruct (GGUF Q4_1 → float32 safetensors cache, load {load_s:.1f} s), "
        f"CPU, {args.threads} torch thread(s), greedy, one call at a time, "
        f"max {args.max_tokens} new tokens, {args.n} Memory Manager prompts. "
        f"{platform.machine()}, {os.cpu_count()} cores, load average {load:.1f} at the end, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Valid = finished (not truncated) and "
        "matches the manager schema. tokens/s = completion tokens / total latency (prompt "
        "processing included); decode tokens/s subtracts each prompt's 1-token latency. "
        "Decode overhead = constrained decode seconds per token over unconstrained, minus 1, "
        "in wall time and in this process's CPU time (steadier on a shared machine); the "
        "modes are interleaved prompt by prompt. "
        "Load time includes importing torch and transformers.\n"
    )
    return "\n".join(rows) + "\n" + notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="number of prompts")
    parser.add_argument("--max-tokens", type=int, default=160, help="new-token budget per call")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--cache-dir", type=Path, default=None, help="GGUF safetensors cache")
    args = parser.parse_args()

    start = time.perf_counter()
    llm = TransformersLLM(smollm2_gguf_path(), cache_dir=args.cache_dir, num_threads=args.threads)
    load_s = time.perf_counter() - start
    print(f"loaded in {load_s:.1f} s (from cache: {llm.loaded_from_cache})")
    start = time.perf_counter()
    llm.compile_schema(SCHEMA)
    compile_s = time.perf_counter() - start
    plain, constrained = run_all(llm, args)

    text = table(plain, constrained, compile_s, load_s, args)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("# Constrained decoding: xgrammar vs none\n\n" + text, encoding="utf-8")


if __name__ == "__main__":
    main()
