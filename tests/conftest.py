"""Shared fixtures: banks on both store implementations, a controllable clock."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from memory_r1 import AsyncMemory, Memory

_SHM = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Keep test banks on tmpfs when there is one: the engine fsyncs, tmpfs makes that free."""
    if config.option.basetemp is None and Path("/dev/shm").is_dir():
        config.option.basetemp = tempfile.mkdtemp(prefix="memory-r1-tests-", dir="/dev/shm")
        config.stash[_SHM] = config.option.basetemp


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SHM in config.stash:
        shutil.rmtree(config.stash[_SHM], ignore_errors=True)


BACKENDS = ["embedded", "qdrant-memory"] + (
    ["qdrant-server"] if os.environ.get("QDRANT_URL") else []
)


class Clock:
    """A clock that moves one second per reading, so every change gets its own time."""

    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def memory_config(backend: str, path: Path) -> dict[str, object]:
    """The config of a bank of this backend in ``path``."""
    if backend == "embedded":
        store: dict[str, object] = {"path": str(path)}
    elif backend == "qdrant-memory":
        store = {"location": ":memory:"}
    else:
        store = {
            "url": os.environ["QDRANT_URL"],
            "path": str(path),
            "collection": f"test_{path.name}"[:60],
        }
    return {"store": store, "embedder": "hashing:64"}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def mem(backend: str, tmp_path: Path) -> Iterator[Memory]:
    m = Memory(memory_config(backend, tmp_path / "bank"), clock=Clock())
    yield m
    m.close()


@pytest.fixture
def amem(backend: str, tmp_path: Path) -> Iterator[AsyncMemory]:
    m = AsyncMemory(memory_config(backend, tmp_path / "abank"), clock=Clock())
    yield m
    m.close()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Memory]:
    m = Memory(path=tmp_path / "bank", embedder="hashing:64", clock=Clock())
    yield m
    m.close()
