"""The memory-r1 command on a bank folder, and the demo's agent part on a scripted policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memory_r1 import Memory
from memory_r1.cli import _agents_demo, main
from memory_r1.llms.base import Message
from memory_r1.testing import CallInfo, FunctionLLM


def test_add_search_history_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bank = ["--path", str(tmp_path / "b"), "--embedder", "hashing"]
    assert main(["add", *bank, "--user-id", "u", "Alice lives in Lisbon"]) == 0
    assert main(["search", *bank, "--user-id", "u", "Lisbon"]) == 0
    out = capsys.readouterr().out
    assert "Alice lives in Lisbon" in out and "score" in out
    assert main(["export", *bank, "--user-id", "u"]) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[0])
    assert record["memory"]["text"] == "Alice lives in Lisbon"
    assert main(["history", *bank, record["memory"]["id"]]) == 0
    assert "ADD" in capsys.readouterr().out


def test_errors_are_reported_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bank = ["--path", str(tmp_path / "b"), "--embedder", "hashing"]
    assert main(["search", *bank, "Lisbon"]) == 2
    assert "user_id" in capsys.readouterr().err


def policy(messages: list[Message], info: CallInfo) -> str:
    prompt = messages[-1]["content"]
    if "Conversation:" in prompt:
        said = prompt.split("Conversation:\n", 1)[1].split("\n", 1)[0]
        return json.dumps({"facts": [said.replace(": ", " said: ", 1)]})
    if "New facts:" in prompt:
        fact = json.loads(prompt.split("New facts:\n", 1)[1].split("\n\n", 1)[0])[0]
        if "Seattle" in fact and '"id": "0"' in prompt:
            return json.dumps({"memory": [{"id": "0", "text": fact, "event": "UPDATE"}]})
        return json.dumps({"memory": [{"id": "new", "text": fact, "event": "ADD"}]})
    return "- Caroline said: Big news: I left Boston, I live in Seattle now.\n**Answer:** Seattle"


def test_the_demo_walks_through_both_agents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Memory(path=tmp_path / "b", embedder="hashing", llm=FunctionLLM(policy)) as mem:
        _agents_demo(mem)
    out = capsys.readouterr().out
    assert "UPDATE" in out and "History of the memory that changed" in out
    assert "A: Seattle" in out
