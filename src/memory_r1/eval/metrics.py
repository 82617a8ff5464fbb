"""Answer metrics for LoCoMo, each a pure function of (prediction, gold[, category]).

Two reference implementations are reproduced, and they disagree on purpose:

* **LoCoMo** (``snap-research/locomo`` ``task_eval/evaluation.py``): ``normalize_answer`` (drop
  punctuation, lower-case, drop the words a/an/the/and), Porter stems, multiset token F1, and
  per-category rules: category 1 scores comma-separated parts, category 3 cuts the gold answer
  at its first ``;``, category 5 asks whether the prediction says "not mentioned".
* **mem0** (``evaluation/metrics/utils.py``, the protocol Memory-R1 reports): set-based token F1
  on a simple split, and BLEU-1 on NLTK word tokens with a brevity penalty. mem0 skips
  category 5; the functions here score whatever they are given.

``exact_match`` is Memory-R1's RL reward: both sides normalised as LoCoMo does, then compared.
No stemmer or tokenizer here needs downloaded data (see ``_porter`` and ``_tokenize``).

Example:
    >>> round(f1_locomo("She went running and did pottery", "Running, pottery", 4), 4)
    0.5714
    >>> f1_mem0("She went running and did pottery", "Running, pottery")
    0.5
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence

from memory_r1.eval._porter import stem
from memory_r1.eval._tokenize import word_tokenize
from memory_r1.exceptions import InvalidInputError

__all__ = [
    "METRIC_NAMES",
    "bleu1",
    "exact_match",
    "f1_locomo",
    "f1_mem0",
    "normalize_answer",
    "score_all",
    "token_f1",
]

METRIC_NAMES = ("f1_mem0", "bleu1", "f1_locomo", "exact_match")
"""The keys of ``score_all``'s result, in report order."""

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the|and)\b")
_MEM0_SPLIT = str.maketrans(".,!?", "    ")
_ABSTENTIONS = ("no information available", "not mentioned")


def normalize_answer(text: str) -> str:
    """LoCoMo's (SQuAD-style) answer normalisation.

    Lower-case; delete every ASCII punctuation character (so "caroline's" becomes "carolines");
    replace the whole words a, an, the and **and** by spaces; collapse whitespace.

    Example:
        >>> normalize_answer("The Eiffel Tower, and Caroline's cat!")
        'eiffel tower carolines cat'
    """
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _stems(text: str) -> list[str]:
    return [stem(token) for token in normalize_answer(text).split()]


def _f1(common: int, n_pred: int, n_gold: int) -> float:
    if common == 0:
        return 0.0
    precision, recall = common / n_pred, common / n_gold
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, gold: str) -> float:
    """LoCoMo's ``f1_score``: F1 of the multisets of stemmed, normalised tokens.

    Example:
        >>> round(token_f1("Caroline researched adoption agencies.", "Adoption agencies"), 4)
        0.6667
    """
    pred, ref = _stems(prediction), _stems(gold)
    common = sum((Counter(pred) & Counter(ref)).values())
    return _f1(common, len(pred), len(ref))


def _check_category(category: int) -> None:
    if isinstance(category, bool) or category not in (1, 2, 3, 4, 5):
        raise InvalidInputError(f"LoCoMo category must be 1, 2, 3, 4 or 5, got {category!r}")


