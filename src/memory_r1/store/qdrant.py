"""The server store: a Qdrant server or Qdrant Cloud through ``qdrant-client``.

One collection for every tenant, with a tenant payload index on ``user_id`` (Qdrant's
recommended multitenancy layout). ``location=":memory:"`` runs qdrant-client's in-process
mode, which is a brute-force Python loop: right for tests of this code path, never for
real banks (use the embedded ``EdgeStore``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from memory_r1._core.filters import Cond, Range, compile_filter
from memory_r1.exceptions import DimensionMismatchError, StorageError
from memory_r1.store.base import Hit, Overwrite, Retrieval, StoreOp, check_dim, group_upserts

_KEYWORD_FIELDS = ("agent_id", "run_id", "status", "actor")
_FLOAT_FIELDS = ("created_ts", "updated_ts", "event_ts")


class _ClientVocabulary:
    """Conditions spelled the way ``qdrant_client.models`` spells them."""

    def __init__(self, m: Any) -> None:
        self.m = m

    def match(self, key: str, value: str | int | bool) -> Any:
        return self.m.FieldCondition(key=key, match=self.m.MatchValue(value=value))

    def match_any(self, key: str, values: list[str] | list[int]) -> Any:
        return self.m.FieldCondition(key=key, match=self.m.MatchAny(any=values))

    def range(self, key: str, r: Range) -> Any:
        return self.m.FieldCondition(
            key=key, range=self.m.Range(gt=r.gt, gte=r.gte, lt=r.lt, lte=r.lte)
        )

    def substring(self, key: str, text: str) -> Any:
        return self.m.FieldCondition(key=key, match=self.m.MatchSubstring(substring=text))

    def is_null(self, key: str) -> Any:
        return self.m.IsNullCondition(is_null=self.m.PayloadField(key=key))

    def is_empty(self, key: str) -> Any:
        return self.m.IsEmptyCondition(is_empty=self.m.PayloadField(key=key))

    def combine(self, must: list[Any], should: list[Any], must_not: list[Any]) -> Any:
        return self.m.Filter(must=must or None, should=should or None, must_not=must_not or None)


def _text_index(m: Any, local: bool) -> Any:
    """The BM25 index over memory text: the embedded engine's settings on a server;
    qdrant-client's local mode supports only the default tokenization."""
    if local:
        return m.TextIndexParams(
            type=m.TextIndexType.TEXT, scoring=m.TextScoringParams(type=m.TextScoringType.BM25)
        )
    return m.TextIndexParams(
        type=m.TextIndexType.TEXT,
        tokenizer=m.TokenizerType.WORD,
        lowercase=True,
        ascii_folding=True,
        stemmer=m.SnowballParams(type=m.Snowball.SNOWBALL, language=m.SnowballLanguage.ENGLISH),
        stopwords=m.Language.ENGLISH,
        scoring=m.TextScoringParams(type=m.TextScoringType.BM25),
    )


