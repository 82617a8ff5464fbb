"""Embeddings from any API provider through litellm (OpenAI, Cohere, Ollama, ...)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from memory_r1._lazy import require
from memory_r1.embeddings.base import Vectors, normalise
from memory_r1.exceptions import LLMError


def _litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network at import
    return require("litellm", "litellm")


class LiteLLMEmbedder:
    """An embedding model behind litellm, e.g. ``"openai/text-embedding-3-small"``.

    Args:
        model: litellm's model name.
        dim: the vector size the model returns (needed before the first call).
        extra: further keyword arguments for ``litellm.embedding`` (``api_base``, ...).
    """

    def __init__(self, model: str, *, dim: int, **extra: Any) -> None:
        self.model, self._dim, self.extra = model, dim, extra

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def name(self) -> str:
        return f"litellm:{self.model}"

    def embed(self, texts: Sequence[str]) -> Vectors:
        try:
            response = _litellm().embedding(model=self.model, input=list(texts), **self.extra)
        except Exception as exc:
            raise LLMError(f"embedding with {self.model} failed: {exc}") from exc
        return normalise([row["embedding"] for row in response.data])

    async def aembed(self, texts: Sequence[str]) -> Vectors:
        """Native async embedding."""
        try:
            response = await _litellm().aembedding(
                model=self.model, input=list(texts), **self.extra
            )
        except Exception as exc:
            raise LLMError(f"embedding with {self.model} failed: {exc}") from exc
        return normalise([row["embedding"] for row in response.data])
