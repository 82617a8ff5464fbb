"""Evaluation on LoCoMo: the data (``locomo``), answer metrics (``metrics``), a judge (``judge``),
the systems compared (``systems``), the resumable runner (``runner``), the report (``report``)
and the ``memory-r1 eval`` commands (``cli``).

Importing this package is light and offline (no model library, no matplotlib, no mem0); the
LoCoMo file is only read, or downloaded, when ``load_locomo`` is called.
"""

from memory_r1.eval._records import EvalConfig, IngestRecord, QuestionRecord
from memory_r1.eval.judge import JudgeItem, JudgeReport, JudgeStats, JudgeVerdict, LLMJudge
from memory_r1.eval.locomo import (
    CATEGORY_LABELS,
    LOCOMO_SHA256,
    QA,
    Conversation,
    LoCoMo,
    Session,
    Turn,
    category_label,
    download_locomo,
    load_locomo,
    parse_locomo,
)
from memory_r1.eval.metrics import (
    METRIC_NAMES,
    bleu1,
    exact_match,
    f1_locomo,
    f1_mem0,
    normalize_answer,
    score_all,
)
from memory_r1.eval.report import Summary, build_report, summarize
from memory_r1.eval.runner import run_locomo
from memory_r1.eval.systems import SYSTEMS

__all__ = [
    "CATEGORY_LABELS",
    "LOCOMO_SHA256",
    "METRIC_NAMES",
    "QA",
    "SYSTEMS",
    "Conversation",
    "EvalConfig",
    "IngestRecord",
    "JudgeItem",
    "JudgeReport",
    "JudgeStats",
    "JudgeVerdict",
    "LLMJudge",
    "LoCoMo",
    "QuestionRecord",
    "Session",
    "Summary",
    "Turn",
    "bleu1",
    "build_report",
    "category_label",
    "download_locomo",
    "exact_match",
    "f1_locomo",
    "f1_mem0",
    "load_locomo",
    "normalize_answer",
    "parse_locomo",
    "run_locomo",
    "score_all",
    "summarize",
]
