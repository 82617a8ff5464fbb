"""``MemoryR1Store``: a LangGraph ``BaseStore`` on a memory-r1 bank."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
)
from memory_r1 import (
    AsyncMemory,
    InvalidInputError,
    Memory,
    MemoryItem,
    MemoryStatus,
    NotFoundError,
    Page,
    Scope,
    ScoredMemory,
)

from langchain_memory_r1 import _bridge
from langchain_memory_r1._bridge import Call, Flow
from langchain_memory_r1._mapping import (
    KEY_FIELD,
    ScopeField,
    StoreMapping,
    check_namespace,
    matches,
)

__all__ = ["MemoryR1Store"]

_PAGE = 500
_MAX_WINDOW = 10_000  # memory-r1's largest search limit


class MemoryR1Store(BaseStore):
    """A LangGraph store whose items are memory-r1 memories.

    Use it wherever ``InMemoryStore`` works: ``graph.compile(store=...)``,
    ``create_react_agent(..., store=...)``, tools that reach the store through
    ``get_store()`` or ``ToolRuntime.store``. Reads and writes go to the memory-r1 bank, so
    memories written by the Memory Manager (the ``manage_memory`` tool, ``AutoMemory``, or
    ``Memory.add(..., infer=True)``) show up as items, and items put here are memories the
    Manager and the Answer Agent see.

    Mapping (details in ``docs/langchain.md``):

    - namespace ``("memories", "alice")`` ↔ scope ``user_id="memories.alice"`` (labels joined
      by ``"."``; ``scope_field`` picks the scope field);
    - key ↔ the caller's key, kept in the memory's ``lg_key`` metadata field; memories
      written elsewhere have their id as key;
    - value ``{"content": text, **rest}`` ↔ memory text + metadata ``rest``; other values are
      kept whole in metadata with a derived search text;
    - ``search(query=...)`` is memory-r1's cosine search (scores in ``SearchItem.score``);
      ``filter`` uses ``$eq $ne $gt $gte $lt $lte`` on value fields;
    - ``delete`` is memory-r1's non-destructive delete: hidden, restorable, history kept;
      putting a deleted key again restores and updates the same memory;
    - a raw ``put`` is a direct write: it does not go through the Memory Manager.

    Both ``batch`` and ``abatch`` work on a ``Memory`` or an ``AsyncMemory``; ``abatch``
    awaits an ``AsyncMemory`` natively and runs a ``Memory`` in a worker thread. The store
    does not own the memory: close it yourself. TTLs are not supported.

    Args:
        memory: the memory-r1 ``Memory`` or ``AsyncMemory`` to read and write.
        scope_field: the scope field namespaces map to: ``"user_id"`` (default),
            ``"agent_id"`` or ``"run_id"``.
        text_key: the value field that holds a memory's text (default ``"content"``).

    Raises:
        ConfigurationError: ``memory`` is not a memory-r1 memory.
        InvalidInputError: a bad ``scope_field`` or ``text_key``.

    Example:
        >>> from memory_r1 import Memory
        >>> from langchain_memory_r1 import MemoryR1Store
        >>> with Memory(embedder="hashing") as memory:
        ...     store = MemoryR1Store(memory)
        ...     store.put(("memories", "alice"), "home", {"content": "Alice lives in Lisbon"})
        ...     store.get(("memories", "alice"), "home").value
        {'content': 'Alice lives in Lisbon'}
    """

    def __init__(
        self,
        memory: Memory | AsyncMemory,
        *,
        scope_field: ScopeField = "user_id",
        text_key: str = "content",
    ) -> None:
        self.memory = _bridge.check_memory(memory)
        self.mapping = StoreMapping(scope_field=scope_field, text_key=text_key)

    def scope_for(self, namespace: tuple[str, ...]) -> dict[str, str]:
        """The memory-r1 scope (as keyword arguments) that ``namespace`` maps to.

        Example:
            >>> from memory_r1 import Memory
            >>> with Memory(embedder="hashing") as m:
            ...     MemoryR1Store(m).scope_for(("memories", "alice"))
            {'user_id': 'memories.alice'}
        """
        return self.mapping.scope(namespace)

    def namespace_for(self, scope: Scope) -> tuple[str, ...] | None:
        """The namespace that holds ``scope``'s memories, or None if it maps to none."""
        return self.mapping.namespace(scope)

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` in order (a get after a put in the same batch sees the put)."""
        return _bridge.run(self.memory, self._batch(list(ops)))

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async twin of ``batch``."""
        return await _bridge.arun(self.memory, self._batch(list(ops)))

    # -- flows ---------------------------------------------------------------------------

    def _batch(self, ops: list[Op]) -> Flow[list[Result]]:
        results: list[Result] = []
        for op in ops:
            if isinstance(op, GetOp):
                results.append((yield from self._get(op)))
            elif isinstance(op, PutOp):
                yield from self._put(op)
                results.append(None)
            elif isinstance(op, SearchOp):
                results.append((yield from self._search(op)))
            elif isinstance(op, ListNamespacesOp):
                results.append((yield from self._list_namespaces(op)))
            else:
                raise InvalidInputError(f"unknown store operation {type(op).__name__}")
        return results

    def _find(self, scope: dict[str, str], key: str, *, deleted: bool) -> Flow[MemoryItem | None]:
        """The memory whose key is ``key`` in ``scope`` (active first; deleted if asked)."""
        if not isinstance(key, str) or not key:
            raise InvalidInputError(f"a key is a non-empty string, got {key!r}")
        filters = {f"metadata.{KEY_FIELD}": key}
        kwargs = {**scope, "filters": filters, "limit": 10, "include_deleted": deleted}
        page: Page = yield Call("get_all", kwargs=kwargs)
        if page.items:
            active = [m for m in page.items if m.status is MemoryStatus.ACTIVE]
            return (active or page.items)[0]
        try:
            item: MemoryItem = yield Call("get", (key,), scope)
        except NotFoundError:
            return None
        if KEY_FIELD in item.metadata:  # its key is its lg_key, not its id
            return None
        return item if deleted or item.status is MemoryStatus.ACTIVE else None

    def _get(self, op: GetOp) -> Flow[Item | None]:
        found = yield from self._find(self.mapping.scope(op.namespace), op.key, deleted=False)
        return None if found is None else self.mapping.item(op.namespace, found)

    def _put(self, op: PutOp) -> Flow[None]:
        scope = self.mapping.scope(op.namespace)
        if op.value is None:
            found = yield from self._find(scope, op.key, deleted=False)
            if found is not None:
                yield Call("delete", (found.id,), scope)
            return None
        text, metadata = self.mapping.encode(op.value, op.index)
        found = yield from self._find(scope, op.key, deleted=True)
        if found is None:
            kwargs = {**scope, "metadata": {**metadata, KEY_FIELD: op.key}, "infer": False}
            yield Call("add", (text,), kwargs)
            return None
        if KEY_FIELD in found.metadata:
            metadata[KEY_FIELD] = op.key
        if found.status is MemoryStatus.DELETED:
            yield Call("restore", (found.id,), scope)
        yield Call("update", (found.id, text), {**scope, "metadata": metadata})
        return None

    def _search(self, op: SearchOp) -> Flow[list[SearchItem]]:
        limit, offset = _window(op.limit, op.offset)
        filters = self.mapping.filters(op.filter)
        namespaces = yield from self._namespaces_under(op.namespace_prefix)
        if limit == 0 or not namespaces:
            return []
        found: list[tuple[tuple[str, ...], MemoryItem]] = []
        for namespace in namespaces:
            scope = self.mapping.scope(namespace)
            if op.query:
                hits: list[ScoredMemory] = yield Call(
                    "search", (op.query,), {**scope, "filters": filters, "limit": offset + limit}
                )
                found += [(namespace, hit) for hit in hits]
            else:
                items = yield from self._scan(scope, filters, offset + limit - len(found))
                found += [(namespace, item) for item in items]
                if len(found) >= offset + limit:
                    break
        if op.query:
            found.sort(key=lambda pair: getattr(pair[1], "score", 0.0), reverse=True)
        window = found[offset : offset + limit]
        return [self.mapping.search_item(ns, memory) for ns, memory in window]

    def _scan(
        self, scope: dict[str, str], filters: dict[str, Any] | None, wanted: int
    ) -> Flow[list[MemoryItem]]:
        """Up to ``wanted`` active memories of ``scope``, in the bank's order."""
        out: list[MemoryItem] = []
        cursor: str | None = None
        while len(out) < wanted:
            size = min(_PAGE, wanted - len(out))
            kwargs = {**scope, "filters": filters, "limit": size, "cursor": cursor}
            page: Page = yield Call("get_all", kwargs=kwargs)
            out += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
        return out

    def _namespaces(self) -> Flow[list[tuple[str, ...]]]:
        """Every namespace that holds active memories, sorted."""
        scopes: list[Scope] = yield Call("scopes")
        found = {ns for s in scopes if (ns := self.mapping.namespace(s)) is not None}
        return sorted(found)

    def _namespaces_under(self, prefix: tuple[str, ...]) -> Flow[list[tuple[str, ...]]]:
        check_namespace(prefix, allow_empty=True)
        namespaces = yield from self._namespaces()
        return [ns for ns in namespaces if ns[: len(prefix)] == prefix]

    def _list_namespaces(self, op: ListNamespacesOp) -> Flow[list[tuple[str, ...]]]:
        limit, offset = _window(op.limit, op.offset)
        for condition in op.match_conditions or ():
            check_namespace(tuple(p for p in condition.path if p != "*"), allow_empty=True)
        namespaces = yield from self._namespaces()
        kept = [ns for ns in namespaces if all(matches(c, ns) for c in op.match_conditions or ())]
        if op.max_depth is not None:
            if isinstance(op.max_depth, bool) or not isinstance(op.max_depth, int):
                raise InvalidInputError(f"max_depth must be an integer, got {op.max_depth!r}")
            kept = sorted({ns[: op.max_depth] for ns in kept})
        return kept[offset : offset + limit]


def _window(limit: Any, offset: Any) -> tuple[int, int]:
    for name, value in (("limit", limit), ("offset", offset)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInputError(f"{name} must be a non-negative integer, got {value!r}")
    if limit + offset > _MAX_WINDOW:
        raise InvalidInputError(f"limit + offset must be at most {_MAX_WINDOW:,}")
    return limit, offset
