"""Configuration: one pydantic model, from Python, a JSON/TOML file, and ``MEMORY_R1_*`` variables.

Environment variables override the file: ``MEMORY_R1_EMBEDDER=hashing`` sets a top-level
field, ``MEMORY_R1_STORE__PATH=/data/bank`` a nested one (``__`` separates levels). Values
are parsed as JSON when they can be (``MEMORY_R1_STORE__LOCK_TIMEOUT_S=5``), else taken as
strings.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from memory_r1._core.prompts import Prompts
from memory_r1.exceptions import ConfigurationError

__all__ = ["AgentConfig", "MemoryConfig", "StoreConfig", "load_config"]

ENV_PREFIX = "MEMORY_R1_"


class StoreConfig(BaseModel):
    """Where the bank lives.

    Embedded (the default): ``path`` is the bank's folder (vectors, history log, lock); with
    no path the bank lives in a temporary folder that is deleted on ``close``.
    Server: set ``url`` (and ``api_key``) — vectors go to that Qdrant server, the history
    log to ``path`` (required, since history must outlive the process). ``location=":memory:"``
    is qdrant-client's in-process test mode (history in memory too).
    """

    model_config = ConfigDict(extra="forbid")

    path: Path | None = None
    url: str | None = None
    api_key: SecretStr | None = None
    location: str | None = None
    collection: str = "memories"
    lock_timeout_s: float = Field(default=0.0, ge=0.0)
    retrieval: Literal["hybrid", "dense", "bm25"] = Field(
        default="hybrid",
        description="ranking of searches with query text: dense and BM25 fused by "
        "reciprocal rank (the default), or one of them alone",
    )
    rrf_k: int = Field(default=2, ge=1, le=1000, description="reciprocal-rank fusion constant")

    @model_validator(mode="after")
    def _one_backend(self) -> StoreConfig:
        if self.url and self.location:
            raise ValueError("give either url (a Qdrant server) or location, not both")
        if self.url and self.path is None:
            raise ValueError("a server bank keeps its history log locally: set store.path too")
        if self.location not in (None, ":memory:"):
            raise ValueError("location takes only ':memory:' (use path for an on-disk bank)")
        return self

    @property
    def is_server(self) -> bool:
        """True for a qdrant-client bank (a server, or its ``:memory:`` test mode)."""
        return bool(self.url or self.location)


class AgentConfig(BaseModel):
    """How the two agents run (defaults follow the paper where it says)."""

    model_config = ConfigDict(extra="forbid")

    related_k: int = Field(default=5, ge=1, le=100, description="memories shown per new fact")
    answer_k: int = Field(default=30, ge=1, le=500, description="memories per speaker")
    distill: bool = Field(default=True, description="the Answer Agent lists memories first")
    max_reasks: int = Field(default=2, ge=0, le=10)
    max_facts: int = Field(default=20, ge=1, le=200)
    extract_tokens: int = Field(default=384, ge=16)
    manager_tokens: int = Field(default=768, ge=16)
    answer_tokens: int = Field(default=512, ge=16)
    extraction: Literal["llm", "turns"] = Field(
        default="llm",
        description="'llm': the model extracts facts from each turn (the paper); 'turns': each "
        "turn's text is the fact (one LLM call per turn; for models too small to extract)",
    )
    verbatim: bool = Field(
        default=False,
        description="the manager's ADD/UPDATE texts must be one of the new facts, word for "
        "word (enforced by the schema and the validator; for small models)",
    )


class MemoryConfig(BaseModel):
    """Everything ``Memory`` needs; every field has a working default."""

    model_config = ConfigDict(extra="forbid")

    store: StoreConfig = Field(default_factory=StoreConfig)
    embedder: str = Field(
        default="sentence-transformers",
        description="'sentence-transformers[:path]' (MiniLM, offline), 'litellm:<model>', "
        "or 'hashing[:dim]' (tests)",
    )
    embedder_args: dict[str, Any] = Field(default_factory=dict)
    llm: str | None = Field(
        default=None,
        description="the Memory Manager's (and extractor's) model: 'openai:<model>' (OpenAI "
        "or an OpenAI-compatible server at $OPENAI_BASE_URL), 'litellm:<model>', 'hf:<dir>', "
        "'gguf:<file>' or 'smollm2'; needed for add(infer=True) and answer()",
    )
    answer_llm: str | None = Field(
        default=None, description="the Answer Agent's model (default: llm)"
    )
    agents: AgentConfig = Field(default_factory=AgentConfig)
    prompts: Prompts = Field(default_factory=Prompts)


def load_config(
    source: MemoryConfig | Mapping[str, Any] | str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> MemoryConfig:
    """Build a ``MemoryConfig`` from a model, a dict or a .json/.toml file, then apply
    ``MEMORY_R1_*`` overrides from ``environ`` (``os.environ`` by default).

    Raises:
        ConfigurationError: unreadable file, unknown keys, or invalid values.
    """
    if isinstance(source, MemoryConfig):
        data: dict[str, Any] = source.model_dump(exclude_unset=True)
    elif isinstance(source, str | Path):
        data = _read_file(Path(source))
    else:
        data = dict(source or {})
    _apply_env(data, os.environ if environ is None else environ)
    try:
        return MemoryConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid memory-r1 configuration:\n{exc}") from exc


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            return tomllib.loads(text)
        if path.suffix == ".json":
            loaded = json.loads(text)
            if not isinstance(loaded, dict):
                raise ConfigurationError(f"{path}: the top level must be an object")
            return loaded
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read configuration {path}: {exc}") from exc
    raise ConfigurationError(f"{path}: configuration files are .json or .toml")


def _apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        keys = name[len(ENV_PREFIX) :].lower().split("__")
        if keys[0] not in MemoryConfig.model_fields:
            continue  # e.g. MEMORY_R1_CACHE or MEMORY_R1_LOCOMO: not configuration fields
        target = data
        for key in keys[:-1]:
            nested = target.get(key)
            if not isinstance(nested, dict):
                nested = {} if nested is None else dict(nested)
            target[key] = nested
            target = nested
        try:
            target[keys[-1]] = json.loads(raw)
        except ValueError:
            target[keys[-1]] = raw
