"""A run's report, rebuilt at any time from its files: summary JSON, markdown tables, plots.

``summarize`` is the pure core: records in, per-system figures out. Per category and overall
(micro mean over the questions, category 5 left out unless asked for): F1 both ways, BLEU-1,
exact match, judge accuracy as mean ± sample std over judge runs, evidence recall; latency
p50/p95 (linear interpolation between order statistics) of search, answer and total time;
tokens and LLM calls per question; LLM calls per ingested turn and ingestion time.

Which questions count where:

* a *skipped* question (full-context over its budget) is left out of every score and counted
  in ``n_skipped``: compare such a row with the others only together with that count;
* an *errored* question (no parseable answer after the re-asks) scores 0 and is judged WRONG;
  it is left out of latency and token figures, which it did not finish.

``build_report(run_dir)`` reads ``config.json``, ``predictions.jsonl`` and ``ingest.jsonl``
and writes ``summary.json``, ``report.md`` and ``plots/{category_scores,latency_cdf}.png``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from memory_r1.eval._locomo_types import category_label
from memory_r1.eval._records import (
    CONFIG_FILE,
    INGEST_FILE,
    PREDICTIONS_FILE,
    IngestRecord,
    LabelMap,
    QuestionRecord,
    RunManifest,
    read_jsonl,
)
from memory_r1.eval._report_render import markdown, write_plots
from memory_r1.eval.judge import ItemJudgement, JudgeItem, JudgeVerdict
from memory_r1.eval.judge import summarize as judge_stats
from memory_r1.exceptions import NotFoundError

__all__ = [
    "Group",
    "Ingestion",
    "Latency",
    "Summary",
    "SystemSummary",
    "build_report",
    "percentile",
    "summarize",
]

SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.md"


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100), interpolating linearly between order statistics
    (numpy's default); None for no values.

    Example:
        >>> percentile([4.0, 1.0, 3.0, 2.0], 50), percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95)
        (2.5, 4.8)
    """
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _mean(values: Iterable[float]) -> float | None:
    present = list(values)
    return math.fsum(present) / len(present) if present else None


class Group(BaseModel):
    """Scores over one set of questions (a category, or all of them)."""

    model_config = ConfigDict(frozen=True)

    n: int = Field(description="questions scored (skipped ones excluded)")
    n_skipped: int = 0
    n_errors: int = 0
    f1_mem0: float | None = None
    f1_locomo: float | None = None
    bleu1: float | None = None
    exact_match: float | None = None
    judge_mean: float | None = None
    judge_std: float | None = None
    judge_runs: int = 0
    judge_errors: int = Field(default=0, description="judge replies without a label")
    evidence_recall: float | None = None


class Latency(BaseModel):
    """Seconds: median and 95th percentile."""

    model_config = ConfigDict(frozen=True)

    p50: float | None
    p95: float | None


class Ingestion(BaseModel):
    """What building the banks cost, over the conversations ingested."""

    model_config = ConfigDict(frozen=True)

    conversations: int = 0
    turns: int = 0
    failed_turns: int = 0
    memories: int = 0
    calls: int = 0
    calls_per_turn: float | None = None
    tokens: int = 0
    seconds: float = 0.0
    seconds_per_turn: float | None = None


class SystemSummary(BaseModel):
    """One system's figures."""

    model_config = ConfigDict(frozen=True)

    system: str
    overall: Group
    categories: dict[int, Group]
    latency: dict[str, Latency] = Field(description="search, answer and total")
    tokens_per_query: float | None = None
    prompt_tokens_per_query: float | None = None
    completion_tokens_per_query: float | None = None
    calls_per_query: float | None = None
    ingestion: Ingestion = Field(default_factory=Ingestion)


class Summary(BaseModel):
    """``summary.json``: the run's configuration and every system's figures."""

    model_config = ConfigDict(frozen=True)

    manifest: RunManifest | None = None
    label_map: LabelMap
    category_labels: dict[int, str]
    include_adversarial: bool
    systems: dict[str, SystemSummary]


def _group(records: Sequence[QuestionRecord]) -> Group:
    scored = [r for r in records if r.skipped is None]

    def avg(metric: str) -> float | None:
        return _mean(r.metrics[metric] for r in scored if metric in r.metrics)

    judged = [r for r in scored if r.judge_labels]
    stats = judge_stats(
        [
            ItemJudgement(
                item=JudgeItem(question=r.question, gold=r.gold, prediction=r.prediction),
                verdicts=tuple(JudgeVerdict(label=label) for label in r.judge_labels),
            )
            for r in judged
        ]
    )
    return Group(
        n=len(scored),
        n_skipped=len(records) - len(scored),
        n_errors=sum(r.error is not None for r in scored),
        f1_mem0=avg("f1_mem0"),
        f1_locomo=avg("f1_locomo"),
        bleu1=avg("bleu1"),
        exact_match=avg("exact_match"),
        judge_mean=stats.mean if judged else None,
        judge_std=stats.std if judged else None,
        judge_runs=len(stats.runs),
        judge_errors=stats.errors,
        evidence_recall=_mean(r.evidence_recall for r in scored if r.evidence_recall is not None),
    )


