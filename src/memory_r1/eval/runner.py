"""Run LoCoMo through one or more systems: ingest each conversation, answer, score, judge.

``run_locomo`` goes conversation by conversation; for each, every system ingests the
conversation session by session (its own bank, under ``<out>/banks/<system>/<sample_id>``)
and then answers the conversation's questions, ``EvalConfig.concurrency`` at a time. Each
answer is scored (``metrics.score_all``), judged (``EvalConfig.judge_runs`` calls, when a
judge is given) and appended to ``predictions.jsonl`` as soon as it is done.

A run is resumable: run it again with the same configuration and it skips every question
already in ``predictions.jsonl`` and every bank already in ``ingest.jsonl``; a bank whose
ingestion was interrupted is deleted and built again from the start. Changing the models,
prompts, split or data of a run directory is refused (``ConfigurationError``); adding a
system is allowed.

What aborts a run: any error from the LLM backends (``LLMError``, network errors), the judge
or the store, and ``KeyboardInterrupt``: the question being answered is simply not recorded,
so the next run does it again. What does not: an answer the model never formatted right
after its re-asks (``PolicyOutputError``) is recorded with ``error`` set and scores 0, and a
turn the Memory Manager could not process is counted in ``IngestRecord.failed_turns``.

The LLM protocol has no seed: answering and judging run at temperature 0, and the only
randomness of the harness, the question sample of ``limit_questions``, is drawn from
``EvalConfig.seed``.
"""

from __future__ import annotations

import hashlib
import platform
import random
import shutil
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TextIO

from memory_r1._core.prompts import prompts_hash
from memory_r1._lazy import require
from memory_r1.embeddings import resolve_embedder
from memory_r1.eval._locomo_types import QA, Conversation, LoCoMo
from memory_r1.eval._progress import Progress
from memory_r1.eval._records import (
    CONFIG_FILE,
    INGEST_FILE,
    PREDICTIONS_FILE,
    EvalConfig,
    IngestRecord,
    JsonlWriter,
    QuestionRecord,
    RunManifest,
    read_jsonl,
)
from memory_r1.eval.judge import JUDGE_PROMPT, LLMJudge
from memory_r1.eval.locomo import load_locomo
from memory_r1.eval.metrics import score_all
from memory_r1.eval.report import Summary, build_report
from memory_r1.eval.systems import Prediction, Setup, System, SystemRun, make_system
from memory_r1.exceptions import ConfigurationError, InvalidInputError, PolicyOutputError
from memory_r1.llms.base import LLM, Usage

__all__ = ["METRIC_VARIANTS", "plan_questions", "run_locomo", "score_prediction"]

METRIC_VARIANTS = {
    "f1_mem0": "token F1 on sets of lower-cased words (mem0's and Memory-R1's tables)",
    "f1_locomo": "token F1 on stemmed multisets with LoCoMo's per-category rules",
    "bleu1": "BLEU-1 on NLTK-style word tokens with brevity penalty (mem0)",
    "exact_match": "normalised exact match (Memory-R1's RL reward)",
    "judge": "mem0's generous CORRECT/WRONG LLM judge, accuracy mean ± std over judge runs",
}
_VERSIONED = (
    "memory-r1", "pydantic", "numpy", "qdrant-client", "qdrant-edge-py", "litellm",
    "transformers", "torch", "sentence-transformers", "matplotlib", "mem0ai",
)  # fmt: skip


def plan_questions(locomo: LoCoMo, config: EvalConfig) -> list[tuple[Conversation, tuple[QA, ...]]]:
    """The conversations of the run and the questions to ask of each, in file order.

    With ``limit_questions``, each conversation's questions are a sample drawn with
    ``random.Random(f"{seed}:{sample_id}")``, kept in file order.

    Raises:
        InvalidInputError: a conversation named in ``config.conversations`` is not in the split.
    """
    chosen = locomo.split(config.split)
    if config.conversations:
        known = {c.sample_id for c in chosen}
        if missing := sorted(set(config.conversations) - known):
            raise InvalidInputError(f"not in the {config.split!r} split: {', '.join(missing)}")
        chosen = tuple(c for c in chosen if c.sample_id in config.conversations)
    plan = []
    for conv in chosen:
        questions = conv.questions(include_adversarial=config.include_adversarial)
        limit = config.limit_questions
        if limit is not None and limit < len(questions):
            rng = random.Random(f"{config.seed}:{conv.sample_id}")
            keep = sorted(rng.sample(range(len(questions)), limit))
            questions = tuple(questions[i] for i in keep)
        plan.append((conv, questions))
    return plan


