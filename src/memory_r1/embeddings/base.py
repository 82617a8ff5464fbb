"""The embedder protocol: texts in, one float32 row per text out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors of a fixed size ``dim`` (L2-normalised, compared by cosine).

    An embedder may also define ``async def aembed(texts)``; ``AsyncMemory`` uses it when
    present and runs ``embed`` in a worker thread otherwise.
    """

    @property
    def dim(self) -> int:
        """Vector size."""
        ...

    @property
    def name(self) -> str:
        """A readable identifier, stored in the bank to catch a changed embedder."""
        ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """An array of shape ``(len(texts), dim)``, dtype float32."""
        ...


def normalise(vectors: npt.ArrayLike) -> Vectors:
    """float32 rows scaled to unit length (zero rows stay zero)."""
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim != 2:
        arr = arr.reshape(1, -1) if arr.ndim == 1 else arr
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    out: Vectors = np.divide(arr, norms, out=np.zeros_like(arr), where=norms > 0)
    return out
