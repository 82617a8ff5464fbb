"""Fixtures: a real memory-r1 bank (embedded Qdrant, hashing embedder) under tmp_path, with the
rule-based policy of ``li_fakes`` as its LLM; and no network for any test."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from memory_r1 import AsyncMemory
from memory_r1.testing import FunctionLLM

from li_fakes import policy

_SHM = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Keep test banks on tmpfs when there is one: the engine fsyncs, tmpfs makes that free."""
    if config.option.basetemp is None and Path("/dev/shm").is_dir():
        config.option.basetemp = tempfile.mkdtemp(prefix="memory-r1-li-tests-", dir="/dev/shm")
        config.stash[_SHM] = config.option.basetemp


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SHM in config.stash:
        shutil.rmtree(config.stash[_SHM], ignore_errors=True)


@pytest.fixture(autouse=True)
def no_network() -> Iterator[None]:
    """Every test runs with internet sockets disabled (pytest-socket, when installed)."""
    try:
        import pytest_socket
    except ImportError:  # the guard is optional; the tests themselves never need it
        yield
        return
    pytest_socket.disable_socket(allow_unix_socket=True)  # asyncio's self-pipe is a unix socket
    yield
    pytest_socket.enable_socket()


@pytest.fixture
def llm() -> FunctionLLM:
    """memory-r1's model: rule-based extraction, management and answers."""
    return policy()


@pytest.fixture
def bank(tmp_path: Path, llm: FunctionLLM) -> Iterator[AsyncMemory]:
    """A real embedded bank under tmp_path (AsyncMemory serves sync and async tests alike)."""
    memory = AsyncMemory(path=tmp_path / "bank", embedder="hashing:64", llm=llm)
    yield memory
    memory.close()
