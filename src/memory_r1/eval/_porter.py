"""The Porter stemmer as NLTK's ``PorterStemmer()`` runs it (its default ``NLTK_EXTENSIONS`` mode).

LoCoMo's token F1 stems every token with ``nltk.stem.PorterStemmer``. This is an independent
re-implementation of that behaviour (Porter 1980, with Martin Porter's and NLTK's amendments),
so scoring needs no NLTK. ``tests/test_eval_metrics.py`` checks it token for token against NLTK
on every word of LoCoMo when both are available.

Example:
    >>> [stem(w) for w in ["running", "agencies", "happy", "dying", "controlling"]]
    ['run', 'agenc', 'happi', 'die', 'control']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["stem"]

_VOWELS = frozenset("aeiou")
# NLTK's irregular forms: looked up before any rule runs.
_IRREGULAR = {
    "sky": "sky",
    "skies": "sky",
    "dying": "die",
    "lying": "lie",
    "tying": "tie",
    "news": "news",
    "innings": "inning",
    "inning": "inning",
    "outings": "outing",
    "outing": "outing",
    "cannings": "canning",
    "canning": "canning",
    "howe": "howe",
    "proceed": "proceed",
    "exceed": "exceed",
    "succeed": "succeed",
}

Condition = Callable[[str], bool] | None
Rule = tuple[str, str, Condition]


def _consonants(word: str) -> list[bool]:
    """Per letter: is it a consonant? A ``y`` is one unless it follows a consonant."""
    flags: list[bool] = []
    for i, ch in enumerate(word):
        if ch in _VOWELS:
            flags.append(False)
        elif ch == "y":
            flags.append(i == 0 or not flags[i - 1])
        else:
            flags.append(True)
    return flags


def _measure(stem: str) -> int:
    """Porter's m: the number of vowel-run → consonant-run transitions."""
    pattern = "".join("c" if c else "v" for c in _consonants(stem))
    return pattern.count("vc")


def _m_positive(stem: str) -> bool:
    return _measure(stem) > 0


def _m_above_one(stem: str) -> bool:
    return _measure(stem) > 1


def _has_vowel(stem: str) -> bool:
    return not all(_consonants(stem))


def _ends_double_consonant(word: str) -> bool:
    return len(word) >= 2 and word[-1] == word[-2] and _consonants(word)[-1]


def _ends_cvc(word: str) -> bool:
    """Porter's *o (consonant-vowel-consonant, last not w/x/y), plus NLTK's two-letter vc."""
    flags = _consonants(word)
    if len(word) >= 3:
        return flags[-3] and not flags[-2] and flags[-1] and word[-1] not in "wxy"
    return len(word) == 2 and not flags[0] and flags[1]


def _first_rule(word: str, rules: Sequence[Rule]) -> str:
    """Apply the first rule whose suffix ``word`` has; if its condition fails, change nothing."""
    for suffix, replacement, condition in rules:
        if word.endswith(suffix):
            stem = word[: len(word) - len(suffix)]
            return stem + replacement if condition is None or condition(stem) else word
    return word


_STEP1A: list[Rule] = [
    ("sses", "ss", None),
    ("ies", "i", None),
    ("ss", "ss", None),
    ("s", "", None),
]
_STEP2: list[Rule] = [
    ("ational", "ate", _m_positive),
    ("tional", "tion", _m_positive),
    ("enci", "ence", _m_positive),
    ("anci", "ance", _m_positive),
    ("izer", "ize", _m_positive),
    ("bli", "ble", _m_positive),
    ("alli", "al", _m_positive),
    ("entli", "ent", _m_positive),
    ("eli", "e", _m_positive),
    ("ousli", "ous", _m_positive),
    ("ization", "ize", _m_positive),
    ("ation", "ate", _m_positive),
    ("ator", "ate", _m_positive),
    ("alism", "al", _m_positive),
    ("iveness", "ive", _m_positive),
    ("fulness", "ful", _m_positive),
    ("ousness", "ous", _m_positive),
    ("aliti", "al", _m_positive),
    ("iviti", "ive", _m_positive),
    ("biliti", "ble", _m_positive),
    ("fulli", "ful", _m_positive),
    ("logi", "log", lambda stem: _m_positive(stem + "l")),  # NLTK measures the "l" too
]
_STEP3: list[Rule] = [
    ("icate", "ic", _m_positive),
    ("ative", "", _m_positive),
    ("alize", "al", _m_positive),
    ("iciti", "ic", _m_positive),
    ("ical", "ic", _m_positive),
    ("ful", "", _m_positive),
    ("ness", "", _m_positive),
]
_STEP4: list[Rule] = [
    (suffix, "", _m_above_one)
    for suffix in ("al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent")
]
_STEP4.append(("ion", "", lambda stem: _m_above_one(stem) and stem[-1] in "st"))
_STEP4 += [
    (suffix, "", _m_above_one) for suffix in ("ou", "ism", "ate", "iti", "ous", "ive", "ize")
]


def _step1a(word: str) -> str:
    if word.endswith("ies") and len(word) == 4:
        return word[:-3] + "ie"
    return _first_rule(word, _STEP1A)


def _step1b(word: str) -> str:
    if word.endswith("ied"):
        return word[:-3] + ("ie" if len(word) == 4 else "i")
    if word.endswith("eed"):
        return word[:-1] if _m_positive(word[:-3]) else word
    for suffix in ("ed", "ing"):
        if word.endswith(suffix) and _has_vowel(word[: -len(suffix)]):
            return _tidy_1b(word[: -len(suffix)])
    return word


def _tidy_1b(stem: str) -> str:
    """After -ed/-ing: restore an e, undouble a consonant, or add e to a short cvc stem."""
    for short, full in (("at", "ate"), ("bl", "ble"), ("iz", "ize")):
        if stem.endswith(short):
            return stem[: -len(short)] + full
    if _ends_double_consonant(stem):
        return stem if stem[-1] in "lsz" else stem[:-1]
    return stem + "e" if _measure(stem) == 1 and _ends_cvc(stem) else stem


def _step1c(word: str) -> str:
    if word.endswith("y") and len(word) > 2 and _consonants(word)[-2]:
        return word[:-1] + "i"
    return word


def _step2(word: str) -> str:
    if word.endswith("alli") and _m_positive(word[:-4]):
        return _step2(word[:-4] + "al")
    return _first_rule(word, _STEP2)


def _step5(word: str) -> str:
    if word.endswith("e"):
        stem = word[:-1]
        m = _measure(stem)
        if m > 1 or (m == 1 and not _ends_cvc(stem)):
            word = stem
    if word.endswith("ll") and _m_above_one(word[:-1]):
        return word[:-1]
    return word


def stem(word: str) -> str:
    """The Porter stem of ``word``, lower-cased, exactly as NLTK's default ``PorterStemmer``.

    Example:
        >>> stem("Relational"), stem("adoption"), stem("is")
        ('relat', 'adopt', 'is')
    """
    lower = word.lower()
    if lower in _IRREGULAR:
        return _IRREGULAR[lower]
    if len(word) <= 2:
        return lower
    for step in (_step1a, _step1b, _step1c, _step2):
        lower = step(lower)
    lower = _first_rule(lower, _STEP3)
    lower = _first_rule(lower, _STEP4)
    return _step5(lower)
