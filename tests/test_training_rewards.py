"""Rewards (memory_r1.training.rewards): worked examples, unparseable output, and the Memory
Manager's outcome reward through a scripted frozen Answer Agent."""

from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID

import pytest

from memory_r1.exceptions import InvalidInputError
from memory_r1.llms.base import Message
from memory_r1.testing import CallInfo, FunctionLLM, HashingEmbedder
from memory_r1.training import AnswerReward, LinkedQA, ManagerReward, ManagerTuple
from memory_r1.types import MemoryItem, Scope

WHEN = datetime(2023, 5, 8, 13, 56)


def said(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


# -- the Answer Agent ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "gold", "em", "f1"),
    [
        ("**Memories selected as relevant:**\n- 8 May: beach\n**Answer:** The beach.", "beach",
         1.0, 2 / 3),  # mem0's F1 keeps articles
        ("**Answer:** Beach", "the beach", 1.0, 2 / 3),  # EM drops articles and case
        ("**Answer:** at the beach in June", "beach", 0.0, 1 / 3),
        ("answer: 7 May 2023", "7 May 2023", 1.0, 1.0),  # a marker without bold still counts
        ("**Answer:** May 7", "7 May", 0.0, 1.0),  # EM is strict; F1 is a bag of tokens
    ],
)  # fmt: skip
def test_answer_reward_worked_examples(output: str, gold: str, em: float, f1: float) -> None:
    assert AnswerReward()(completions=[said(output)], gold=[gold]) == [em]
    assert AnswerReward("f1")(completions=[output], gold=[gold]) == [pytest.approx(f1)]


def test_unparseable_answers_score_zero_and_are_counted() -> None:
    reward = AnswerReward()
    logged: dict[str, float] = {}
    scores = reward(
        prompts=["p"] * 4,
        completions=[said("beach"), said("**Answer:**   "), said("**Answer:** beach"), said("")],
        gold=["beach"] * 4,
        log_metric=logged.__setitem__,
        trainer_state=None,  # trl passes more keywords than a reward needs
    )
    assert scores == [0.0, 0.0, 1.0, 0.0]
    assert (reward.stats.scored, reward.stats.unparseable) == (4, 3)
    assert reward.stats.unparseable_rate == 0.75 and reward.stats.mean == 0.25
    assert logged == {"answer_exact_match/unparseable": 0.75}


def test_without_distillation_the_whole_output_is_the_answer() -> None:
    assert AnswerReward(distill=False)(completions=["beach"], gold=["Beach"]) == [1.0]


def test_an_unknown_metric_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="metric"):
        AnswerReward("bleu")  # type: ignore[arg-type]


# -- the Memory Manager ----------------------------------------------------------------------


def memory(n: int, text: str, actor: str = "Ann") -> MemoryItem:
    return MemoryItem(
        id=UUID(int=n),
        text=text,
        scope=Scope(user_id="s1"),
        actor=actor,
        event_time=WHEN,
        created_at=WHEN,
        updated_at=WHEN,
        sources=[f"D1:{n}"],
    )


BANK = (
    memory(1, "Ann has a dog named Rex"),
    memory(2, "Ann lives in Oslo"),
    memory(3, "Bo plays chess", actor="Bo"),
)
QUESTION = LinkedQA(qa_id="s1/q0", question="Where does Ann live?", gold="Bergen", category=4)


def state(*questions: LinkedQA) -> ManagerTuple:
    """Ann just said she moved to Bergen; the manager is shown her two memories."""
    return ManagerTuple(
        sample_id="s1",
        dia_id="D2:1",
        speaker="Ann",
        text="I moved to Bergen last week!",
        session_time=datetime(2023, 6, 1, 10, 0),
        speakers=("Ann", "Bo"),
        facts=("Ann moved to Bergen",),
        bank=BANK,
        shown=(UUID(int=2), UUID(int=1)),  # short ids: "0" = Oslo, "1" = Rex
        questions=questions or (QUESTION,),
    )