def f1_locomo(prediction: str, gold: str, category: int) -> float:
    """Token F1 with LoCoMo's per-category rules.

    * 1 (multi-hop): split both strings on ``,``; the mean over gold parts of the best
      ``token_f1`` against any predicted part.
    * 2, 4: ``token_f1``.
    * 3: ``token_f1`` against the gold cut at its first ``;``.
    * 5 (adversarial): 1.0 if the prediction contains "not mentioned" or "no information
      available" (any case), else 0.0; ``gold`` is not used.

    Raises:
        InvalidInputError: ``category`` is not 1–5.

    Example:
        >>> f1_locomo("pottery, camping", "pottery, camping, painting, swimming", 1)
        0.5
        >>> f1_locomo("Likely no", "Likely no; she wants to be a counselor", 3)
        1.0
        >>> f1_locomo("That is not mentioned.", "", 5)
        1.0
    """
    _check_category(category)
    if category == 5:
        lowered = prediction.lower()
        return 1.0 if any(phrase in lowered for phrase in _ABSTENTIONS) else 0.0
    if category == 3:
        gold = gold.split(";")[0].strip()
    if category != 1:
        return token_f1(prediction, gold)
    parts = [p.strip() for p in prediction.split(",")]
    best = [max(token_f1(p, g.strip()) for p in parts) for g in gold.split(",")]
    return math.fsum(best) / len(best)


def _mem0_tokens(text: str) -> set[str]:
    return set(text.lower().translate(_MEM0_SPLIT).split())


def f1_mem0(prediction: str, gold: str) -> float:
    """mem0's token F1: F1 of the *sets* of tokens, no stemming, no category rules.

    Tokens: lower-case, replace each of ``. , ! ?`` by a space, split on whitespace (other
    punctuation stays on its word). An empty string on either side scores 0.

    Example:
        >>> round(f1_mem0("the the the", "the cat"), 4)
        0.6667
    """
    pred, ref = _mem0_tokens(prediction), _mem0_tokens(gold)
    if not prediction or not gold or not pred or not ref:
        return 0.0
    return _f1(len(pred & ref), len(pred), len(ref))


def _clipped_matches(pred: Sequence[str], ref: Sequence[str]) -> int:
    return sum((Counter(pred) & Counter(ref)).values())


def bleu1(prediction: str, gold: str) -> float:
    """mem0's BLEU-1: NLTK ``sentence_bleu`` with weights (1, 0, 0, 0), one reference.

    Tokens are ``nltk.word_tokenize`` tokens of the lower-cased, stripped strings (punctuation
    counts as a token). With c predicted and r reference tokens and m clipped unigram matches,
    the score is ``BP * m / c``, where ``BP = 1`` if c > r else ``exp(1 - r / c)``; it is 0
    when m = 0 or either string is empty (smoothing never changes BLEU-1).

    Example:
        >>> bleu1("On May 7, 2023", "7 May 2023")
        0.6
    """
    if not prediction or not gold:
        return 0.0
    pred = word_tokenize(prediction.strip().lower())
    ref = word_tokenize(gold.strip().lower())
    matches = _clipped_matches(pred, ref)
    if matches == 0:
        return 0.0
    c, r = len(pred), len(ref)
    brevity = 1.0 if c > r else math.exp(1 - r / c)
    return brevity * matches / c


def exact_match(prediction: str, gold: str) -> float:
    """1.0 if both strings are equal after ``normalize_answer``, else 0.0 (the RL reward).

    Example:
        >>> exact_match("The Eiffel Tower!", "eiffel tower"), exact_match("7 May", "May 7")
        (1.0, 0.0)
    """
    return 1.0 if normalize_answer(prediction) == normalize_answer(gold) else 0.0


def score_all(prediction: str, gold: str, category: int) -> dict[str, float]:
    """Every metric of one answer, keyed by ``METRIC_NAMES``.

    ``f1_mem0`` and ``bleu1`` ignore the category (mem0 leaves category 5 out of its
    averages; that is the report's job), ``f1_locomo`` applies LoCoMo's rules.

    Raises:
        InvalidInputError: ``category`` is not 1–5.

    Example:
        >>> score_all("7 May 2023", "7 May 2023", 2)
        {'f1_mem0': 1.0, 'bleu1': 1.0, 'f1_locomo': 1.0, 'exact_match': 1.0}
    """
    _check_category(category)
    return {
        "f1_mem0": f1_mem0(prediction, gold),
        "bleu1": bleu1(prediction, gold),
        "f1_locomo": f1_locomo(prediction, gold, category),
        "exact_match": exact_match(prediction, gold),
    }