class QdrantStore:
    """A collection on a Qdrant server (or qdrant-client's ``":memory:"`` mode).

    Args:
        dim: the vector size; checked against an existing collection.
        url: the server, e.g. ``"http://localhost:6333"`` or a Qdrant Cloud URL.
        api_key: the server's API key, if any.
        location: ``":memory:"`` for qdrant-client's in-process test mode.
        collection: the collection's name.
        client: an existing ``QdrantClient`` to use instead of the three above.
        retrieval: how searches with query text are ranked (hybrid by default).

    Raises:
        DimensionMismatchError: the collection holds vectors of another size.
        StorageError: the server is unreachable or refused the request.
    """

    def __init__(
        self,
        dim: int,
        *,
        url: str | None = None,
        api_key: str | None = None,
        location: str | None = None,
        collection: str = "memories",
        client: Any = None,
        retrieval: Retrieval | None = None,
    ) -> None:
        from qdrant_client import QdrantClient, models

        self._m = models
        self.retrieval = retrieval or Retrieval()
        self._vocab = _ClientVocabulary(models)
        self._dim = dim
        self.collection = collection
        self._client = client or QdrantClient(url=url, api_key=api_key, location=location)
        # qdrant-client's in-process mode (``:memory:`` or a path) is a Python engine.
        self._local = type(getattr(self._client, "_client", None)).__name__ == "QdrantLocal"
        self._call(self._ensure_collection)

    def _ensure_collection(self) -> None:
        m = self._m
        if self._client.collection_exists(self.collection):
            info: Any = self._client.get_collection(self.collection)
            size = info.config.params.vectors.size
            if size != self._dim:
                raise DimensionMismatchError(
                    f"collection {self.collection!r} holds {size}-d vectors but the embedder "
                    f"makes {self._dim}-d ones; use the embedder the bank was built with"
                )
            if "text" not in (info.payload_schema or {}):  # a collection from before BM25
                self._client.create_payload_index(
                    self.collection, "text", _text_index(m, self._local)
                )
            return
        self._client.create_collection(
            self.collection,
            vectors_config=m.VectorParams(size=self._dim, distance=m.Distance.COSINE),
        )
        with warnings.catch_warnings():  # local mode warns that payload indexes are no-ops
            warnings.simplefilter("ignore")
            tenant = m.KeywordIndexParams(type=m.KeywordIndexType.KEYWORD, is_tenant=True)
            self._client.create_payload_index(self.collection, "user_id", tenant)
            for name in _KEYWORD_FIELDS:
                self._client.create_payload_index(
                    self.collection, name, m.PayloadSchemaType.KEYWORD
                )
            for name in _FLOAT_FIELDS:
                self._client.create_payload_index(self.collection, name, m.PayloadSchemaType.FLOAT)
            self._client.create_payload_index(self.collection, "text", _text_index(m, self._local))

    @property
    def dim(self) -> int:
        return self._dim

    def apply(self, ops: Sequence[StoreOp]) -> None:
        m, name = self._m, self.collection
        for group in group_upserts(ops):
            if isinstance(group, list):
                for op in group:
                    check_dim(op.vector, self._dim)
                points = [
                    m.PointStruct(id=op.id, vector=op.vector, payload=op.payload) for op in group
                ]
                self._call(self._client.upsert, name, points, wait=True)
            elif isinstance(group, Overwrite):
                self._call(
                    self._client.overwrite_payload, name, group.payload, [group.id], wait=True
                )
            else:
                selector = m.PointIdsList(points=list(group.ids))
                self._call(self._client.delete, name, selector, wait=True)

    def retrieve(self, ids: Sequence[str]) -> list[Hit]:
        records = self._call(self._client.retrieve, self.collection, list(ids), with_payload=True)
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
        m, r = self._m, self.retrieval
        where_q = compile_filter(where, self._vocab)
        kwargs: dict[str, Any] = {"query": list(vector), "score_threshold": threshold}
        if r.uses_text(text, threshold):
            bm25 = m.TextQuery(text=m.TextQueryInput(query=text or ""))
            if r.mode == "bm25":
                kwargs = {"query": bm25, "using": "text"}
            else:
                n = max(r.candidates, limit)
                kwargs = {
                    "prefetch": [
                        m.Prefetch(query=list(vector), filter=where_q, limit=n),
                        m.Prefetch(query=bm25, using="text", filter=where_q, limit=n),
                    ],
                    "query": m.RrfQuery(rrf=m.Rrf(k=r.rrf_k)),
                }
        response = self._call(
            self._client.query_points,
            self.collection,
            query_filter=where_q,
            limit=limit,
            with_payload=True,
            **kwargs,
        )
        return [Hit(str(p.id), p.payload or {}, p.score) for p in response.points]

    def scroll(
        self, where: Cond, limit: int, cursor: str | None = None
    ) -> tuple[list[Hit], str | None]:
        records, nxt = self._call(
            self._client.scroll,
            self.collection,
            scroll_filter=compile_filter(where, self._vocab),
            limit=limit,
            offset=cursor,
            with_payload=True,
        )
        return [Hit(str(r.id), r.payload or {}) for r in records], None if nxt is None else str(nxt)

    def count(self, where: Cond) -> int:
        result = self._call(
            self._client.count, self.collection, count_filter=compile_filter(where, self._vocab)
        )
        return int(result.count)

    def close(self) -> None:
        self._client.close()

    @staticmethod
    def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DimensionMismatchError:
            raise
        except Exception as exc:  # qdrant-client raises several unrelated types
            raise StorageError(f"Qdrant: {exc}") from exc