def _ingestion(ingests: Sequence[IngestRecord]) -> Ingestion:
    turns = sum(i.turns for i in ingests)
    calls = sum(i.calls for i in ingests)
    seconds = math.fsum(i.seconds for i in ingests)
    return Ingestion(
        conversations=len(ingests),
        turns=turns,
        failed_turns=sum(i.failed_turns for i in ingests),
        memories=sum(i.memories for i in ingests),
        calls=calls,
        calls_per_turn=calls / turns if turns else None,
        tokens=sum(i.prompt_tokens + i.completion_tokens for i in ingests),
        seconds=seconds,
        seconds_per_turn=seconds / turns if turns else None,
    )


def _system(
    name: str, records: Sequence[QuestionRecord], ingests: Sequence[IngestRecord]
) -> SystemSummary:
    finished = [r for r in records if r.skipped is None and r.error is None]

    def per_query(value: Callable[[QuestionRecord], float]) -> float | None:
        return _mean(value(r) for r in finished)

    latency = {
        kind: Latency(
            p50=percentile([getattr(r, f"{kind}_s") for r in finished], 50),
            p95=percentile([getattr(r, f"{kind}_s") for r in finished], 95),
        )
        for kind in ("search", "answer", "total")
    }
    categories = sorted({r.category for r in records})
    return SystemSummary(
        system=name,
        overall=_group(records),
        categories={c: _group([r for r in records if r.category == c]) for c in categories},
        latency=latency,
        tokens_per_query=per_query(lambda r: r.prompt_tokens + r.completion_tokens),
        prompt_tokens_per_query=per_query(lambda r: r.prompt_tokens),
        completion_tokens_per_query=per_query(lambda r: r.completion_tokens),
        calls_per_query=per_query(lambda r: r.calls),
        ingestion=_ingestion(ingests),
    )


def summarize(
    records: Iterable[QuestionRecord],
    ingests: Iterable[IngestRecord] = (),
    *,
    include_adversarial: bool = False,
    systems: Sequence[str] = (),
) -> dict[str, SystemSummary]:
    """Every system's figures from its records (category 5 left out unless asked for).

    ``systems`` orders the result; systems with records but not named follow, sorted.

    Example:
        >>> r = QuestionRecord(system="s", qa_id="c/q0", sample_id="c", category=4,
        ...     question="?", gold="Oslo", prediction="Oslo", metrics={"f1_mem0": 1.0},
        ...     total_s=0.5)
        >>> summarize([r])["s"].overall.f1_mem0
        1.0
    """
    kept = [r for r in records if include_adversarial or r.category != 5]
    ingested = list(ingests)
    names = list(dict.fromkeys([*systems, *sorted({r.system for r in kept})]))
    return {
        name: _system(
            name,
            [r for r in kept if r.system == name],
            [i for i in ingested if i.system == name],
        )
        for name in names
        if any(r.system == name for r in kept)
    }


def _read_manifest(run_dir: Path) -> RunManifest | None:
    path = run_dir / CONFIG_FILE
    if not path.exists():
        return None
    return RunManifest.model_validate_json(path.read_text(encoding="utf-8"))


def build_report(
    run_dir: str | Path,
    *,
    label_map: LabelMap | None = None,
    include_adversarial: bool | None = None,
    plots: bool = True,
) -> Summary:
    """Rebuild ``summary.json``, ``report.md`` and the plots of a run directory.

    Args:
        run_dir: the directory ``run_locomo`` wrote.
        label_map: category labels, "mem0" or "locomo" (default: the run's setting).
        include_adversarial: count category 5 (default: the run's setting).
        plots: draw the PNG plots (needs matplotlib: ``pip install 'memory-r1[eval]'``).

    Raises:
        NotFoundError: no ``predictions.jsonl`` in ``run_dir``.
        MissingDependencyError: ``plots`` without matplotlib.
    """
    folder = Path(run_dir)
    if not (folder / PREDICTIONS_FILE).exists():
        raise NotFoundError(f"no {PREDICTIONS_FILE} in {folder}: not a run directory")
    manifest = _read_manifest(folder)
    config = manifest.config if manifest else None
    labels = label_map or (config.label_map if config else "mem0")
    adversarial = (
        include_adversarial
        if include_adversarial is not None
        else (config.include_adversarial if config else False)
    )
    records = read_jsonl(folder / PREDICTIONS_FILE, QuestionRecord)
    systems = summarize(
        records,
        read_jsonl(folder / INGEST_FILE, IngestRecord),
        include_adversarial=adversarial,
        systems=config.systems if config else (),
    )
    summary = Summary(
        manifest=manifest,
        label_map=labels,
        category_labels={c: category_label(c, labels) for c in range(1, 6)},
        include_adversarial=adversarial,
        systems=systems,
    )
    (folder / SUMMARY_FILE).write_text(summary.model_dump_json(indent=2), encoding="utf-8")
    (folder / REPORT_FILE).write_text(markdown(summary), encoding="utf-8")
    if plots:
        kept = [r for r in records if adversarial or r.category != 5]
        write_plots(summary, kept, folder / "plots")
    return summary
