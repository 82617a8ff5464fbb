"""Embedders: the hashing fake, the resolver, and the real offline MiniLM."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from memory_r1 import ConfigurationError, HashingEmbedder, MissingDependencyError
from memory_r1.embeddings import Embedder, resolve_embedder


@given(st.lists(st.text(min_size=1, max_size=40), min_size=2, max_size=8, unique=True))
def test_distinct_texts_get_distinct_unit_vectors(texts: list[str]) -> None:
    vectors = HashingEmbedder(dim=64).embed(texts)
    assert vectors.shape == (len(texts), 64) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert len({v.tobytes() for v in vectors}) == len(texts)


def test_hashing_is_deterministic_and_related_texts_are_closer() -> None:
    e = HashingEmbedder(dim=128)
    a, b, c = e.embed(["I love green tea", "I love green tea a lot", "quarterly tax filing"])
    assert np.array_equal(e.embed(["I love green tea"])[0], a)
    assert float(a @ b) > float(a @ c)


def test_resolver() -> None:
    assert resolve_embedder("hashing:32").dim == 32
    e = HashingEmbedder(16)
    assert resolve_embedder(e) is e
    assert isinstance(e, Embedder)
    with pytest.raises(ConfigurationError):
        resolve_embedder("litellm:openai/text-embedding-3-small")  # no dim
    with pytest.raises(ConfigurationError):
        resolve_embedder("nope:x")


def test_litellm_embedder_needs_its_extra_or_works_offline_with_a_mock() -> None:
    pytest.importorskip("litellm")
    e = resolve_embedder(
        "litellm:openai/text-embedding-3-small", dim=3, mock_response=[0.1, 0.2, 0.3]
    )
    assert e.embed(["a"]).shape == (1, 3)


@pytest.mark.slow
def test_minilm_ships_offline_and_understands_paraphrase() -> None:
    try:
        e = resolve_embedder("sentence-transformers")
        v = e.embed(["Where does Alice live?", "Alice moved to Lisbon.", "The stock market fell."])
    except MissingDependencyError:
        pytest.skip("the [hf] extra is not installed")
    assert e.dim == 384 and v.shape == (3, 384)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.1
