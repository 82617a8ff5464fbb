"""LLM-as-a-judge: the generous CORRECT/WRONG protocol of mem0 and Memory-R1, on any memory-r1 LLM.

The judge sees the question, the gold answer and the generated answer, is told to be generous
(same topic counts; the same date in another format or as a relative reference counts), gives a
one-sentence reason and answers JSON with a ``"label"`` of ``CORRECT`` or ``WRONG``. That is
mem0's ``ACCURACY_PROMPT`` protocol (``evaluation/metrics/llm_judge.py``), reworded; mem0 runs
it once per question at temperature 0 on gpt-4o-mini.

Replies are parsed leniently (code fences, chatter around the JSON, any letter case), but a
reply without a usable label is an *error*, kept apart from WRONG so that a report can show it.
``runs`` repeats every judgement; ``JudgeReport.stats`` gives the mean ± sample standard
deviation of the per-run accuracies. The LLM protocol has no seed: repeated runs at temperature
0 measure the backend's nondeterminism, at a higher ``temperature`` the judge's sampling.

The pure core is ``judge_messages``, ``parse_verdict`` and ``summarize``; ``LLMJudge`` only calls
the LLM, sync or async. LLM errors propagate.

Example:
    >>> from memory_r1.testing import ScriptedLLM
    >>> judge = LLMJudge(ScriptedLLM(['{"reasoning": "Same city.", "label": "CORRECT"}']))
    >>> judge.judge("Where did Ann move?", "Oslo", "She moved to Oslo in May").label
    'CORRECT'
"""

from __future__ import annotations

import asyncio
import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from memory_r1._core.parsing import OutputError, extract_json
from memory_r1.exceptions import ConfigurationError
from memory_r1.llms.base import LLM, LLMResponse, Message, Usage

__all__ = [
    "JUDGE_PROMPT",
    "JUDGE_SCHEMA",
    "ItemJudgement",
    "JudgeItem",
    "JudgeReport",
    "JudgeStats",
    "JudgeVerdict",
    "LLMJudge",
    "Label",
    "RunScore",
    "judge_messages",
    "parse_verdict",
    "summarize",
]

Label = Literal["CORRECT", "WRONG"]

JUDGE_PROMPT = """\
Your job is to grade an answer to a question as CORRECT or WRONG. You are given:
    (1) a question that one user asked another user,
    (2) the gold (ground-truth) answer,
    (3) a generated answer, which you grade.

The question asks about something the other user should know about the first one from their \
earlier conversations. The gold answer is usually short and names what the question is about, \
for example:
Question: What did I bring back from my last trip to Kyoto?
Gold answer: A paper lantern
The generated answer may be much longer. Grade generously: as long as it is about the same \
thing as the gold answer, it is CORRECT.

For questions about time, the gold answer is a specific date, month, year or period. The \
generated answer may be longer or use relative references (such as "last Tuesday" or "next \
month"). Grade generously: as long as it refers to the same date or period as the gold answer, \
it is CORRECT, whatever the format ("May 7th" and "7 May" are the same date).

Now grade this one:
Question: {question}
Gold answer: {gold}
Generated answer: {prediction}

First explain your grade in one short sentence, then give the label CORRECT or WRONG; never \
both. Reply with a JSON object only, with the keys "reasoning" (your sentence) and "label" \
("CORRECT" or "WRONG").
"""
"""The judge prompt; ``{question}``, ``{gold}`` and ``{prediction}`` are filled in."""

JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "reasoning": {"type": "string"},
        "label": {"type": "string", "enum": ["CORRECT", "WRONG"]},
    },
    "required": ["reasoning", "label"],
}
"""The reply's JSON schema, passed to the LLM as ``json_schema`` when ``json_mode`` is on."""


class JudgeVerdict(BaseModel):
    """One judge reply: a label, or the error that kept it from having one."""

    model_config = ConfigDict(frozen=True)

    label: Label | None
    reasoning: str | None = None
    error: str | None = None
    raw: str = ""
    usage: Usage = Usage()

    @property
    def score(self) -> float | None:
        """1.0 for CORRECT, 0.0 for WRONG, None for an error."""
        return None if self.label is None else float(self.label == "CORRECT")


class JudgeItem(BaseModel):
    """One answer to judge; ``category`` and ``key`` are carried through for grouping."""

    model_config = ConfigDict(frozen=True)

    question: str
    gold: str
    prediction: str
    category: int | None = None
    key: str = ""


class ItemJudgement(BaseModel):
    """An item with its verdict from each run."""

    model_config = ConfigDict(frozen=True)

    item: JudgeItem
    verdicts: tuple[JudgeVerdict, ...]

    @property
    def correct_fraction(self) -> float | None:
        """The share of parsed verdicts that are CORRECT (None if every run errored)."""
        scores = [v.score for v in self.verdicts if v.score is not None]
        return sum(scores) / len(scores) if scores else None


