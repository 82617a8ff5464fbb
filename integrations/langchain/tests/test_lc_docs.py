"""The docs' Python blocks, the package's doctests and the example all run as written."""

from __future__ import annotations

import doctest
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
REPO = PACKAGE.parents[1]
DOCS = [REPO / "docs" / "langchain.md", PACKAGE / "README.md"]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
EXAMPLES = [
    pytest.param(code, id=f"{doc.name}:{i}")
    for doc in DOCS
    if doc.exists()
    for i, code in enumerate(BLOCK.findall(doc.read_text()))
]
MODULES = ["auto", "embeddings", "retriever", "store", "tools", "_context"]


@pytest.mark.parametrize("code", EXAMPLES)
def test_doc_example_runs(code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "<doc example>", "exec"), {"__name__": "__doc_example__"})


def test_both_docs_have_examples() -> None:
    assert all(doc.exists() for doc in DOCS) and len(EXAMPLES) >= 7


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(f"langchain_memory_r1.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_the_example_tells_the_story_offline() -> None:
    script = PACKAGE / "examples" / "remember_across_threads.py"
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert "manage_memory → Added: Alice lives in Boston" in out
    assert "Updated: Alice lives in Boston -> Alice lives in Seattle" in out
    assert "- Alice lives in Seattle (moved from Boston)" in out
    assert "thread 5 (bob): Where do I live?\n  search_memory → No relevant memories.\n" in out
    assert out.rstrip().endswith("v2 UPDATE: Alice lives in Seattle (moved from Boston)")
