"""Evaluation on LoCoMo: the data (``locomo``), answer metrics (``metrics``), a judge (``judge``).

Importing this package is light (pydantic and the standard library) and offline; the LoCoMo
file is only read, or downloaded, when ``load_locomo`` is called.
"""

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

__all__ = [
    "CATEGORY_LABELS",
    "LOCOMO_SHA256",
    "METRIC_NAMES",
    "QA",
    "Conversation",
    "JudgeItem",
    "JudgeReport",
    "JudgeStats",
    "JudgeVerdict",
    "LLMJudge",
    "LoCoMo",
    "Session",
    "Turn",
    "bleu1",
    "category_label",
    "download_locomo",
    "exact_match",
    "f1_locomo",
    "f1_mem0",
    "load_locomo",
    "normalize_answer",
    "parse_locomo",
    "score_all",
]
