"""Memory banks written by a teacher through memory-r1's own pipeline, cached as JSONL.

Memory-R1 trains on states a teacher wrote (GPT-4o-mini in the paper, App. B.2). Two kinds
of bank are built per LoCoMo conversation, each turn going through ``Memory.add`` (fact
extraction, then the Memory Manager) exactly as at inference:

* the **conversation bank**: every turn, in order - the Answer Agent retrieves from it;
* **temporal banks**: for a turn *t*, a fresh bank built from the ``window`` turns before
  *t* (the paper says 24 in B.2 and 50 in Alg. 1), together with the facts the teacher
  extracts from *t* itself - the Memory Manager's training states.

``teacher=None`` (or ``"verbatim"``) needs no model: each turn is stored as it was said and
is its own single fact, a cheap stand-in for CPU runs and tests.

Each kind is cached in one JSONL file, ``<cache_dir>/<sample_id>.<kind>.<fingerprint>.jsonl``:
a header line with what the banks depend on (teacher, embedder, prompts, agent settings,
window, the conversation's content) whose hash is the fingerprint, then one ``BankSnapshot``
per line, appended as soon as it is built. A rerun reads the file and calls the teacher only
for what is missing, so training is reproducible without the teacher and an interrupted
build resumes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from memory_r1._core import agents
from memory_r1._core.effects import run_sync
from memory_r1._core.parsing import parse_facts
from memory_r1._core.prompts import Prompts, extraction_messages, prompts_hash
from memory_r1._core.schemas import facts_schema
from memory_r1._lazy import require
from memory_r1.config import AgentConfig, MemoryConfig, StoreConfig
from memory_r1.embeddings import Embedder, resolve_embedder
from memory_r1.eval._system_base import turn_text  # the evaluation's own, so banks match
from memory_r1.eval.locomo import Conversation, Session, Turn
from memory_r1.exceptions import InvalidInputError, PolicyOutputError, StorageError
from memory_r1.llms import LLM, resolve_llm
from memory_r1.memory import Memory
from memory_r1.types import MemoryItem

__all__ = ["BankBuilder", "BankSnapshot"]

FORMAT = "memory-r1.training.banks/1"
VERBATIM = "verbatim"
log = logging.getLogger(__name__)
T = TypeVar("T")
Kind = Literal["conversation", "temporal"]


class BankSnapshot(BaseModel):
    """The memories of one bank, as the teacher left them.

    Attributes:
        key: the conversation's ``sample_id`` for a conversation bank, the current turn's
            ``dia_id`` for a temporal bank.
        memories: every memory (active and deleted), oldest first.
        facts: the teacher's facts of the current turn (temporal banks only).
        skipped: turns the teacher gave no valid output for; they left no trace.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    memories: tuple[MemoryItem, ...]
    facts: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


class _Header(BaseModel):
    model_config = ConfigDict(frozen=True)

    format: str = FORMAT
    sample_id: str
    kind: Kind
    window: int | None
    teacher: str
    embedder: str
    prompts: str
    agents: dict[str, Any]
    conversation: str

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:12]


