"""The public names are pinned; importing the package loads no model and no heavy library."""

from __future__ import annotations

import subprocess
import sys

import langchain_memory_r1

PUBLIC = [
    "AutoMemory",
    "LangChainEmbedder",
    "MemoryR1Embeddings",
    "MemoryR1Retriever",
    "MemoryR1Store",
    "__version__",
    "create_manage_memory_tool",
    "create_search_memory_tool",
]


def test_public_names_are_pinned() -> None:
    assert sorted(langchain_memory_r1.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(langchain_memory_r1, name) is not None
    assert langchain_memory_r1.__version__ == "0.1.0"


def test_public_classes_and_functions_are_documented() -> None:
    for name in PUBLIC[:-3] + PUBLIC[-2:]:
        obj = getattr(langchain_memory_r1, name)
        assert obj.__doc__ and len(obj.__doc__) > 80, name


def test_import_loads_no_model_library() -> None:
    code = (
        "import sys, langchain_memory_r1\n"
        "heavy = {'torch', 'transformers', 'sentence_transformers', 'litellm', 'langmem'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
