"""The example runs as a script, offline, and its bank outlives the process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from memory_r1 import AsyncMemory

EXAMPLE = Path(__file__).parents[1] / "examples" / "remember_across_sessions.py"


async def test_the_example_remembers_across_sessions_and_processes(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(EXAMPLE), "--bank", str(tmp_path / "bank")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    answers = [line for line in lines if "agent: Your" in line or "agent: I don't" in line]
    assert answers == [
        "  agent: Your favourite colour is teal.",
        "  agent: Your favourite colour is green.",
        "  agent: Your favourite colour is red.",
        "  agent: I don't know that yet.",
    ]
    assert lines[-2:] == [
        '  history: ADD "alice\'s favourite colour is teal"',
        '  history: UPDATE "alice\'s favourite colour is green"',
    ]
    reopened = AsyncMemory(path=tmp_path / "bank", embedder="hashing")
    try:
        assert [m.text for m in await reopened.get_all(user_id="alice")] == [
            "alice's favourite colour is green"
        ]
    finally:
        reopened.close()
