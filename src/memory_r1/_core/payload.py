"""A memory as a Qdrant payload and back (times also kept as epoch seconds for ranges)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from memory_r1.types import MemoryItem, MemoryStatus, Scope


def item_to_payload(item: MemoryItem) -> dict[str, Any]:
    """Flatten a memory into the payload stored next to its vector."""
    payload: dict[str, Any] = {
        "text": item.text,
        **item.scope.fields(),
        "actor": item.actor,
        "status": item.status.value,
        "version": item.version,
        "sources": list(item.sources),
        "metadata": item.metadata,  # for filters
        "metadata_json": json.dumps(item.metadata),  # exact: the engine may round floats by 1 ulp
        "created_at": item.created_at.isoformat(),
        "created_ts": item.created_at.timestamp(),
        "updated_at": item.updated_at.isoformat(),
        "updated_ts": item.updated_at.timestamp(),
    }
    if item.event_time is not None:
        payload["event_time"] = item.event_time.isoformat()
        payload["event_ts"] = item.event_time.timestamp()
    return payload


def payload_to_item(point_id: str | UUID, payload: dict[str, Any]) -> MemoryItem:
    """Rebuild a memory from its stored payload."""
    event = payload.get("event_time")
    return MemoryItem(
        id=UUID(str(point_id)),
        text=payload["text"],
        scope=Scope(**{k: payload.get(k) for k in ("user_id", "agent_id", "run_id")}),
        actor=payload.get("actor"),
        event_time=datetime.fromisoformat(event) if event else None,
        created_at=datetime.fromisoformat(payload["created_at"]),
        updated_at=datetime.fromisoformat(payload["updated_at"]),
        metadata=_metadata(payload),
        sources=payload.get("sources") or [],
        status=MemoryStatus(payload.get("status", "active")),
        version=int(payload.get("version", 1)),
    )


def _metadata(payload: dict[str, Any]) -> dict[str, Any]:
    """The exact copy when the payload has one (banks written before it lack it)."""
    exact = payload.get("metadata_json")
    return dict(json.loads(exact)) if exact is not None else payload.get("metadata") or {}
