"""What ``Memory`` and ``AsyncMemory`` share: opening, closing, and resolving backends."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self, TypeVar

from memory_r1._core.effects import Hook
from memory_r1._core.flows import MemoryCore
from memory_r1.config import MemoryConfig, load_config
from memory_r1.embeddings import Embedder, resolve_embedder
from memory_r1.exceptions import ConfigurationError
from memory_r1.llms.base import LLM
from memory_r1.store.bank import Bank, Clock, utc_now
from memory_r1.store.base import Retrieval
from memory_r1.types import AddResult

T = TypeVar("T")
CONFIRM = "reset(confirm=True) wipes every scope; pass confirm=True to do it"


class MemoryBase:
    """Opening and closing, shared by both facades."""

    def __init__(
        self,
        config: MemoryConfig | Mapping[str, Any] | str | Path | None = None,
        *,
        path: str | Path | None = None,
        embedder: Embedder | str | None = None,
        llm: LLM | str | None = None,
        answer_llm: LLM | str | None = None,
        on_event: Hook | None = None,
        clock: Clock = utc_now,
    ) -> None:
        cfg = load_config(config, environ={}) if not isinstance(config, MemoryConfig) else config
        if path is not None:
            cfg = cfg.model_copy(
                update={"store": cfg.store.model_copy(update={"path": Path(path)})}
            )
        self.config = cfg
        self.embedder = resolve_embedder(embedder or cfg.embedder, **cfg.embedder_args)
        manager = _llm(llm if llm is not None else cfg.llm)
        answerer = _llm(answer_llm if answer_llm is not None else cfg.answer_llm) or manager
        self.on_event = on_event
        self._bank = _open_bank(cfg, self.embedder.dim, clock)
        self._core = MemoryCore(
            self._bank, llm=manager, answer_llm=answerer, prompts=cfg.prompts, agents=cfg.agents
        )

    @classmethod
    def from_config(
        cls, source: MemoryConfig | Mapping[str, Any] | str | Path | None = None
    ) -> Self:
        """Build from a dict, a ``MemoryConfig`` or a .json/.toml file, with ``MEMORY_R1_*``
        environment overrides (see ``memory_r1.config``)."""
        return cls(load_config(source))

    def optimize(self) -> bool:
        """Build the embedded engine's HNSW index now (after a bulk load; blocking).

        Scoped searches are fast without it (the payload index narrows them first); it pays
        off for scopes of tens of thousands of memories. Returns False on a server bank.
        """
        optimize = getattr(self._bank.store, "optimize", None)
        return bool(optimize()) if optimize is not None else False

    def close(self) -> None:
        """Release the bank (a temporary bank's folder is deleted)."""
        self._bank.close()


def _llm(spec: LLM | str | None) -> LLM | None:
    if spec is None:
        return None
    from memory_r1.llms import resolve_llm

    return resolve_llm(spec)


def _open_bank(cfg: MemoryConfig, dim: int, clock: Clock) -> Bank:
    store = cfg.store
    retrieval = Retrieval(mode=store.retrieval, rrf_k=store.rrf_k)
    if not store.is_server:
        return Bank.open_embedded(
            store.path, dim, lock_timeout_s=store.lock_timeout_s, clock=clock, retrieval=retrieval
        )
    if store.location == ":memory:":
        history: str | Path = store.path / "history.sqlite3" if store.path else ":memory:"
        return Bank.open_server(
            dim,
            history_path=history,
            location=":memory:",
            collection=store.collection,
            clock=clock,
            retrieval=retrieval,
        )
    if store.path is None:  # the config validator already says so; keep mypy informed
        raise ConfigurationError("a server bank needs store.path for its history log")
    key = store.api_key.get_secret_value() if store.api_key else None
    return Bank.open_server(
        dim,
        history_path=store.path / "history.sqlite3",
        url=store.url,
        api_key=key,
        collection=store.collection,
        clock=clock,
        retrieval=retrieval,
    )


def single(results: list[AddResult]) -> AddResult:
    return results[0]