def score_prediction(
    system: str,
    qa: QA,
    prediction: Prediction,
    *,
    error: str | None = None,
    judge: LLMJudge | None = None,
) -> QuestionRecord:
    """The record of one answer: metrics, judge labels (``judge.runs`` calls), evidence recall.

    A skipped question gets neither metrics nor judge calls; an answer that failed
    (``error``) is judged WRONG without a call.

    Example:
        >>> qa = QA(sample_id="s", index=0, question="Where?", answer="Oslo", category=4,
        ...         evidence=("D1:1",), evidence_raw=("D1:1",))
        >>> r = score_prediction("rag-turns", qa, Prediction(answer="Oslo", retrieved=["D1:1"]))
        >>> r.metrics["f1_mem0"], r.evidence_recall
        (1.0, 1.0)
    """
    skipped = prediction.skipped is not None
    labels, judge_calls = ([], 0) if skipped else _judgement(judge, qa, prediction, error)
    recall = None
    if qa.evidence and not skipped:
        recall = len(set(qa.evidence) & set(prediction.retrieved)) / len(qa.evidence)
    usage = prediction.usage
    return QuestionRecord.model_validate(
        {
            "system": system,
            "qa_id": qa.qa_id,
            "sample_id": qa.sample_id,
            "category": qa.category,
            "question": qa.question,
            "gold": qa.gold,
            "prediction": prediction.answer,
            "selected": prediction.selected,
            "retrieved": prediction.retrieved,
            "evidence": list(qa.evidence),
            "evidence_recall": recall,
            "metrics": {} if skipped else score_all(prediction.answer, qa.gold, qa.category),
            "judge_labels": labels,
            "judge_calls": judge_calls,
            "search_s": prediction.search_s,
            "answer_s": prediction.answer_s,
            "total_s": prediction.total_s,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "calls": usage.calls,
            "skipped": prediction.skipped,
            "error": error,
        }
    )


def _judgement(
    judge: LLMJudge | None, qa: QA, prediction: Prediction, error: str | None
) -> tuple[list[str | None], int]:
    """The judge's labels, one per run, and the calls made (none for a failed answer)."""
    if judge is None:
        return [], 0
    if error is not None:
        return ["WRONG"] * judge.runs, 0
    labels: list[str | None] = [
        judge.judge(qa.question, qa.gold, prediction.answer).label for _ in range(judge.runs)
    ]
    return labels, judge.runs


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "platform": platform.platform()}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _manifest(
    config: EvalConfig, setup: Setup, judge_llm: LLM | None, locomo: LoCoMo
) -> RunManifest:
    judge_hash = hashlib.sha256(JUDGE_PROMPT.encode()).hexdigest()[:12] if judge_llm else None
    return RunManifest(
        config=config,
        models={
            "llm": setup.llm.name,
            "answer_llm": setup.answer_llm.name,
            "judge": judge_llm.name if judge_llm else None,
            "embedder": setup.embedder.name,
        },
        prompts_hash=prompts_hash(config.prompts),
        judge_prompt_hash=judge_hash,
        data_source=locomo.source,
        data_sha256=locomo.sha256,
        data_official=locomo.official,
        sample_ids=[c.sample_id for c in locomo.split(config.split)],
        metric_variants=METRIC_VARIANTS,
        versions=_versions(),
        started=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _claim_directory(out: Path, manifest: RunManifest) -> RunManifest:
    """Write ``config.json``, or check it against the earlier run's and add new systems."""
    path = out / CONFIG_FILE
    if path.exists():
        earlier = RunManifest.model_validate_json(path.read_text(encoding="utf-8"))
        before, now = earlier.identity(), manifest.identity()
        if changed := sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k)):
            raise ConfigurationError(
                f"{out} holds a run with another configuration ({', '.join(changed)} differ); "
                "use a new --out directory, or the same settings to resume it"
            )
        systems = tuple(dict.fromkeys(earlier.config.systems + manifest.config.systems))
        config = manifest.config.model_copy(update={"systems": systems})
        manifest = manifest.model_copy(update={"config": config, "started": earlier.started})
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    return manifest


