"""Fixtures: real memory-r1 banks under tmp_path, with scripted LLM replies."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from memory_r1 import AsyncMemory, Memory
from memory_r1.testing import ScriptedLLM

from langchain_memory_r1 import MemoryR1Store
from lc_support import Clock, bank_config

_SHM = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Keep test banks on tmpfs when there is one: the engine fsyncs, tmpfs makes that free."""
    if config.option.basetemp is None and Path("/dev/shm").is_dir():
        config.option.basetemp = tempfile.mkdtemp(prefix="lc-memory-r1-tests-", dir="/dev/shm")
        config.stash[_SHM] = config.option.basetemp


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SHM in config.stash:
        shutil.rmtree(config.stash[_SHM], ignore_errors=True)


@pytest.fixture
def llm() -> ScriptedLLM:
    """memory-r1's policies' replies; script them per test with ``llm.script(...)``."""
    return ScriptedLLM([])


@pytest.fixture
def memory(tmp_path: Path, llm: ScriptedLLM) -> Iterator[Memory]:
    m = Memory(bank_config(tmp_path / "bank"), llm=llm, clock=Clock())
    yield m
    m.close()


@pytest.fixture
def amemory(tmp_path: Path, llm: ScriptedLLM) -> Iterator[AsyncMemory]:
    m = AsyncMemory(bank_config(tmp_path / "abank"), llm=llm, clock=Clock())
    yield m
    m.close()


@pytest.fixture(params=["Memory", "AsyncMemory"])
def any_memory(
    request: pytest.FixtureRequest, tmp_path: Path, llm: ScriptedLLM
) -> Iterator[Memory | AsyncMemory]:
    """The same tests on a ``Memory`` and on an ``AsyncMemory``."""
    cls = Memory if request.param == "Memory" else AsyncMemory
    m = cls(bank_config(tmp_path / "bank"), llm=llm, clock=Clock())
    yield m
    m.close()


@pytest.fixture
def store(any_memory: Memory | AsyncMemory) -> MemoryR1Store:
    return MemoryR1Store(any_memory)