class RunScore(BaseModel):
    """The counts of one run over a question set."""

    model_config = ConfigDict(frozen=True)

    correct: int
    wrong: int
    errors: int

    @property
    def accuracy(self) -> float | None:
        """CORRECT / (CORRECT + WRONG): errors left out; None if nothing was judged."""
        judged = self.correct + self.wrong
        return self.correct / judged if judged else None

    @property
    def strict_accuracy(self) -> float | None:
        """CORRECT / all questions: errors count as wrong; None for an empty set."""
        total = self.correct + self.wrong + self.errors
        return self.correct / total if total else None


class JudgeStats(BaseModel):
    """Accuracy over a question set across runs: mean ± sample std (0 for a single run)."""

    model_config = ConfigDict(frozen=True)

    n_questions: int
    runs: tuple[RunScore, ...]
    mean: float | None
    std: float | None
    strict_mean: float | None
    strict_std: float | None
    errors: int
    """Unparseable replies, over all runs."""


def _mean_std(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    present = [v for v in values if v is not None]
    if not present:
        return None, None
    std = statistics.stdev(present) if len(present) > 1 else 0.0
    return math.fsum(present) / len(present), std


def summarize(judgements: Sequence[ItemJudgement]) -> JudgeStats:
    """Per-run counts and mean ± std of the run accuracies over these judgements.

    Example:
        >>> c, w = JudgeVerdict(label="CORRECT"), JudgeVerdict(label="WRONG")
        >>> item = JudgeItem(question="q", gold="g", prediction="p")
        >>> stats = summarize([ItemJudgement(item=item, verdicts=(c, w)),
        ...                    ItemJudgement(item=item, verdicts=(c, c))])
        >>> stats.mean, round(stats.std, 4)
        (0.75, 0.3536)
    """
    n_runs = max((len(j.verdicts) for j in judgements), default=0)
    runs = []
    for r in range(n_runs):
        labels = [j.verdicts[r].label for j in judgements if r < len(j.verdicts)]
        runs.append(
            RunScore(
                correct=labels.count("CORRECT"),
                wrong=labels.count("WRONG"),
                errors=labels.count(None),
            )
        )
    mean, std = _mean_std([run.accuracy for run in runs])
    strict_mean, strict_std = _mean_std([run.strict_accuracy for run in runs])
    return JudgeStats(
        n_questions=len(judgements),
        runs=tuple(runs),
        mean=mean,
        std=std,
        strict_mean=strict_mean,
        strict_std=strict_std,
        errors=sum(run.errors for run in runs),
    )


class JudgeReport(BaseModel):
    """Every item's verdicts, the number of runs and the tokens spent."""

    model_config = ConfigDict(frozen=True)

    judgements: tuple[ItemJudgement, ...]
    n_runs: int
    usage: Usage

    def categories(self) -> tuple[int, ...]:
        """The distinct item categories, sorted."""
        return tuple(sorted({c for j in self.judgements if (c := j.item.category) is not None}))

    def stats(self, category: int | None = None) -> JudgeStats:
        """Mean ± std over all items, or over the items of one category."""
        chosen = [j for j in self.judgements if category is None or j.item.category == category]
        return summarize(chosen)


def judge_messages(
    question: str, gold: str, prediction: str, *, prompt: str = JUDGE_PROMPT
) -> list[Message]:
    """The judge's messages: a single user message built from ``prompt``.

    Example:
        >>> judge_messages("When?", "7 May 2023", "May 7th")[0]["content"].count("7 May 2023")
        1
    """
    content = prompt.format(question=question, gold=gold, prediction=prediction)
    return [{"role": "user", "content": content}]


def parse_verdict(text: str, *, truncated: bool = False) -> JudgeVerdict:
    """Read a judge reply; never raises. A reply without a usable label gets ``error`` set.

    The first JSON object with a ``"label"`` key counts, wherever it sits in the text; the label
    is read case-insensitively, ignoring surrounding spaces, quotes and a final period.

    Example:
        >>> parse_verdict('```json\\n{"label": "wrong"}\\n```').label
        'WRONG'
        >>> parse_verdict("CORRECT").error
        'no valid JSON object found'
    """
    try:
        obj = extract_json(text, key="label")
    except OutputError as e:
        error = str(e) + (" (the reply was cut off at max_tokens)" if truncated else "")
        return JudgeVerdict(label=None, error=error, raw=text)
    value = obj["label"]
    label = value.strip().strip("\"'.").strip().upper() if isinstance(value, str) else None
    reasoning = obj.get("reasoning")
    reasoning = reasoning if isinstance(reasoning, str) else None
    if label not in ("CORRECT", "WRONG"):
        error = f"label {value!r} is neither CORRECT nor WRONG"
        return JudgeVerdict(label=None, reasoning=reasoning, error=error, raw=text)
    return JudgeVerdict(label=label, reasoning=reasoning, raw=text)


def _with_usage(verdict: JudgeVerdict, response: LLMResponse) -> JudgeVerdict:
    return verdict.model_copy(update={"usage": response.usage})


class LLMJudge:
    """Judge answers with an LLM, once or ``runs`` times each, sync or async.

    Args:
        llm: any memory-r1 LLM (``resolve_llm(...)``, or a fake from ``memory_r1.testing``).
        runs: how many times each item is judged by ``evaluate``/``aevaluate``.
        temperature: passed on every call (mem0: 0).
        max_tokens: the reply's token limit.
        json_mode: pass ``JUDGE_SCHEMA`` as the call's ``json_schema``.
        prompt: a template with ``{question}``, ``{gold}`` and ``{prediction}``.
        max_concurrency: concurrent calls in ``aevaluate``.

    Raises:
        ConfigurationError: ``runs`` or ``max_concurrency`` below 1, or a prompt without
            the three placeholders.
    """

    def __init__(
        self,
        llm: LLM,
        *,
        runs: int = 1,
        temperature: float = 0.0,
        max_tokens: int | None = 256,
        json_mode: bool = True,
        prompt: str = JUDGE_PROMPT,
        max_concurrency: int = 8,
    ) -> None:
        if runs < 1 or max_concurrency < 1:
            raise ConfigurationError("runs and max_concurrency must be at least 1")
        if any(f"{{{name}}}" not in prompt for name in ("question", "gold", "prediction")):
            raise ConfigurationError("a judge prompt needs {question}, {gold} and {prediction}")
        self.llm = llm
        self.runs = runs
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.json_schema = JUDGE_SCHEMA if json_mode else None
        self.prompt = prompt
        self.max_concurrency = max_concurrency

    def _messages(self, item: JudgeItem) -> list[Message]:
        return judge_messages(item.question, item.gold, item.prediction, prompt=self.prompt)

    def _options(self) -> dict[str, Any]:
        return {
            "json_schema": self.json_schema,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }

    def _verdict(self, response: LLMResponse) -> JudgeVerdict:
        return _with_usage(parse_verdict(response.text, truncated=response.truncated), response)

    def judge(self, question: str, gold: str, prediction: str) -> JudgeVerdict:
        """Judge one answer with one call."""
        item = JudgeItem(question=question, gold=gold, prediction=prediction)
        return self._verdict(self.llm.complete(self._messages(item), **self._options()))

    async def ajudge(self, question: str, gold: str, prediction: str) -> JudgeVerdict:
        """Async twin of ``judge``."""
        item = JudgeItem(question=question, gold=gold, prediction=prediction)
        return self._verdict(await self.llm.acomplete(self._messages(item), **self._options()))

    def _report(
        self, items: Sequence[JudgeItem], flat: Sequence[JudgeVerdict], runs: int
    ) -> JudgeReport:
        # ``flat`` is run-major: all items of run 0, then all items of run 1, ...
        judgements = tuple(
            ItemJudgement(item=item, verdicts=tuple(flat[r * len(items) + i] for r in range(runs)))
            for i, item in enumerate(items)
        )
        return JudgeReport(
            judgements=judgements, n_runs=runs, usage=sum((v.usage for v in flat), Usage())
        )

    def _runs(self, runs: int | None) -> int:
        if runs is not None and runs < 1:
            raise ConfigurationError(f"runs must be at least 1, got {runs}")
        return runs or self.runs

    def evaluate(self, items: Iterable[JudgeItem], *, runs: int | None = None) -> JudgeReport:
        """Judge every item ``runs`` times (default: the judge's ``runs``), one run after another.

        Raises:
            ConfigurationError: ``runs`` below 1.
        """
        todo, n = list(items), self._runs(runs)
        flat = [
            self._verdict(self.llm.complete(self._messages(item), **self._options()))
            for _ in range(n)
            for item in todo
        ]
        return self._report(todo, flat, n)

    async def aevaluate(
        self, items: Iterable[JudgeItem], *, runs: int | None = None
    ) -> JudgeReport:
        """Async twin of ``evaluate``: up to ``max_concurrency`` calls at a time."""
        todo, n = list(items), self._runs(runs)
        gate = asyncio.Semaphore(self.max_concurrency)

        async def one(item: JudgeItem) -> JudgeVerdict:
            async with gate:
                response = await self.llm.acomplete(self._messages(item), **self._options())
            return self._verdict(response)

        flat = await asyncio.gather(*(one(item) for _ in range(n) for item in todo))
        return self._report(todo, flat, n)
