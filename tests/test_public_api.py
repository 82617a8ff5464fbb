"""The public surface is pinned, and importing it is light and offline."""

from __future__ import annotations

import json
import subprocess
import sys

import memory_r1

PUBLIC = {
    "AgentConfig",
    "AnswerResult",
    "ManagerOp",
    "Prompts",
    "TraceEvent",
    "AddRequest",
    "AddResult",
    "AsyncMemory",
    "BankLockedError",
    "ConfigurationError",
    "DimensionMismatchError",
    "Embedder",
    "EraseReport",
    "FilterError",
    "HashingEmbedder",
    "HistoryOp",
    "HistoryRecord",
    "InvalidInputError",
    "LLM",
    "LLMError",
    "LLMResponse",
    "Message",
    "Usage",
    "resolve_embedder",
    "resolve_llm",
    "Memory",
    "MemoryConfig",
    "MemoryEvent",
    "MemoryItem",
    "MemoryR1Error",
    "MemoryStatus",
    "MissingDependencyError",
    "NotFoundError",
    "Page",
    "PolicyOutputError",
    "Scope",
    "ScopeError",
    "ScoredMemory",
    "StorageError",
    "StoreConfig",
    "__version__",
}


def test_public_names_are_pinned() -> None:
    assert set(memory_r1.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(memory_r1, name) is not None


def test_import_pulls_in_no_heavy_library() -> None:
    code = (
        "import sys, json, memory_r1, memory_r1.testing;"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'torch','transformers','sentence_transformers','litellm','qdrant_client','openai',"
        "'httpx','xgrammar','langchain_core','llama_index'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
