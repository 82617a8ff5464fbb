"""The side-by-side benchmark's plumbing: worker processes (one JSON command per line), the
round order that alternates the libraries, the synthetic fill sentences and their MiniLM
vectors, and the fake OpenAI-compatible server. Used by ``vs_mem0.py``."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
LIBS = ("memory-r1", "mem0")
NAMES = ("Alice", "Bob", "Priya", "Tom", "Ana", "Omar", "Mei", "Jon", "Lena", "Ravi")
VERBS = ("visited", "moved to", "started a job in", "went hiking near", "bought a flat in")
PLACES = ("Lisbon", "Paris", "Osaka", "Leeds", "Austin", "Porto", "Oslo", "Lima", "Cairo")
THINGS = ("with a cat", "with friends", "for work", "after a breakup", "to learn jazz")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sentences(n: int, salt: int) -> list[str]:
    """``n`` distinct synthetic sentences (deterministic)."""
    rng, seen = np.random.default_rng(salt), set()
    out: list[str] = []
    while len(out) < n:
        name, verb, place, thing = (rng.choice(x) for x in (NAMES, VERBS, PLACES, THINGS))
        year = int(rng.integers(1990, 2026))
        text = f"{name} {verb} {place} {thing} in {year}"
        if salt:
            text = f"When did {name} go to {place} {thing}?"
        if text not in seen:
            seen.add(text)
            out.append(text)
        elif salt and len(seen) >= len(NAMES) * len(PLACES) * len(THINGS):
            out.append(f"{text} ({len(out)})")
    return out


def vector_table(texts: list[str], workdir: Path) -> Path:
    """MiniLM vectors for ``texts``, computed once and cached under ~/.cache."""
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    cache = Path.home() / ".cache" / "memory-r1-bench" / f"minilm-{digest}.npz"
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        spec = workdir / "texts.json"
        spec.write_text(json.dumps(texts))
        log(f"embedding {len(texts):,} table texts with MiniLM (cached for later runs)")
        script = str(HERE / "vs_mem0_workers.py")
        subprocess.run([sys.executable, script, "--make-table", str(spec), str(cache)], check=True)
    return cache


class Proc:
    """A worker process: one JSON command per line, one JSON answer per line."""

    def __init__(self, lib: str, folder: Path, url: str, table: Path, retrieval: str) -> None:
        self.lib = lib
        script = str(HERE / "vs_mem0_workers.py")
        cmd = [sys.executable, script, lib, str(folder), url, str(table), retrieval]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.started = time.perf_counter()

    def wait_ready(self) -> float:
        self._read()
        return time.perf_counter() - self.started

    def _read(self) -> Any:
        assert self.p.stdout is not None
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.lib} worker died (exit {self.p.wait()})")
        return json.loads(line)

    def __call__(self, op: str, **kw: Any) -> Any:
        assert self.p.stdin is not None
        self.p.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.p.stdin.flush()
        answer = self._read()
        if "error" in answer:
            raise RuntimeError(f"{self.lib} {op}: {answer['error']}")
        return answer["ok"]

    def close(self) -> None:
        with self.p:
            if self.p.poll() is None:
                assert self.p.stdin is not None
                self.p.stdin.write(json.dumps({"op": "close"}) + "\n")
                self.p.stdin.flush()
                self.p.wait(timeout=120)


def alternate(k: int, libs: tuple[str, ...] = LIBS) -> tuple[str, ...]:
    """The libraries in round ``k``'s order: rotated, so none is always first or last."""
    shift = k % len(libs)
    return libs[shift:] + libs[:shift]


def start_server(delay: float) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, str(HERE / "fake_openai.py"), "--delay", str(delay)]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    port = int(server.stdout.readline().split()[1])
    return server, f"http://127.0.0.1:{port}"
