"""What an evaluation run is configured with and writes.

``config.json`` holds the ``RunManifest`` (the ``EvalConfig`` and what it resolved to: model
names, prompt hashes, the data's checksum, library versions); ``predictions.jsonl`` one
``QuestionRecord`` per answered question; ``ingest.jsonl`` one ``IngestRecord`` per finished
bank. The JSON-lines files are appended and flushed one record at a time, so that a run killed at
any point loses at most the line it was writing; ``read_jsonl`` drops such a torn last line
and ``JsonlWriter`` cuts it off before appending.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator

from memory_r1._core.prompts import Prompts
from memory_r1.config import AgentConfig
from memory_r1.eval._locomo_types import Split
from memory_r1.exceptions import InvalidInputError

__all__ = [
    "CONFIG_FILE",
    "INGEST_FILE",
    "PREDICTIONS_FILE",
    "EvalConfig",
    "IngestRecord",
    "JsonlWriter",
    "QuestionRecord",
    "RunManifest",
    "read_jsonl",
]

CONFIG_FILE = "config.json"
PREDICTIONS_FILE = "predictions.jsonl"
INGEST_FILE = "ingest.jsonl"
LabelMap = Literal["mem0", "locomo"]


class EvalConfig(BaseModel):
    """How to run a LoCoMo evaluation; the models themselves are passed to ``run_locomo``.

    Example:
        >>> EvalConfig(out="runs/a", systems=["memory-r1", "rag-turns"]).agents.answer_k
        30
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    out: Path = Field(description="the run directory (created; a second run there resumes)")
    systems: tuple[str, ...] = ("memory-r1",)
    split: Split = "test"
    conversations: tuple[str, ...] = Field(
        default=(), description="only these sample_ids of the split (all if empty)"
    )
    data: Path | None = Field(default=None, description="locomo10.json ($MEMORY_R1_LOCOMO)")
    verify: Literal["error", "warn", "off"] = "error"
    embedder: str = "sentence-transformers"
    embedder_args: dict[str, JsonValue] = Field(default_factory=dict, description="e.g. dim")
    agents: AgentConfig = Field(
        default_factory=AgentConfig, description="answer_k is the top-k per speaker"
    )
    prompts: Prompts = Field(default_factory=Prompts)
    judge_runs: int = Field(default=1, ge=1, description="judge calls per answer")
    concurrency: int = Field(default=1, ge=1, description="questions answered at a time")
    limit_questions: int | None = Field(
        default=None, ge=1, description="a seeded sample of this many questions per conversation"
    )
    include_adversarial: bool = Field(default=False, description="ask category 5 too")
    label_map: LabelMap = "mem0"
    context_budget: int = Field(default=64_000, ge=1, description="full-context token budget")
    captions: bool = Field(default=True, description="image captions in turn texts")
    seed: int = 0
    plots: bool = True

    @field_validator("systems")
    @classmethod
    def _some_systems(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("name at least one system")
        return tuple(dict.fromkeys(value))


class RunManifest(BaseModel):
    """``config.json``: the configuration and everything it resolved to."""

    model_config = ConfigDict(frozen=True)

    config: EvalConfig
    models: dict[str, str | None] = Field(description="llm, answer_llm, judge, embedder names")
    prompts_hash: str
    judge_prompt_hash: str | None = None
    data_source: str = ""
    data_sha256: str = ""
    data_official: bool = False
    sample_ids: list[str] = Field(default_factory=list)
    metric_variants: dict[str, str] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)
    started: str = ""

    def identity(self) -> dict[str, object]:
        """What must not change when a run is resumed (systems may be added)."""
        fixed = self.config.model_dump(
            mode="json",
            exclude={"out", "systems", "concurrency", "plots", "label_map", "data", "verify"},
        )
        return {
            **fixed,
            "models": self.models,
            "prompts_hash": self.prompts_hash,
            "judge_prompt_hash": self.judge_prompt_hash,
            "data_sha256": self.data_sha256,
        }


Label = Literal["CORRECT", "WRONG"]
M = TypeVar("M", bound=BaseModel)


class QuestionRecord(BaseModel):
    """One system's answer to one question, with its scores and costs.

    ``skipped`` holds a reason when the system did not answer (full-context over its budget):
    such a record is left out of the scores and counted apart. ``error`` holds the model's
    last failure when it gave no parseable answer: the prediction is then empty and scores 0.
    """

    model_config = ConfigDict(frozen=True)

    system: str
    qa_id: str
    sample_id: str
    category: int
    question: str
    gold: str
    prediction: str = ""
    selected: list[str] = Field(default_factory=list, description="dia_ids it relied on")
    retrieved: list[str] = Field(default_factory=list, description="dia_ids it was shown")
    evidence: list[str] = Field(default_factory=list)
    evidence_recall: float | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    judge_labels: list[Label | None] = Field(
        default_factory=list, description="one per judge run; None where the reply had no label"
    )
    judge_calls: int = 0
    search_s: float = 0.0
    answer_s: float = 0.0
    total_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    skipped: str | None = None
    error: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """``(system, qa_id)``: what a resumed run checks to skip done work."""
        return self.system, self.qa_id


class IngestRecord(BaseModel):
    """One system's finished ingestion of one conversation (its bank is then complete)."""

    model_config = ConfigDict(frozen=True)

    system: str
    sample_id: str
    turns: int = 0
    failed_turns: int = Field(default=0, description="turns whose policy output stayed invalid")
    memories: int = Field(default=0, description="memory writes (events) during ingestion")
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    @property
    def key(self) -> tuple[str, str]:
        """``(system, sample_id)``."""
        return self.system, self.sample_id


def read_jsonl(path: Path, model: type[M]) -> list[M]:
    """Every record of a JSON-lines file (none if it does not exist).

    A last line without its newline is a write cut short and is ignored.

    Raises:
        InvalidInputError: a complete line is not a valid record.
    """
    if not path.exists():
        return []
    out: list[M] = []
    for number, line in _complete_lines(path):
        try:
            out.append(model.model_validate_json(line))
        except ValidationError as exc:
            raise InvalidInputError(f"{path}:{number}: not a {model.__name__}: {exc}") from exc
    return out


def _complete_lines(path: Path) -> Iterator[tuple[int, str]]:
    # Split bytes, not text: a write cut short can end inside a multi-byte character.
    lines = path.read_bytes().split(b"\n")[:-1]  # after the last newline: unfinished or empty
    for number, raw in enumerate(lines, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"{path}:{number}: not UTF-8: {exc}") from exc
        if line.strip():
            yield number, line


class JsonlWriter:
    """Appends records to a JSON-lines file, one flushed and fsynced line each; thread-safe.

    Opening cuts off a torn last line left by a killed run.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _cut_torn_tail(path)
        self.path = path
        self._lock = threading.Lock()
        self._file = path.open("a", encoding="utf-8")

    def write(self, record: BaseModel) -> None:
        """Append one record and make it durable."""
        line = json.dumps(record.model_dump(mode="json"), ensure_ascii=False)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _cut_torn_tail(path: Path) -> None:
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)
