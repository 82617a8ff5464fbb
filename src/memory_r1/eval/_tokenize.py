"""Word tokens for BLEU-1, as ``nltk.word_tokenize`` produces them with an untrained Punkt model.

mem0's BLEU-1 tokenises with ``nltk.word_tokenize``: Punkt sentence splitting, then NLTK's
improved Treebank word tokenizer on each sentence. The trained English Punkt model is a download,
so this module re-implements, without NLTK, what an *untrained*
``PunktSentenceTokenizer()`` followed by ``NLTKWordTokenizer`` does (nltk 3.10). The two differ
from the trained model only around abbreviations ("dr.", "mr."). ``tests/test_eval_metrics.py``
checks it against NLTK on every LoCoMo text when NLTK is installed.

Example:
    >>> word_tokenize("on may 7, 2023 she didn't go. paris!")
    ['on', 'may', '7', ',', '2023', 'she', 'did', "n't", 'go', '.', 'paris', '!']
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator

__all__ = ["sentences", "word_tokenize"]

# --- sentence splitting: an untrained Punkt model -----------------------------------------

_NON_WORD = r"(?:[)\";}\]\*:@\'\({\[\u2018\u2019\u201c\u201d\xab\xbb?!])"
_MULTI_CHAR = r"(?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)"
_PUNKT_WORD = re.compile(
    rf"""(
        {_MULTI_CHAR}
        |
        (?=[^\(\"\`{{\[:;&\#\*@\)}}\]\-,])\S+?
        (?=\s|$|{_NON_WORD}|{_MULTI_CHAR}|,(?=$|\s|{_NON_WORD}|{_MULTI_CHAR}))
        |
        \S
    )""",
    re.VERBOSE,
)
_END_CONTEXT = re.compile(rf"[.?!](?=(?P<after_tok>{_NON_WORD}|\s+(?P<next_tok>\S+)))")
_REALIGN = re.compile(r"[\"')\]}\u2018\u2019\u201c\u201d\xab\xbb]+?(?:\s+|(?=--)|$)", re.MULTILINE)
_NUMBER = re.compile(r"-?[.,]?\d[\d,.-]*\.?")
_INITIAL = re.compile(r"[^\W\d]\.")
_CLAUSE_PUNCT = frozenset(";:,.!?")


def _punkt_words(text: str) -> list[str]:
    return [tok for line in text.split("\n") if line.strip() for tok in _PUNKT_WORD.findall(line)]


def _ends_sentence(tok: str, following: str | None) -> bool:
    """Punkt's verdict on ``tok`` without training data: periods end sentences, with two
    exceptions, initials and numbers followed by something that cannot start a sentence."""
    if tok in (".", "?", "!"):
        return True
    if not tok.endswith(".") or tok.endswith(".."):
        return False
    if following is None:
        return True
    not_a_starter = following in _CLAUSE_PUNCT or following[0].islower()
    if _INITIAL.fullmatch(tok):
        return not (not_a_starter or following[0].isupper())
    if _NUMBER.fullmatch(tok.lower()):
        return not not_a_starter
    return True


def _contains_break(context: str) -> bool:
    """Whether a token of ``context`` ends a sentence and another token follows it."""
    toks = _punkt_words(context)
    return any(_ends_sentence(tok, toks[i + 1]) for i, tok in enumerate(toks[:-1]))


def _last_whitespace(text: str) -> int:
    # Punkt's helper: ASCII whitespace only, and 0 both for "none" and for index 0.
    return max((i for i, ch in enumerate(text) if ch in string.whitespace), default=0)


def _end_contexts(text: str) -> Iterator[tuple[re.Match[str], str]]:
    """Candidate sentence ends, each with the word before it and the token after it."""
    prev: tuple[int, int] = (0, 0)
    prev_match: re.Match[str] | None = None
    for match in _END_CONTEXT.finditer(text):
        start = _last_whitespace(text[prev[1] : match.start()])
        start = start + prev[1] + 1 if start else prev[0]
        if prev_match is not None and prev[1] <= start:
            yield prev_match, text[prev[0] : prev[1]] + prev_match.group() + prev_match["after_tok"]
        prev_match, prev = match, (start, match.start())
    if prev_match is not None:
        yield prev_match, text[prev[0] : prev[1]] + prev_match.group() + prev_match["after_tok"]


def _spans(text: str) -> Iterator[tuple[int, int]]:
    last = 0
    for match, context in _end_contexts(text):
        if _contains_break(context):
            yield last, match.end()
            last = match.start("next_tok") if match["next_tok"] else match.end()
    yield last, len(text.rstrip())


def sentences(text: str) -> list[str]:
    """``PunktSentenceTokenizer().tokenize(text)`` for an untrained tokenizer.

    Example:
        >>> sentences("i went home. then (i slept.) the end")
        ['i went home.', 'then (i slept.)', 'the end']
    """
    spans = list(_spans(text))
    out: list[str] = []
    shift = 0
    for i, (start, stop) in enumerate(spans):
        start += shift
        following = spans[i + 1] if i + 1 < len(spans) else None
        moved = _REALIGN.match(text[following[0] : following[1]]) if following else None
        if moved and following:
            out.append(text[start : following[0] + len(moved.group().rstrip())])
            shift = moved.end()
        else:
            shift = 0
            if text[start:stop]:
                out.append(text[start:stop])
    return out


# --- words: NLTK's improved Treebank tokenizer ---------------------------------------------

_Sub = tuple[re.Pattern[str], str]


def _subs(*pairs: tuple[str, str]) -> tuple[_Sub, ...]:
    return tuple((re.compile(pattern), repl) for pattern, repl in pairs)


_STARTING_QUOTES = _subs(
    ("([«“‘„]|[`]+)", r" \1 "),
    (r'^"', r"``"),
    (r"(``)", r" \1 "),
    (r"([ \(\[{<])(\"|\'{2})", r"\1 `` "),
    (r"(?i)(?<!\w)(\')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)", r"\1 "),
)
_PUNCTUATION = _subs(
    (r"([^\.])(\.)([\]\)}>\"\'»”’ ]*+)\s*$", r"\1 \2 \3 "),
    (r"([:,])([^\d])", r" \1 \2"),
    (r"([:,])$", r" \1 "),
    (r"\.{2,}", r" \g<0> "),
    (r"[;@#$%&]", r" \g<0> "),
    (r"[\u2012-\u2015]", r" \g<0> "),
    (r"([^\.])(\.)([\]\)}>\"\']*)\s*$", r"\1 \2\3 "),
    (r"[?!]", r" \g<0> "),
    (r"([^'])' ", r"\1 ' "),
    (r"[*]", r" \g<0> "),
    (r"[\]\[\(\)\{\}\<\>]", r" \g<0> "),
    (r"--", r" -- "),
)
_ENDING_QUOTES = _subs(
    ("([»”’])", r" \1 "),
    (r"''", " '' "),
    (r'"', " '' "),
    (r"\s+", " "),
    (r"([^' ])('[sS]|'[mM]|'[dD]|') ", r"\1 \2 "),
    (r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", r"\1 \2 "),
)
_CONTRACTIONS = _subs(
    *(
        (rf"(?i)\b({a})({b})\b", r" \1 \2 ")
        for a, b in (
            ("can", "not"),
            ("d", "'ye"),
            ("gim", "me"),
            ("gon", "na"),
            ("got", "ta"),
            ("lem", "me"),
            ("more", "'n"),
        )
    ),
    (r"(?i)\b(wan)(na)(?=\s)", r" \1 \2 "),
    (r"(?i) ('t)(is)\b", r" \1 \2 "),
    (r"(?i) ('t)(was)\b", r" \1 \2 "),
)


def _treebank(sentence: str) -> list[str]:
    text = sentence
    for pattern, repl in _STARTING_QUOTES + _PUNCTUATION:
        text = pattern.sub(repl, text)
    text = f" {text} "
    for pattern, repl in _ENDING_QUOTES + _CONTRACTIONS:
        text = pattern.sub(repl, text)
    return text.split()


def word_tokenize(text: str) -> list[str]:
    """``nltk.word_tokenize(text)`` with an untrained Punkt model: punctuation becomes tokens,
    ``n't`` and ``'s`` are split off, a sentence's final period is separated."""
    return [tok for sentence in sentences(text) for tok in _treebank(sentence)]
