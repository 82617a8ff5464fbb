"""Every Python block of docs/llama-index.md and of this package's README runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
DOCS = [PACKAGE / "README.md", PACKAGE.parents[1] / "docs" / "llama-index.md"]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
EXAMPLES = [
    pytest.param(code, id=f"{doc.name}:{i}")
    for doc in DOCS
    for i, code in enumerate(BLOCK.findall(doc.read_text()))
]


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("code", EXAMPLES)
def test_example_runs(code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "<doc example>", "exec"), {"__name__": "__doc_example__"})
