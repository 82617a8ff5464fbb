"""A deterministic embedder for tests: no model, no network, distinct texts → distinct vectors."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from memory_r1.embeddings.base import Vectors, normalise

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """Signed feature hashing of words and character trigrams, plus the whole text.

    Texts that share words land close together, so similarity search behaves sensibly in
    tests; the whole-text features make distinct texts map to distinct vectors.

    Args:
        dim: vector size.

    Example:
        >>> e = HashingEmbedder(dim=64)
        >>> e.embed(["I like tea", "I like tea"]).shape
        (2, 64)
    """

    def __init__(self, dim: int = 256) -> None:
        if dim < 8:
            raise ValueError("dim must be at least 8")
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def name(self) -> str:
        return f"hashing:{self._dim}"

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature, weight in _features(text):
                digest = hashlib.blake2b(
                    feature.encode("utf-8", "surrogatepass"), digest_size=8
                ).digest()
                value = int.from_bytes(digest, "little")
                out[row, value % self._dim] += weight if (value >> 63) & 1 else -weight
        return normalise(out)


def _features(text: str) -> list[tuple[str, float]]:
    words = [w.lower() for w in _WORD.findall(text)]
    feats = [(f"w:{w}", 1.0) for w in words]
    joined = " ".join(words)
    feats += [(f"c:{joined[i : i + 3]}", 0.3) for i in range(max(len(joined) - 2, 0))]
    feats += [(f"t{k}:{text}", 0.25) for k in range(4)]
    return feats
