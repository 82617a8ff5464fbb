"""The embedded store: the real Qdrant engine in-process (``qdrant-edge-py``), on disk.

One shard per bank folder, cosine distance, write-ahead log on, payload indexes on the
scope fields (``user_id`` as the tenant key), status and times. The engine itself refuses
a second opener of the same folder; ``Bank`` takes a lock first so that the error is clear.

BM25 is a sparse vector per memory (the engine's own BM25 model, IDF applied at search
time), so a scoped search scores only the scope's points: its cost follows the scope, not
the bank. Banks created before sparse vectors keep BM25 over a full-text payload index,
whose cost grows with the whole bank.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memory_r1._core.filters import Cond, Range, compile_filter
from memory_r1.exceptions import DimensionMismatchError, StorageError
from memory_r1.store.base import Hit, Overwrite, Retrieval, StoreOp, check_dim, group_upserts

# Each index costs an fsync at creation; the scope fields and status are what every read
# filters on. Other fields are filtered within the (small) scope without an index.
_KEYWORD_FIELDS = ("user_id", "agent_id", "run_id", "status")
_SPARSE = "bm25"  # the sparse vector's name
_BM25_AVG_LEN = 16.0  # words per memory after stop words, for BM25's length normalisation


class _EdgeVocabulary:
    """Conditions spelled the way ``qdrant_edge`` spells them."""

    def __init__(self, q: Any) -> None:
        self.q = q

    def match(self, key: str, value: str | int | bool) -> Any:
        return self.q.FieldCondition(key, match=self.q.MatchValue(value))

    def match_any(self, key: str, values: list[str] | list[int]) -> Any:
        return self.q.FieldCondition(key, match=self.q.MatchAny(values))

    def range(self, key: str, r: Range) -> Any:
        return self.q.FieldCondition(
            key, range=self.q.RangeFloat(gt=r.gt, gte=r.gte, lt=r.lt, lte=r.lte)
        )

    def substring(self, key: str, text: str) -> Any:
        return self.q.FieldCondition(key, match=self.q.MatchSubstring(text))

    def is_null(self, key: str) -> Any:
        return self.q.IsNullCondition(key)

    def is_empty(self, key: str) -> Any:
        return self.q.IsEmptyCondition(key)

    def combine(self, must: list[Any], should: list[Any], must_not: list[Any]) -> Any:
        return self.q.Filter(must=must or None, should=should or None, must_not=must_not or None)


def _text_index(q: Any) -> Any:
    """The BM25 index over memory text: words, lower-cased, ASCII-folded, English stems,
    English stop words dropped."""
    return q.TextIndexParams(
        tokenizer=q.TokenizerType.Word,
        lowercase=True,
        ascii_folding=True,
        stemmer=q.SnowballParams(q.SnowballLanguage.English),
        stopwords=q.Language.English,
        scoring=q.TextScoringParams(type=q.TextScoringType.Bm25),
    )


def _bm25_model(q: Any) -> Any:
    """The sparse BM25 encoder, analysing text as ``_text_index`` does."""
    return q.Bm25(
        q.Bm25Config(
            avg_len=_BM25_AVG_LEN,
            tokenizer=q.TokenizerType.Word,
            language="english",
            lowercase=True,
            ascii_folding=True,
        )
    )


class EdgeStore:
    """The default store: an embedded Qdrant shard in ``path``.

    Args:
        path: the shard's folder; created when missing.
        dim: the vector size; checked against an existing shard.

    Raises:
        DimensionMismatchError: the shard holds vectors of another size.
        StorageError: the engine could not open the shard.
    """

    def __init__(self, path: str | Path, dim: int, retrieval: Retrieval | None = None) -> None:
        import qdrant_edge as q  # the engine is a core dependency; import it where it is used

        self._q = q
        self._vocab = _EdgeVocabulary(q)
        self._dim = dim
        self.retrieval = retrieval or Retrieval()
        self.path = Path(path)
        self._sparse = False  # set when the shard is created or opened
        self._bm25: Any = None
        config_file = self.path / "edge_config.json"
        try:
            if config_file.exists():
                config = json.loads(config_file.read_text())
                stored = config["vectors"][""]["size"]
                if stored != dim:
                    raise DimensionMismatchError(
                        f"the bank at {self.path} holds {stored}-d vectors but the embedder "
                        f"makes {dim}-d ones; use the embedder the bank was built with"
                    )
                self._shard = q.EdgeShard.load(str(self.path))
                self._sparse = _SPARSE in (config.get("sparse_vectors") or {})
                if not self._sparse:
                    self._legacy_text_index(q)
            else:
                self._shard, self._sparse = self._create(q), True
            self._bm25 = _bm25_model(q) if self._sparse else None
        except (DimensionMismatchError, StorageError):
            raise
        except Exception as exc:  # the engine raises plain Exception
            raise StorageError(
                f"cannot open the embedded Qdrant shard at {self.path}: {exc}"
            ) from exc

    def _create(self, q: Any) -> Any:
        self.path.mkdir(parents=True, exist_ok=True)
        config = q.EdgeConfig(
            vectors=q.EdgeVectorParams(size=self._dim, distance=q.Distance.Cosine),
            sparse_vectors={_SPARSE: q.EdgeSparseVectorParams(modifier=q.Modifier.Idf)},
            wal_enabled=True,
        )
        shard = q.EdgeShard.create(str(self.path), config)
        shard.update(
            q.UpdateOperation.create_field_index("user_id", q.KeywordIndexParams(is_tenant=True))
        )
        for name in _KEYWORD_FIELDS[1:]:
            shard.update(q.UpdateOperation.create_field_index(name, q.PayloadSchemaType.Keyword))
        return shard

    def _legacy_text_index(self, q: Any) -> None:
        """A bank created before sparse vectors ranks BM25 by a full-text index (added to
        banks from before BM25)."""
        if "text" not in self._shard.info().payload_schema:
            self._shard.update(q.UpdateOperation.create_field_index("text", _text_index(q)))

    @property
    def dim(self) -> int:
        return self._dim

    def apply(self, ops: Sequence[StoreOp]) -> None:
        q = self._q
        for group in group_upserts(ops):
            if isinstance(group, list):
                points = [
                    q.Point(op.id, self._vectors(op.vector, op.payload), op.payload) for op in group
                ]
                update = q.UpdateOperation.upsert_points(points)
            elif isinstance(group, Overwrite):
                update = q.UpdateOperation.overwrite_payload([group.id], group.payload)
            else:
                update = q.UpdateOperation.delete_points(list(group.ids))
            self._call(self._shard.update, update)

    def retrieve(self, ids: Sequence[str]) -> list[Hit]:
        records = self._call(self._shard.retrieve, list(ids), True, False)
        return [Hit(str(r.id), r.payload or {}) for r in records]

    def search(
        self,
        vector: Sequence[float],
        where: Cond,
        limit: int,
        threshold: float | None = None,
        text: str | None = None,
    ) -> list[Hit]:
        check_dim(vector, self._dim)
        q, r = self._q, self.retrieval
        where_q = compile_filter(where, self._vocab)
        dense = q.Query.Nearest(list(vector))
        if text is None or not r.uses_text(text, threshold):
            request = q.QueryRequest(
                limit=limit, query=dense, filter=where_q, score_threshold=threshold,
                with_payload=True,
            )  # fmt: skip
        elif r.mode == "bm25":
            request = q.QueryRequest(
                limit=limit, query=self._bm25_query(text), filter=where_q, with_payload=True
            )
        else:
            n = max(r.candidates, limit)
            request = q.QueryRequest(
                limit=limit,
                prefetches=[
                    q.Prefetch(limit=n, query=dense, filter=where_q),
                    q.Prefetch(limit=n, query=self._bm25_query(text), filter=where_q),
                ],
                query=q.Fusion.Rrf(r.rrf_k),
                filter=where_q,
                with_payload=True,
            )
        return [
            Hit(str(p.id), p.payload or {}, p.score) for p in self._call(self._shard.query, request)
        ]

    def scroll(
        self, where: Cond, limit: int, cursor: str | None = None
    ) -> tuple[list[Hit], str | None]:
        request = self._q.ScrollRequest(
            offset=cursor, limit=limit, filter=compile_filter(where, self._vocab), with_payload=True
        )
        records, nxt = self._call(self._shard.scroll, request)
        return [Hit(str(r.id), r.payload or {}) for r in records], None if nxt is None else str(nxt)

    def count(self, where: Cond) -> int:
        request = self._q.CountRequest(exact=True, filter=compile_filter(where, self._vocab))
        return int(self._call(self._shard.count, request))

    def optimize(self) -> bool:
        """Build the HNSW index and merge segments (blocking; minutes at 100k points)."""
        return bool(self._call(self._shard.optimize))

    def close(self) -> None:
        try:
            self._shard.flush()
        finally:
            self._shard.close()

    def _vectors(self, vector: list[float], payload: dict[str, Any]) -> Any:
        check_dim(vector, self._dim)
        if self._bm25 is None:
            return vector
        return {"": vector, _SPARSE: self._bm25.embed_document(payload["text"])}

    def _bm25_query(self, text: str) -> Any:
        if self._bm25 is None:
            return self._q.TextQuery("text", text)
        return self._q.Query.Nearest(self._bm25.embed_query(text), using=_SPARSE)

    @staticmethod
    def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # the engine raises plain Exception
            raise StorageError(f"embedded Qdrant engine: {exc}") from exc
