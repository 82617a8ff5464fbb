"""Configuration from dicts, files and MEMORY_R1_* variables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memory_r1 import ConfigurationError, Memory, MemoryConfig
from memory_r1.config import load_config


def test_defaults_work_without_any_setting() -> None:
    cfg = load_config(None, environ={})
    assert cfg.embedder == "sentence-transformers" and cfg.store.path is None
    assert not cfg.store.is_server


def test_files_and_environment_overrides(tmp_path: Path) -> None:
    toml = tmp_path / "m.toml"
    toml.write_text('embedder = "hashing:32"\n[store]\ncollection = "c1"\n')
    env = {
        "MEMORY_R1_STORE__PATH": str(tmp_path / "bank"),
        "MEMORY_R1_STORE__LOCK_TIMEOUT_S": "2.5",
        "MEMORY_R1_LOCOMO": "/elsewhere",
        "OTHER": "x",
    }
    cfg = load_config(toml, environ=env)
    assert cfg.embedder == "hashing:32" and cfg.store.collection == "c1"
    assert cfg.store.path == tmp_path / "bank" and cfg.store.lock_timeout_s == 2.5
    js = tmp_path / "m.json"
    js.write_text(json.dumps({"embedder": "hashing:16"}))
    assert load_config(js, environ={"MEMORY_R1_EMBEDDER": "hashing:8"}).embedder == "hashing:8"


@pytest.mark.parametrize(
    "data",
    [
        {"store": {"url": "http://localhost:6333"}},  # server history needs a path
        {"store": {"url": "http://x", "location": ":memory:"}},
        {"store": {"location": "/some/dir"}},
        {"store": {"lock_timeout_s": -1}},
        {"unknown": 1},
    ],
)
def test_invalid_configuration_is_a_clear_error(data: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        load_config(data, environ={})


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        load_config(tmp_path / "missing.toml", environ={})
    (tmp_path / "c.yaml").write_text("a: 1")
    with pytest.raises(ConfigurationError):
        load_config(tmp_path / "c.yaml", environ={})


def test_from_config_builds_a_working_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMORY_R1_STORE__PATH", str(tmp_path / "bank"))
    with Memory.from_config({"embedder": "hashing:32"}) as m:
        m.add("configured", user_id="u", infer=False)
        assert isinstance(m.config, MemoryConfig)
    assert (tmp_path / "bank" / "history.sqlite3").exists()


def test_unknown_embedder_spec_names_the_valid_ones() -> None:
    with pytest.raises(ConfigurationError, match="hashing"):
        Memory(embedder="word2vec")