class BankBuilder:
    """Builds teacher-written banks for LoCoMo conversations, or reloads them from the cache.

    Args:
        teacher: the LLM that runs extraction and the Memory Manager (an ``LLM`` or a spec
            such as ``"litellm:openai/gpt-4o-mini"``); None or ``"verbatim"`` stores turns as
            said.
        embedder: the embedder of the teacher's pipeline (and of later retrieval).
        cache_dir: where the JSONL files go; None keeps everything in memory.
        prompts: the prompts of the pipeline (default ``Prompts()``).
        agents: the agents' settings (``related_k`` and the token budgets matter here).
        progress: show a progress bar (tqdm) while building.

    Example:
        >>> from memory_r1.eval import parse_locomo
        >>> sample = {"sample_id": "s1", "qa": [], "conversation": {
        ...     "speaker_a": "Ann", "speaker_b": "Bo",
        ...     "session_1_date_time": "9:05 am on 2 March, 2024", "session_1": [
        ...         {"speaker": "Ann", "dia_id": "D1:1", "text": "I adopted a dog named Rex."},
        ...         {"speaker": "Bo", "dia_id": "D1:2", "text": "Congrats! I love dogs."}]}}
        >>> conv = parse_locomo([sample]).conversations[0]
        >>> builder = BankBuilder(None, "hashing")  # None: store turns verbatim
        >>> [(m.actor, m.text) for m in builder.conversation_bank(conv).memories]
        [('Ann', 'I adopted a dog named Rex.'), ('Bo', 'Congrats! I love dogs.')]
        >>> snap = builder.temporal_banks(conv, ["D1:2"], window=24)["D1:2"]
        >>> [m.sources for m in snap.memories], snap.facts
        ([['D1:1']], ('Congrats! I love dogs.',))
    """

    def __init__(
        self,
        teacher: LLM | str | None,
        embedder: Embedder | str,
        *,
        cache_dir: str | Path | None = None,
        prompts: Prompts | None = None,
        agents: AgentConfig | None = None,
        progress: bool = False,
    ) -> None:
        self.teacher = None if teacher in (None, VERBATIM) else resolve_llm(teacher)
        self.embedder = resolve_embedder(embedder)
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.prompts = prompts or Prompts()
        self.agents = agents or AgentConfig()
        self.progress = progress
        self._memo: dict[Path | str, dict[str, BankSnapshot]] = {}

    @property
    def teacher_name(self) -> str:
        """``"verbatim"`` or the teacher LLM's name."""
        return VERBATIM if self.teacher is None else self.teacher.name

    def conversation_bank(self, conv: Conversation) -> BankSnapshot:
        """The bank of the whole conversation (built once, then read from the cache)."""
        header = self._header(conv, "conversation", None)
        done = self._load(header)
        if conv.sample_id not in done:
            log.info("building the bank of %s (%d turns)", conv.sample_id, conv.n_turns)
            snap = self._build(conv, conv.sample_id, list(conv.iter_turns()), None)
            self._store(header, done, snap)
        return done[conv.sample_id]

    def temporal_banks(
        self, conv: Conversation, dia_ids: Sequence[str], window: int
    ) -> dict[str, BankSnapshot]:
        """For each turn in ``dia_ids``: the bank of the ``window`` turns before it, and the
        teacher's facts of that turn. Missing ones are built; the rest come from the cache.

        Raises:
            InvalidInputError: ``window`` < 1.
            KeyError: a ``dia_id`` that is not a turn of ``conv``.
        """
        if window < 1:
            raise InvalidInputError(f"window must be >= 1, got {window}")
        header = self._header(conv, "temporal", window)
        done = self._load(header)
        turns = list(conv.iter_turns())
        position = {turn.dia_id: i for i, (_, turn) in enumerate(turns)}
        missing = [d for d in dict.fromkeys(dia_ids) if d not in done]
        for dia_id in self._bar(missing, f"{conv.sample_id} banks (window {window})"):
            i = position[dia_id]
            snap = self._build(conv, dia_id, turns[max(0, i - window) : i], turns[i])
            self._store(header, done, snap)
        return {d: done[d] for d in dia_ids}

    # -- building ------------------------------------------------------------------------

    def _build(
        self,
        conv: Conversation,
        key: str,
        turns: Sequence[tuple[Session, Turn]],
        current: tuple[Session, Turn] | None,
    ) -> BankSnapshot:
        config = MemoryConfig(
            store=StoreConfig(location=":memory:"), prompts=self.prompts, agents=self.agents
        )
        skipped: list[str] = []
        with Memory(config, embedder=self.embedder, llm=self.teacher, clock=_Ticks()) as mem:
            for session, turn in turns:
                message = {"role": "user", "name": turn.speaker, "content": turn_text(turn)}
                try:
                    mem.add(
                        [message],
                        user_id=conv.sample_id,
                        timestamp=session.date_time,
                        source=turn.dia_id,
                        infer=self.teacher is not None,
                    )
                except PolicyOutputError as exc:
                    log.warning("teacher failed on %s %s: %s", conv.sample_id, turn.dia_id, exc)
                    skipped.append(turn.dia_id)
            memories = _all_memories(mem, conv.sample_id)
        facts: tuple[str, ...] = ()
        if current is not None:
            facts = self._facts(*current)
            if not facts and self.teacher is not None:
                skipped.append(current[1].dia_id)
        return BankSnapshot(key=key, memories=memories, facts=facts, skipped=tuple(skipped))

    def _facts(self, session: Session, turn: Turn) -> tuple[str, ...]:
        if self.teacher is None:
            return (turn_text(turn),)
        cfg = self.agents
        flow = agents.ask(
            self.teacher,
            extraction_messages(self.prompts, [(turn.speaker, turn_text(turn))], session.date_time),
            lambda text: parse_facts(text, cfg.max_facts),
            purpose="extract",
            max_tokens=cfg.extract_tokens,
            max_reasks=cfg.max_reasks,
            schema=facts_schema(cfg.max_facts),
        )
        try:
            facts, _ = run_sync(flow, self.embedder)
        except PolicyOutputError as exc:
            log.warning("teacher extracted no facts from %s: %s", turn.dia_id, exc)
            return ()
        return tuple(facts)

    def _bar(self, items: Sequence[T], desc: str) -> Iterable[T]:
        if not self.progress or not items:
            return items
        tqdm = require("tqdm.auto", "train").tqdm
        return tqdm(items, desc=desc, unit="bank")  # type: ignore[no-any-return]

    # -- the cache -----------------------------------------------------------------------

    def _header(self, conv: Conversation, kind: Kind, window: int | None) -> _Header:
        content = hashlib.sha256(conv.model_dump_json().encode()).hexdigest()[:16]
        return _Header(
            sample_id=conv.sample_id,
            kind=kind,
            window=window,
            teacher=self.teacher_name,
            embedder=self.embedder.name,
            prompts=prompts_hash(self.prompts),
            agents=self.agents.model_dump(),
            conversation=content,
        )

    def cache_path(self, header: _Header) -> Path | None:
        """The JSONL file of ``header``'s banks (None without a cache directory)."""
        if self.cache_dir is None:
            return None
        kind = header.kind if header.window is None else f"{header.kind}.w{header.window}"
        return self.cache_dir / f"{header.sample_id}.{kind}.{header.fingerprint}.jsonl"

    def _load(self, header: _Header) -> dict[str, BankSnapshot]:
        path = self.cache_path(header)
        slot: Path | str = path if path is not None else header.fingerprint
        if slot not in self._memo:
            self._memo[slot] = _read_cache(path, header) if path is not None else {}
        return self._memo[slot]

    def _store(self, header: _Header, done: dict[str, BankSnapshot], snap: BankSnapshot) -> None:
        done[snap.key] = snap
        path = self.cache_path(header)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not path.exists()
        with path.open("a", encoding="utf-8") as f:
            if fresh:
                f.write(header.model_dump_json() + "\n")
            f.write(snap.model_dump_json() + "\n")


