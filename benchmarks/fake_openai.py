"""A small OpenAI-compatible chat server on 127.0.0.1 that answers with scripted JSON.

It stands in for the model in ``vs_mem0.py`` so that memory-r1 and mem0 are compared as
libraries, not as prompts: both are told that each new turn is one fact, after a fixed
delay. It recognises three prompts and answers each the way a cooperative model would:

- memory-r1's fact extraction (``{"facts": [...]}``): the text of every turn shown;
- memory-r1's Memory Manager (``{"memory": [...]}``): NONE for a fact already stored
  verbatim (under its short id), ADD otherwise;
- mem0's additive extraction (``## New Messages``): one ADD-only memory per message.

Anything else gets ``{}``. Usage counts come from tiktoken's ``cl100k_base`` when litellm's
bundled copy of it is there (no download), else from a words-and-punctuation count; which
one is said by ``GET /stats``. The server serves at most ``--max-requests`` requests and
stops by itself after ``--max-seconds``.

    python benchmarks/fake_openai.py --delay 0.05   # prints "READY <port>", then serves
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FACTS_MARK, CONVERSATION = '{"facts"', "Conversation:\n"
STORED, NEW_FACTS = "Stored memories:\n", "New facts:\n"
MEM0_NEW = "## New Messages\n"


def _tiktoken_counter() -> tuple[Callable[[str], int], str] | None:
    try:
        import litellm.litellm_core_utils.tokenizers as bundled
        import tiktoken

        os.environ.setdefault("TIKTOKEN_CACHE_DIR", os.path.dirname(bundled.__file__))
        enc = tiktoken.get_encoding("cl100k_base")
    except Exception:  # no litellm/tiktoken, or no bundled file: fall back
        return None
    return (lambda text: len(enc.encode(text, disallowed_special=()))), "tiktoken cl100k_base"


_WORDS = re.compile(r"\w+|[^\w\s]")


def word_count(text: str) -> int:
    """Words and punctuation marks: a rough token count when tiktoken is unavailable."""
    return len(_WORDS.findall(text))


def _json_block(block: str) -> list[Any]:
    value = json.loads(block)  # memory-r1 shows both lists as JSON arrays
    return value if isinstance(value, list) else []


def _memory_r1_manager(prompt: str) -> dict[str, Any]:
    stored_block = prompt.split(STORED, 1)[1].split("\n\nNew facts", 1)[0]
    facts_block = prompt.split(NEW_FACTS, 1)[1].split("\n\n", 1)[0]
    stored = {m["text"]: m["id"] for m in _json_block(stored_block) if isinstance(m, dict)}
    ops, fresh = [], len(stored)
    for fact in _json_block(facts_block):
        if fact in stored:
            ops.append({"id": stored[fact], "text": fact, "event": "NONE"})
        else:
            ops.append({"id": str(fresh), "text": fact, "event": "ADD"})
            fresh += 1
    return {"memory": ops}


def _mem0_extraction(prompt: str) -> dict[str, Any]:
    block = prompt.split(MEM0_NEW, 1)[1].split("\n\n## ", 1)[0]
    texts = [line.split(": ", 1)[-1] for line in block.splitlines() if line.strip()]
    return {
        "memory": [
            {"id": str(i), "text": t[:500], "attributed_to": "user"} for i, t in enumerate(texts)
        ]
    }


def script_reply(messages: list[dict[str, Any]]) -> str:
    """The scripted answer to a chat request (see the module docstring).

    >>> script_reply([{"role": "user", "content": "## New Messages\\nuser: I like tea\\n"}])
    '{"memory": [{"id": "0", "text": "I like tea", "attributed_to": "user"}]}'
    """
    system = str(messages[0].get("content", "")) if messages else ""
    prompt = str(messages[-1].get("content", "")) if messages else ""
    if FACTS_MARK in system and CONVERSATION in prompt:
        block = prompt.split(CONVERSATION, 1)[1].split("\n\n", 1)[0]
        facts = [line.split(": ", 1)[-1][:500] for line in block.splitlines() if line.strip()]
        return json.dumps({"facts": facts})
    if STORED in prompt and NEW_FACTS in prompt:
        return json.dumps(_memory_r1_manager(prompt))
    if MEM0_NEW in prompt:
        return json.dumps(_mem0_extraction(prompt))
    return "{}"


class Stats:
    """What the server has done: calls, seconds spent answering, tokens."""

    def __init__(self, counter_name: str) -> None:
        self.lock = threading.Lock()
        self.counter = counter_name
        self.calls = self.prompt_tokens = self.completion_tokens = 0
        self.busy_s = 0.0

    def record(self, busy_s: float, prompt_tokens: int, completion_tokens: int) -> None:
        with self.lock:
            self.calls += 1
            self.busy_s += busy_s
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "calls": self.calls,
                "busy_s": self.busy_s,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "counter": self.counter,
            }


def make_handler(
    delay_s: float, stats: Stats, count: Callable[[str], int], budget: list[int]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
        disable_nagle_algorithm = True  # else small writes can stall 40 ms on delayed ACKs

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _send(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/stats"):
                self._send(200, stats.as_dict())
            else:
                self._send(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})

        def do_POST(self) -> None:
            start = time.perf_counter()
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            if not self.path.rstrip("/").endswith("/chat/completions") or budget[0] <= 0:
                self._send(404, {"error": {"message": f"unknown route {self.path} or no budget"}})
                return
            budget[0] -= 1
            messages = body.get("messages", [])
            try:
                text = script_reply(messages)
            except (ValueError, LookupError) as exc:  # a prompt it does not understand
                self._send(500, {"error": {"message": f"fake server: {exc!r}"}})
                return
            prompt_tokens = sum(count(str(m.get("content", ""))) for m in messages)
            completion_tokens = count(text)
            time.sleep(delay_s)
            self._send(
                200, _completion(body.get("model", "fake"), text, prompt_tokens, count(text))
            )
            stats.record(time.perf_counter() - start, prompt_tokens, completion_tokens)

    return Handler


def _completion(
    model: str, text: str, prompt_tokens: int, completion_tokens: int
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def serve(port: int, delay_s: float, max_requests: int, max_seconds: float) -> None:
    """Serve until ``max_seconds`` have passed (prints ``READY <port>`` once listening)."""
    counter = _tiktoken_counter() or (word_count, "words and punctuation")
    stats = Stats(counter[1])
    server = ThreadingHTTPServer(
        ("127.0.0.1", port), make_handler(delay_s, stats, counter[0], [max_requests])
    )
    server.daemon_threads = True
    timer = threading.Timer(max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()
    server.server_close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--delay", type=float, default=0.05, help="seconds per completion")
    p.add_argument("--max-requests", type=int, default=200_000)
    p.add_argument("--max-seconds", type=float, default=3600.0)
    a = p.parse_args()
    serve(a.port, a.delay, a.max_requests, a.max_seconds)
    sys.exit(0)


if __name__ == "__main__":
    main()
