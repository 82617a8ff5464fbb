"""Embedders behind one protocol, and the resolver that builds one from a string."""

from __future__ import annotations

from typing import Any

from memory_r1.embeddings.base import Embedder, Vectors, normalise
from memory_r1.embeddings.hashing import HashingEmbedder
from memory_r1.exceptions import ConfigurationError

__all__ = ["Embedder", "HashingEmbedder", "Vectors", "normalise", "resolve_embedder"]


def resolve_embedder(spec: str | Embedder, **kwargs: Any) -> Embedder:
    """Build an embedder from ``spec``.

    Specs: ``"hashing"`` or ``"hashing:256"`` (tests); ``"sentence-transformers"``
    (all-MiniLM-L6-v2, offline) or ``"sentence-transformers:/path/to/model"``;
    ``"litellm:openai/text-embedding-3-small"`` (pass ``dim=``). An ``Embedder`` instance is
    returned as it is.

    Raises:
        ConfigurationError: unknown prefix or missing argument.
        MissingDependencyError: the backend's extra is not installed.
    """
    if not isinstance(spec, str):
        if isinstance(spec, Embedder):
            return spec
        raise ConfigurationError(f"not an embedder: {spec!r}")
    kind, _, arg = spec.partition(":")
    if kind == "hashing":
        return HashingEmbedder(int(arg) if arg else kwargs.pop("dim", 256))
    if kind in ("sentence-transformers", "st"):
        from memory_r1.embeddings.sentence_transformers import (
            DEFAULT_MODEL,
            SentenceTransformerEmbedder,
        )

        return SentenceTransformerEmbedder(arg or DEFAULT_MODEL, **kwargs)
    if kind == "litellm":
        from memory_r1.embeddings.litellm import LiteLLMEmbedder

        if "dim" not in kwargs:
            raise ConfigurationError("litellm embedders need dim=<vector size>")
        return LiteLLMEmbedder(arg, **kwargs)
    raise ConfigurationError(
        f"unknown embedder {spec!r}; use 'hashing', 'sentence-transformers[:path]' "
        "or 'litellm:<model>'"
    )