class _Ticks:
    """A clock that moves one second per reading: reproducible, ordered ``created_at``."""

    def __init__(self) -> None:
        self.now = datetime(2000, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def _all_memories(mem: Memory, sample_id: str) -> tuple[MemoryItem, ...]:
    items: list[MemoryItem] = []
    cursor: str | None = None
    while True:
        page = mem.get_all(user_id=sample_id, limit=1000, cursor=cursor, include_deleted=True)
        items += page.items
        if (cursor := page.next_cursor) is None:
            break
    return tuple(sorted(items, key=lambda m: (m.created_at, str(m.id))))


def _read_cache(path: Path, header: _Header) -> dict[str, BankSnapshot]:
    """The snapshots of ``path``; a torn last line (an interrupted write) is cut off."""
    if not path.exists():
        return {}
    raw = path.read_bytes()
    if raw and not raw.endswith(b"\n"):
        log.warning("%s ends in a partial line (an interrupted build); dropping it", path)
        raw = raw[: raw.rfind(b"\n") + 1]
        path.write_bytes(raw)
    lines = raw.decode("utf-8").splitlines()
    try:
        found = _Header.model_validate_json(lines[0]) if lines else None
        if found != header:
            raise StorageError(f"{path}: its header does not match; delete the file to rebuild")
        snaps = [BankSnapshot.model_validate_json(line) for line in lines[1:]]
    except (ValidationError, json.JSONDecodeError) as exc:
        raise StorageError(f"{path} is not a bank cache ({exc}); delete it to rebuild") from exc
    return {s.key: s for s in snaps}
