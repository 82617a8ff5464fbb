"""Answer metrics agree with the LoCoMo and mem0 definitions (research/locomo.md §5–6).

The worked examples are computed by hand from the definitions; the fractions are written out.
The stemmer and tokenizer are also checked against NLTK on LoCoMo's own words, when NLTK and the
data file are both present.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memory_r1.eval._porter import stem
from memory_r1.eval._tokenize import sentences, word_tokenize
from memory_r1.eval.metrics import (
    METRIC_NAMES,
    bleu1,
    exact_match,
    f1_locomo,
    f1_mem0,
    normalize_answer,
    score_all,
    token_f1,
)
from memory_r1.exceptions import InvalidInputError

TOL = 1e-9

# (category, prediction, gold, LoCoMo F1, mem0 F1, BLEU-1), derivations in the comments.
WORKED = [
    # identical: every metric is 1
    (2, "7 May 2023", "7 May 2023", 1.0, 1.0, 1.0),
    # LoCoMo: {on may 7 2023} vs {7 may 2023}: p=3/4, r=1 -> 6/7; mem0 the same sets.
    # BLEU: on may 7 , 2023 (c=5) vs 7 may 2023 (r=3): 3 matches, c>r so BP=1 -> 3/5
    (2, "On May 7, 2023", "7 May 2023", 6 / 7, 6 / 7, 3 / 5),
    # {may 7th 2023} vs {7 may 2023}: 2 common of 3 and 3 -> 2/3; BLEU: may 7th , 2023 -> 2/4
    (2, "May 7th, 2023", "7 May 2023", 2 / 3, 2 / 3, 1 / 2),
    (4, "Paris", "London", 0.0, 0.0, 0.0),
    # LoCoMo: "and" dropped, stems she went run did potteri vs run potteri: p=2/5, r=1 -> 4/7
    # mem0: 6 distinct tokens vs {running, pottery}: p=2/6, r=1 -> 1/2; BLEU: 2 of 6 (c>r=3)
    (4, "She went running and did pottery", "Running, pottery", 4 / 7, 1 / 2, 1 / 3),
    # LoCoMo cat 1: gold parts pottery|camping|painting|swimming score 1,1,0,0 -> 1/2
    # mem0: p=1, r=2/4 -> 2/3; BLEU: pottery , camping (c=3) vs 7 tokens, 3 matches,
    # BP=exp(1-7/3)
    (1, "pottery, camping", "pottery, camping, painting, swimming", 1 / 2, 2 / 3, math.exp(-4 / 3)),
    # stems carolin research adopt agenc vs adopt agenc: p=2/4, r=1 -> 2/3; BLEU 2 of 5 tokens
    (4, "Caroline researched adoption agencies.", "Adoption agencies", 2 / 3, 2 / 3, 2 / 5),
    # LoCoMo cat 3 cuts the gold at ";" -> identical -> 1. mem0: {likely,no} vs 11 distinct
    # tokens ("no;" keeps its ";"), 1 common: p=1/2, r=1/11 -> 2/13. BLEU: 2 matches of c=2,
    # r=14 -> exp(1-14/2)
    (
        3,
        "Likely no",
        "Likely no; though she likes reading, she wants to be a counselor",
        1.0,
        2 / 13,
        math.exp(-6),
    ),
    # LoCoMo: the prediction normalises to nothing -> 0. mem0 sets {the} vs {the,cat} -> 2/3.
    # BLEU: "the" clipped to 1 match of c=3 (c>r=2) -> 1/3
    (4, "the the the", "the cat", 0.0, 2 / 3, 1 / 3),
]


@pytest.mark.parametrize(("category", "prediction", "gold", "locomo", "mem0", "bleu"), WORKED)
def test_worked_examples(
    category: int, prediction: str, gold: str, locomo: float, mem0: float, bleu: float
) -> None:
    assert f1_locomo(prediction, gold, category) == pytest.approx(locomo, abs=TOL)
    assert f1_mem0(prediction, gold) == pytest.approx(mem0, abs=TOL)
    assert bleu1(prediction, gold) == pytest.approx(bleu, abs=TOL)


def test_locomo_f1_counts_duplicates_as_a_multiset() -> None:
    # stems: cat cat dog vs cat dog: common = min(2,1)+1 = 2, p=2/3, r=1 -> 4/5
    assert token_f1("cat cat dog", "cat dog") == pytest.approx(4 / 5, abs=TOL)
    # mem0 uses sets: {cat, dog} both sides -> 1
    assert f1_mem0("cat cat dog", "cat dog") == 1.0


def test_multi_hop_splits_only_on_commas() -> None:
    # "and" joins one part: parts [lisbon porto] vs gold parts [lisbon], [porto]; each gold part
    # scores 2*(1/2)*1/(3/2) = 2/3 -> mean 2/3
    assert f1_locomo("Lisbon and Porto", "Lisbon, Porto", 1) == pytest.approx(2 / 3, abs=TOL)
    assert f1_locomo("Porto, Lisbon", "Lisbon, Porto", 1) == 1.0
    # the same prediction under category 4 is one multiset: {lisbon porto} both -> 1
    assert f1_locomo("Lisbon and Porto", "Lisbon, Porto", 4) == 1.0


def test_open_domain_cuts_gold_at_first_semicolon_only_for_category_3() -> None:
    gold = "Yes; she took a job as a librarian"
    assert f1_locomo("yes", gold, 3) == 1.0
    # category 4 keeps the whole gold: stems yes she took job as librarian (6), p=1, r=1/6
    assert f1_locomo("yes", gold, 4) == pytest.approx(2 / 7, abs=TOL)


@pytest.mark.parametrize(
    ("prediction", "expected"),
    [
        ("Not mentioned in the conversation", 1.0),
        ("That is NOT MENTIONED anywhere.", 1.0),
        ("No information available", 1.0),
        ("Pixel", 0.0),
        ("It is not stated", 0.0),
    ],
)
def test_adversarial_rewards_abstaining_whatever_the_gold(prediction: str, expected: float) -> None:
    assert f1_locomo(prediction, "Pixel", 5) == expected
    assert f1_locomo(prediction, "", 5) == expected


@pytest.mark.parametrize("category", [0, 6, -1, True])
def test_unknown_category_is_a_typed_error(category: int) -> None:
    with pytest.raises(InvalidInputError, match="category"):
        f1_locomo("a", "b", category)
    with pytest.raises(InvalidInputError):
        score_all("a", "b", category)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Eiffel Tower!", "eiffel tower"),
        ("Caroline's mother-in-law", "carolines motherinlaw"),
        ("salt AND pepper", "salt pepper"),
        ("a, an, the; banana", "banana"),
        ("“curly” quotes", "“curly” quotes"),  # only ASCII punctuation is removed
        ("   ", ""),
    ],
)
def test_normalize_answer(text: str, expected: str) -> None:
    assert normalize_answer(text) == expected


@pytest.mark.parametrize(
    ("prediction", "gold", "expected"),
    [
        ("The Eiffel Tower!", "eiffel tower", 1.0),
        ("Paris, France", "paris france", 1.0),
        ("7 May", "May 7", 0.0),
        ("running", "run", 0.0),  # no stemming in EM
        ("Pixel the cat", "Pixel", 0.0),
    ],
)
def test_exact_match_normalises_then_compares(prediction: str, gold: str, expected: float) -> None:
    assert exact_match(prediction, gold) == expected


def test_empty_strings_score_zero() -> None:
    assert f1_mem0("", "x") == f1_mem0("x", "") == f1_mem0("...", "x") == 0.0
    assert bleu1("", "x") == bleu1("x", "") == bleu1("  ", "x") == 0.0
    assert token_f1("", "x") == 0.0


def test_score_all_has_every_metric() -> None:
    scores = score_all("She went running and did pottery", "Running, pottery", 4)
    assert tuple(scores) == METRIC_NAMES
    assert scores["f1_locomo"] == pytest.approx(4 / 7, abs=TOL)
    assert scores["f1_mem0"] == pytest.approx(1 / 2, abs=TOL)
    assert scores["bleu1"] == pytest.approx(1 / 3, abs=TOL)
    assert scores["exact_match"] == 0.0


@given(st.text(max_size=40), st.text(max_size=40), st.sampled_from([1, 2, 3, 4]))
def test_metrics_are_bounded(prediction: str, gold: str, category: int) -> None:
    for value in score_all(prediction, gold, category).values():
        assert 0.0 <= value <= 1.0 + TOL


@given(st.text(alphabet="abc ,.;!?'", max_size=30), st.text(alphabet="abc ,.;!?'", max_size=30))
def test_token_f1s_are_symmetric(a: str, b: str) -> None:
    assert token_f1(a, b) == pytest.approx(token_f1(b, a), abs=TOL)
    assert f1_mem0(a, b) == pytest.approx(f1_mem0(b, a), abs=TOL)


# --- the stemmer and the tokenizer ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("caresses", "caress"),  # 1a sses -> ss
        ("ponies", "poni"),  # 1a ies -> i
        ("ties", "tie"),  # NLTK: a four-letter -ies word keeps "ie"
        ("agreed", "agre"),  # 1b eed -> ee (m>0), then 5a drops the e (m=1, not cvc)
        ("hopping", "hop"),  # 1b ing, then undouble
        ("filing", "file"),  # 1b ing, then m=1 and cvc -> add e
        ("happy", "happi"),  # 1c y -> i after a consonant
        ("dying", "die"),  # NLTK irregular form
        ("relational", "relat"),  # 2 ational -> ate, then 4 drops ate
        ("adoption", "adopt"),  # 4 ion after t
        ("controlling", "control"),  # 1b, then 5b ll -> l
        ("is", "is"),  # two letters are left alone
    ],
)
def test_porter_stemmer_by_hand(word: str, expected: str) -> None:
    assert stem(word) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("on may 7, 2023", ["on", "may", "7", ",", "2023"]),
        ("she didn't go.", ["she", "did", "n't", "go", "."]),
        ("caroline's (new) home", ["caroline", "'s", "(", "new", ")", "home"]),
        ('"becoming"', ["``", "becoming", "''"]),
        ("i went home. then i slept", ["i", "went", "home", ".", "then", "i", "slept"]),
        ("born in 2023. she", ["born", "in", "2023.", "she"]),  # a number before lower case
        ("3.5 km", ["3.5", "km"]),
    ],
)
def test_word_tokenize_by_hand(text: str, expected: list[str]) -> None:
    assert word_tokenize(text) == expected


def test_sentences_realign_closing_brackets() -> None:
    assert sentences("i went home. then (i slept.) the end") == [
        "i went home.",
        "then (i slept.)",
        "the end",
    ]


def _real_file() -> Path | None:
    env = os.environ.get("MEMORY_R1_LOCOMO")
    default = Path(__file__).resolve().parents[1].parent / "shared/data/locomo/locomo10.json"
    path = Path(env) if env else default
    return path if path.is_file() else None


def _real_texts() -> list[str]:
    path = _real_file()
    if path is None:
        pytest.skip("locomo10.json not found ($MEMORY_R1_LOCOMO or ../shared/data/locomo/)")
    texts: list[str] = []
    for sample in json.loads(path.read_text(encoding="utf-8")):
        for value in sample["conversation"].values():
            if isinstance(value, list):
                texts += [t["text"] for t in value] + [t.get("blip_caption", "") for t in value]
        for qa in sample["qa"]:
            texts += [qa["question"], str(qa.get("answer", "")), qa.get("adversarial_answer", "")]
    return [t for t in texts if t]


def test_stemmer_matches_nltk_on_every_locomo_word() -> None:
    porter = pytest.importorskip("nltk.stem.porter").PorterStemmer()
    words = {w for text in _real_texts() for w in normalize_answer(text).split()}
    assert len(words) > 5_000
    assert [w for w in words if stem(w) != porter.stem(w)] == []


def test_tokenizer_matches_nltk_on_every_locomo_text() -> None:
    tokenize = pytest.importorskip("nltk.tokenize")
    punkt = tokenize.punkt.PunktSentenceTokenizer()  # untrained: no downloaded data
    words = tokenize.NLTKWordTokenizer()
    texts = sorted({t.lower() for t in _real_texts()})
    mismatched = [
        t
        for t in texts
        if word_tokenize(t) != [w for s in punkt.tokenize(t) for w in words.tokenize(s)]
    ]
    assert mismatched == []


def test_bleu1_matches_nltk_sentence_bleu() -> None:
    bleu_score = pytest.importorskip("nltk.translate.bleu_score")
    smooth = bleu_score.SmoothingFunction().method1
    texts = _real_texts()[:4000]
    for prediction, gold in zip(texts[::2], texts[1::2], strict=False):
        expected = bleu_score.sentence_bleu(
            [word_tokenize(gold.strip().lower())],
            word_tokenize(prediction.strip().lower()),
            weights=(1, 0, 0, 0),
            smoothing_function=smooth,
        )
        assert bleu1(prediction, gold) == pytest.approx(expected, abs=TOL)