class FrozenAgent:
    """A scripted Answer Agent: answers with the city named first among Ann's memories."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def __call__(self, messages: list[Message], info: CallInfo) -> str:
        content = messages[-1]["content"]
        self.prompts.append(content)
        assert info.pattern is not None and info.temperature == 0.0  # greedy, constrained
        ann = content.split("Memories for Ann:\n", 1)[1].split("\n\n", 1)[0]
        found = sorted((ann.find(city), city) for city in ("Bergen", "Oslo") if city in ann)
        city = found[0][1] if found else "unknown"
        return f"**Memories selected as relevant:**\n**Answer:** {city}"


def ops(*entries: tuple[str, str, str]) -> str:
    return json.dumps({"memory": [{"id": i, "text": t, "event": e} for i, t, e in entries]})


@pytest.fixture
def agent() -> FrozenAgent:
    return FrozenAgent()


@pytest.fixture
def reward(agent: FrozenAgent) -> ManagerReward:
    return ManagerReward(FunctionLLM(agent), HashingEmbedder(dim=64))


def test_the_manager_is_rewarded_for_the_bank_it_leaves(reward: ManagerReward) -> None:
    update = ops(("0", "Ann now lives in Bergen", "UPDATE"), ("1", "", "NONE"))
    delete_and_add = ops(("0", "", "DELETE"), ("5", "Ann lives in Bergen", "ADD"))
    keep = ops(("0", "", "NONE"), ("1", "", "NONE"))
    add_other = ops(("7", "Ann likes tea", "ADD"))  # the move is lost
    scores = reward(
        completions=[said(update), said(delete_and_add), said(keep), said(add_other)],
        manager_tuple=[state().model_dump_json()] * 4,
    )
    assert scores == [1.0, 1.0, 0.0, 0.0]
    assert reward.stats.unparseable == 0 and reward.stats.answer_failures == 0


def test_the_bank_of_the_tuple_is_never_changed(reward: ManagerReward) -> None:
    tup = state()
    reward.score(ops(("0", "", "DELETE"), ("1", "", "DELETE")), tup)
    assert tup.bank == BANK


@pytest.mark.parametrize(
    "bad",
    [
        "ADD Ann moved to Bergen",  # not JSON
        ops(("9", "Ann lives in Bergen", "UPDATE")),  # an id that was not shown
        ops(("0", "Ann lives in Bergen", "MOVE")),  # not an operation
        ops(("0", "x", "DELETE"), ("0", "Ann lives in Bergen", "UPDATE")),  # two ops on one id
    ],
)
def test_unparseable_manager_output_scores_zero_and_is_counted(
    reward: ManagerReward, agent: FrozenAgent, bad: str
) -> None:
    logged: dict[str, float] = {}
    tup = state().model_dump_json()
    good = ops(("0", "Ann moved to Bergen", "UPDATE"))
    scores = reward(
        completions=[bad, good], manager_tuple=[tup, tup], log_metric=logged.__setitem__
    )
    assert scores == [0.0, 1.0]
    assert (reward.stats.scored, reward.stats.unparseable) == (2, 1)
    assert logged == {"manager_exact_match/unparseable": 0.5}
    assert len(agent.prompts) == 1  # the frozen agent never saw the unparseable one


def test_the_reward_is_the_mean_over_linked_questions(reward: ManagerReward) -> None:
    chess = LinkedQA(qa_id="s1/q1", question="What does Bo play?", gold="chess", category=4)
    tup = state(QUESTION, chess)  # the scripted agent says "Bergen" to both
    assert reward.score(ops(("0", "Ann lives in Bergen", "UPDATE")), tup) == 0.5


def test_identical_banks_are_answered_once(reward: ManagerReward, agent: FrozenAgent) -> None:
    keep = ops(("0", "", "NONE"))
    tup = state().model_dump_json()
    reward(completions=[keep, keep, "{}", ops(("1", "", "NONE"))], manager_tuple=[tup] * 4)
    assert len(agent.prompts) == 1


def test_a_frozen_agent_without_a_valid_answer_is_counted() -> None:
    mute = FunctionLLM(lambda messages, info: "I do not know")  # never writes **Answer:**
    reward = ManagerReward(mute, HashingEmbedder(dim=64))
    assert reward.score(ops(("0", "Ann lives in Bergen", "UPDATE")), state()) == 0.0
    assert reward.stats.answer_failures == 1
    assert len(mute.calls) == 3  # the first try and the pipeline's two re-asks


def test_f1_is_an_option_for_the_manager_too(agent: FrozenAgent) -> None:
    reward = ManagerReward(FunctionLLM(agent), HashingEmbedder(dim=64), metric="f1")
    gold = LinkedQA(qa_id="s1/q0", question="Where does Ann live?", gold="Bergen, Norway",
                    category=4)  # fmt: skip
    assert reward.score(ops(("0", "Ann lives in Bergen", "UPDATE")), state(gold)) == (
        pytest.approx(2 / 3)
    )