class _Run:
    """One invocation: the writers, what is already done, progress."""

    def __init__(self, config: EvalConfig, judge: LLMJudge | None, log: TextIO | None) -> None:
        out = config.out
        self.config, self.judge, self.log = config, judge, log
        self.answered = {r.key for r in read_jsonl(out / PREDICTIONS_FILE, QuestionRecord)}
        self.ingested = {r.key for r in read_jsonl(out / INGEST_FILE, IngestRecord)}
        self.answers = JsonlWriter(out / PREDICTIONS_FILE)
        self.ingests = JsonlWriter(out / INGEST_FILE)
        self.progress = Progress(0, "answered", stream=log)

    def todo(self, system: System, questions: Sequence[QA]) -> list[QA]:
        return [q for q in questions if (system.name, q.qa_id) not in self.answered]

    def conversation(self, system: System, conv: Conversation, todo: list[QA]) -> None:
        key = (system.name, conv.sample_id)
        folder = self.config.out / "banks" / system.name / conv.sample_id
        if key not in self.ingested and folder.exists():
            shutil.rmtree(folder)  # an interrupted ingestion: start this bank again
        run = system.open(conv, folder)
        try:
            if key not in self.ingested:
                self.progress.break_line()
                label = f"{system.name} {conv.sample_id}: ingested turns"
                bar = Progress(conv.n_turns, label, stream=self.log)
                self.ingests.write(run.ingest(bar.advance))
                self.ingested.add(key)
            self.answer_all(system.name, run, todo)
        finally:
            run.close()

    def one(self, system: str, run: SystemRun, qa: QA) -> QuestionRecord:
        try:
            prediction, error = run.answer(qa), None
        except PolicyOutputError as exc:  # the attempts' calls are known, their tokens not
            prediction, error = Prediction(usage=Usage(calls=len(exc.errors))), str(exc)
        return score_prediction(system, qa, prediction, error=error, judge=self.judge)

    def done(self, record: QuestionRecord) -> None:
        self.answers.write(record)
        self.answered.add(record.key)
        self.progress.advance()

    def answer_all(self, system: str, run: SystemRun, todo: list[QA]) -> None:
        if self.config.concurrency == 1:
            for qa in todo:
                self.done(self.one(system, run, qa))
            return
        with ThreadPoolExecutor(self.config.concurrency) as pool:
            futures: list[Future[QuestionRecord]] = [
                pool.submit(self.one, system, run, qa) for qa in todo
            ]
            try:
                for future in as_completed(futures):
                    self.done(future.result())
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def close(self) -> None:
        self.answers.close()
        self.ingests.close()


def run_locomo(
    config: EvalConfig,
    *,
    llm: LLM,
    answer_llm: LLM | None = None,
    judge_llm: LLM | None = None,
    data: LoCoMo | None = None,
    log: TextIO | None = sys.stderr,
) -> Summary:
    """Run (or resume) a LoCoMo evaluation and write its report.

    Args:
        config: systems, split, settings and the run directory ``config.out``.
        llm: the extraction / Memory Manager model (also mem0's).
        answer_llm: the Answer Agent's model for every system (default: ``llm``).
        judge_llm: the LLM judge; None for no judge (no J column).
        data: LoCoMo already loaded; by default ``load_locomo(config.data, verify=config.verify)``.
        log: where progress lines go (None: silent).

    Returns:
        The run's ``Summary`` (also written to ``<out>/summary.json`` with ``report.md`` and
        the plots).

    Raises:
        ConfigurationError: an unknown system, or ``config.out`` holds another configuration.
        MissingDependencyError: ``mem0`` without mem0ai, or plots without matplotlib.
        LLMError: a backend failed; run again to resume.
    """
    if config.plots:
        require("matplotlib", "eval")  # fail now, not after hours of answering
    locomo = data if data is not None else load_locomo(config.data, verify=config.verify)
    setup = Setup(
        llm=llm,
        answer_llm=answer_llm or llm,
        embedder=resolve_embedder(config.embedder, **config.embedder_args),
        agents=config.agents,
        prompts=config.prompts,
        context_budget=config.context_budget,
        captions=config.captions,
    )
    systems = [make_system(name, setup) for name in config.systems]
    plan = plan_questions(locomo, config)
    _claim_directory(config.out, _manifest(config, setup, judge_llm, locomo))
    judge = LLMJudge(judge_llm, runs=config.judge_runs) if judge_llm is not None else None
    run = _Run(config, judge, log)
    try:
        work = [(s, c, run.todo(s, qs)) for c, qs in plan for s in systems]
        run.progress.total = sum(len(todo) for _, _, todo in work)
        for system, conv, todo in work:
            if todo:
                run.conversation(system, conv, todo)
    finally:
        run.close()
    return build_report(config.out, plots=config.plots)
