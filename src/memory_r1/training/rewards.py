"""Outcome rewards of Memory-R1 (Eq. 4, 7), as callables with trl's reward signature.

A reward is called as ``reward(prompts=..., completions=..., **columns)`` and returns one
float per completion - the contract of ``trl.GRPOTrainer`` and of our PPO. ``completions``
are strings or, for conversational prompts, ``[{"role": "assistant", "content": ...}]``.

* ``AnswerReward``: the Answer Agent's answer (the text after ``**Answer:**``) against the
  ``gold`` column; exact match after normalisation (the paper's) or token F1 (an option).
* ``ManagerReward``: the Memory Manager's outcome reward. The sampled operations are applied
  to a copy of the tuple's temporal bank, a frozen Answer Agent answers each linked question
  from the result, and the reward is the mean score of those answers.

An output that does not parse scores 0 and is *counted*: ``reward.stats`` keeps the
numbers, and under trl they are logged as ``<name>/unparseable`` through ``log_metric``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from memory_r1._core import agents
from memory_r1._core.answer_parsing import REASK_ANSWER, parse_answer
from memory_r1._core.effects import run_sync
from memory_r1._core.parsing import OutputError, parse_manager
from memory_r1._core.prompts import Prompts, answer_messages, answer_pattern
from memory_r1.config import AgentConfig
from memory_r1.embeddings import Embedder, resolve_embedder
from memory_r1.eval.metrics import exact_match, f1_mem0
from memory_r1.exceptions import InvalidInputError, NotFoundError, PolicyOutputError
from memory_r1.llms import LLM, resolve_llm
from memory_r1.training.data import LinkedQA, ManagerTuple
from memory_r1.training.retrieval import EmbeddingCache, apply_ops, top_k_per_speaker
from memory_r1.types import MemoryItem, Scope

__all__ = ["METRICS", "AnswerReward", "ManagerReward", "RewardStats", "completion_text"]

Metric = Literal["exact_match", "f1"]
METRICS: Mapping[str, Callable[[str, str], float]] = {"exact_match": exact_match, "f1": f1_mem0}
"""Answer scores by name: normalised exact match (the paper's reward) and mem0's token F1."""
LogMetric = Callable[[str, float], None]


def completion_text(completion: str | Sequence[Mapping[str, Any]]) -> str:
    """The text of a completion, plain or conversational (the last message's content).

    Example:
        >>> completion_text([{"role": "assistant", "content": "hi"}]), completion_text("hi")
        ('hi', 'hi')
    """
    if isinstance(completion, str):
        return completion
    return str(completion[-1]["content"]) if completion else ""


@dataclass
class RewardStats:
    """What a reward has scored so far.

    Attributes:
        scored: completions scored.
        unparseable: completions that did not parse (each scored 0).
        answer_failures: (Memory Manager) questions the frozen Answer Agent gave no
            parseable answer to, even after its re-asks (each scored 0).
        total: the sum of the rewards given.
    """

    scored: int = 0
    unparseable: int = 0
    answer_failures: int = 0
    total: float = 0.0

    @property
    def mean(self) -> float:
        """The mean reward (0 before anything was scored)."""
        return self.total / self.scored if self.scored else 0.0

    @property
    def unparseable_rate(self) -> float:
        """The share of completions that did not parse."""
        return self.unparseable / self.scored if self.scored else 0.0


def _metric(name: str) -> Callable[[str, str], float]:
    if name not in METRICS:
        raise InvalidInputError(f"unknown metric {name!r}; use one of {sorted(METRICS)}")
    return METRICS[name]


def _record(
    stats: RewardStats, name: str, rewards: list[float], bad: int, log: LogMetric | None
) -> list[float]:
    stats.scored += len(rewards)
    stats.unparseable += bad
    stats.total += sum(rewards)
    if log is not None and rewards:
        log(f"{name}/unparseable", bad / len(rewards))
    return rewards


class AnswerReward:
    """The Answer Agent's reward: its answer scored against the ``gold`` column.

    Args:
        metric: ``"exact_match"`` (the paper's EM: LoCoMo's normalisation, then equality) or
            ``"f1"`` (mem0's token F1).
        distill: whether the prompt asked for the distilled memories before ``**Answer:**``;
            then an output without the marker is unparseable.

    Example:
        >>> reward = AnswerReward()
        >>> reward(
        ...     prompts=["q1", "q2", "q3"],
        ...     completions=[
        ...         [{"role": "assistant", "content": "- Ann adopted Rex\\n**Answer:** Rex."}],
        ...         [{"role": "assistant", "content": "**Answer:** a cat"}],
        ...         [{"role": "assistant", "content": "I think it is Rex"}],  # no marker
        ...     ],
        ...     gold=["rex", "Rex", "Rex"],
        ... )
        [1.0, 0.0, 0.0]
        >>> reward.stats.unparseable, AnswerReward("f1")(completions=["**Answer:** Rex the dog"],
        ...                                              gold=["Rex"])
        (1, [0.5])
    """

    def __init__(self, metric: Metric = "exact_match", *, distill: bool = True) -> None:
        self.score_fn = _metric(metric)
        self.distill = distill
        self.stats = RewardStats()
        self.__name__ = f"answer_{metric}"

    def score(self, text: str, gold: str) -> float | None:
        """The score of one output, or None when it does not parse."""
        try:
            answer = parse_answer(text, [], self.distill).answer
        except OutputError:
            return None
        return self.score_fn(answer, gold)

    def __call__(
        self,
        completions: Sequence[str | Sequence[Mapping[str, Any]]],
        gold: Sequence[str],
        log_metric: LogMetric | None = None,
        **_: Any,
    ) -> list[float]:
        """One reward per completion (trl's reward signature)."""
        scores = [self.score(completion_text(c), g) for c, g in zip(completions, gold, strict=True)]
        bad = sum(s is None for s in scores)
        return _record(self.stats, self.__name__, [s or 0.0 for s in scores], bad, log_metric)


class ManagerReward:
    """The Memory Manager's outcome reward, through a frozen Answer Agent.

    For each completion: parse it against the memories the manager was shown (as
    ``Memory.add`` does), apply the operations to a copy of the temporal bank, retrieve the
    top ``agents.answer_k`` memories of each speaker for every linked question, let the
    frozen Answer Agent answer (greedy, with ``Memory.answer``'s prompt, constraint and
    re-asks) and score the answer against the gold one. The reward is the mean score over
    the linked questions. Identical banks are answered once (a cache keyed by the prompt).

    Args:
        answer_llm: the frozen Answer Agent (an ``LLM`` or a spec such as ``"hf:runs/answer"``).
        embedder: the embedder the banks were built with.
        metric: ``"exact_match"`` (the paper's) or ``"f1"``.
        prompts: the prompts of the pipeline.
        agents: ``answer_k`` (memories per speaker), ``distill`` and the answer budget.

    Example:
        >>> from datetime import datetime
        >>> from memory_r1.testing import FunctionLLM, HashingEmbedder
        >>> frozen = FunctionLLM(lambda msgs, info:  # answers "Rex" iff a memory says so
        ...     "**Answer:** Rex" if "Rex" in msgs[-1]["content"] else "**Answer:** unknown")
        >>> tup = ManagerTuple(sample_id="s1", dia_id="D1:1", speaker="Ann", text="I got a dog",
        ...     session_time=datetime(2024, 3, 2), speakers=("Ann", "Bo"),
        ...     facts=("Ann adopted a dog named Rex",), bank=(), shown=(),
        ...     questions=(LinkedQA(qa_id="s1/q0", question="What is the name of Ann's dog?",
        ...                         gold="Rex", category=4),))
        >>> add = '{"memory": [{"id": "0", "text": "Ann adopted a dog named Rex", "event": "ADD"}]}'
        >>> reward = ManagerReward(frozen, HashingEmbedder())
        >>> reward(completions=[add, '{"memory": []}', "ADD it"],
        ...        manager_tuple=[tup.model_dump_json()] * 3)
        [1.0, 0.0, 0.0]
        >>> reward.stats.unparseable
        1
    """

    def __init__(
        self,
        answer_llm: LLM | str,
        embedder: Embedder | str,
        *,
        metric: Metric = "exact_match",
        prompts: Prompts | None = None,
        agents: AgentConfig | None = None,
    ) -> None:
        self.answer_llm = resolve_llm(answer_llm)
        self.cache = EmbeddingCache(resolve_embedder(embedder))
        self.score_fn = _metric(metric)
        self.prompts = prompts or Prompts()
        self.agents = agents or AgentConfig()
        self.stats = RewardStats()
        self.__name__ = f"manager_{metric}"
        self._answers: dict[str, str | None] = {}
        self._tuples: dict[str, ManagerTuple] = {}

    def score(self, text: str, tup: ManagerTuple) -> float | None:
        """The reward of one manager output, or None when it does not parse."""
        try:
            decision = parse_manager(
                text,
                tup.shown_memories(),
                scope=Scope(user_id=tup.sample_id),
                actor=tup.speaker,
                event_time=tup.session_time,
                source=tup.dia_id,
            )
            bank = apply_ops(self.cache, tup.bank, decision.ops, tup.session_time)
        except (OutputError, InvalidInputError, NotFoundError):
            return None
        scores = [self._score_question(bank, tup.speakers, qa) for qa in tup.questions]
        return sum(scores) / len(scores) if scores else 0.0

    def answer(
        self, bank: Sequence[MemoryItem], speakers: Sequence[str], question: str
    ) -> str | None:
        """The frozen Answer Agent's answer from ``bank``, or None if it gave no valid one."""
        groups = top_k_per_speaker(self.cache, question, bank, speakers, self.agents.answer_k)
        distill = self.agents.distill
        messages = answer_messages(self.prompts, question, groups, distill)
        key = hashlib.sha256(json.dumps(messages).encode()).hexdigest()
        if key not in self._answers:
            shown = [m for _, items in groups for m in items]
            flow = agents.ask(
                self.answer_llm,
                messages,
                lambda t: parse_answer(t, shown, distill),
                purpose="answer",
                max_tokens=self.agents.answer_tokens,
                max_reasks=self.agents.max_reasks,
                pattern=answer_pattern(self.prompts, shown, distill),
                reask=REASK_ANSWER,
            )
            try:
                self._answers[key] = run_sync(flow, self.cache.embedder)[0].answer
            except PolicyOutputError:
                self._answers[key] = None
        return self._answers[key]

    def _score_question(
        self, bank: Sequence[MemoryItem], speakers: Sequence[str], qa: LinkedQA
    ) -> float:
        answer = self.answer(bank, speakers, qa.question)
        if answer is None:
            self.stats.answer_failures += 1
            return 0.0
        return self.score_fn(answer, qa.gold)

    def _tuple(self, raw: str) -> ManagerTuple:
        if raw not in self._tuples:
            self._tuples[raw] = ManagerTuple.model_validate_json(raw)
        return self._tuples[raw]

    def __call__(
        self,
        completions: Sequence[str | Sequence[Mapping[str, Any]]],
        manager_tuple: Sequence[str],
        log_metric: LogMetric | None = None,
        **_: Any,
    ) -> list[float]:
        """One reward per completion (trl's reward signature)."""
        scores = [
            self.score(completion_text(c), self._tuple(t))
            for c, t in zip(completions, manager_tuple, strict=True)
        ]
        bad = sum(s is None for s in scores)
        return _record(self.stats, self.__name__, [s or 0.0 for s in scores], bad, log_metric)
