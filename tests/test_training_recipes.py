"""The recipes' arguments (memory_r1.training.recipe) and the shipped configurations.

The recipes themselves run end to end in test_training_rl.py (they need the tiny model).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from memory_r1.exceptions import ConfigurationError
from memory_r1.training.recipe import default_locomo_path, parse_args

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "training" / "configs"


def recipe(name: str) -> ModuleType:
    """Import ``training/<name>.py`` (registered, so its dataclass annotations resolve)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "training" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ANSWER = recipe("train_answer_agent")
MANAGER = recipe("train_memory_manager")


def test_a_config_fills_common_then_section_then_flags_win() -> None:
    argv = ["--config", str(CONFIGS / "tiny-cpu.toml"), "--grpo.max-steps", "5",
            "--algo", "ppo", "--ppo.lora.r", "4", "--grpo.bf16", "false"]  # fmt: skip
    args = parse_args(ANSWER.Args, section="answer", argv=argv)
    assert (args.algo, args.policy, args.embedder, args.answer_k) == (
        "ppo",
        "smollm2",
        "hashing",
        5,
    )
    assert args.max_questions == 8 and args.output_dir == "runs/tiny/answer"  # [answer]
    assert args.grpo.max_steps == 5 and args.grpo.num_generations == 2  # flag, [common.grpo]
    assert args.grpo.learning_rate == 1e-6 and args.grpo.bf16 is False
    assert args.ppo.lora is not None and args.ppo.lora.r == 4  # a flag switches LoRA on
    assert args.grpo.lora is None
    manager = parse_args(MANAGER.Args, section="manager", argv=argv[:2])
    assert (manager.window, manager.max_tuples, manager.answer_llm) == (24, 4, "smollm2")


def test_without_a_config_the_defaults_are_the_papers() -> None:
    args = parse_args(MANAGER.Args, section="manager", argv=[])
    assert (args.grpo.learning_rate, args.ppo.actor_lr, args.ppo.critic_lr) == (1e-6, 1e-6, 1e-5)
    assert args.grpo.temperature == args.ppo.temperature == 1.0
    assert (args.grpo.max_prompt_length, args.grpo.max_completion_length) == (4096, 2048)
    assert args.answer_k == 30 and args.metric == "exact_match"


@pytest.mark.parametrize("config", ["paper-llama-3.1-8b.toml", "paper-qwen-2.5-7b.toml"])
def test_the_paper_configs_say_what_the_paper_says(config: str) -> None:
    argv = ["--config", str(CONFIGS / config)]
    answer = parse_args(ANSWER.Args, section="answer", argv=argv)
    manager = parse_args(MANAGER.Args, section="manager", argv=argv)
    for args in (answer, manager):
        g, p = args.grpo, args.ppo
        assert (g.learning_rate, p.actor_lr, p.critic_lr) == (1e-6, 1e-6, 1e-5)
        assert g.temperature == p.temperature == 1.0
        assert (g.max_prompt_length, g.max_completion_length) == (4096, 2048)
        assert (p.max_prompt_length, p.max_completion_length) == (4096, 2048)
        gpus = 4
        prompts = gpus * g.per_device_train_batch_size * g.gradient_accumulation_steps
        assert prompts / g.num_generations == 128 == p.rollout_batch_size
        assert g.per_device_train_batch_size == p.micro_batch_size == 2
        assert args.answer_k == 30 and args.metric == "exact_match"
        assert args.teacher == "litellm:openai/gpt-4o-mini" and args.dtype == "bfloat16"
    assert manager.answer_llm == f"hf:{answer.output_dir}"  # answer-first, as documented


def test_unknown_keys_and_bad_choices_are_errors(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[common]\npolicy = "x"\n[answer]\nmax_question = 3\n')
    with pytest.raises(ConfigurationError, match="max_question"):
        parse_args(ANSWER.Args, section="answer", argv=["--config", str(config)])
    config.write_text("[answer.grpo]\nnum_generation = 3\n")
    with pytest.raises(ConfigurationError, match=r"answer\.grpo.*num_generation"):
        parse_args(ANSWER.Args, section="answer", argv=["--config", str(config)])
    with pytest.raises(ConfigurationError, match="algo"):
        parse_args(ANSWER.Args, section="answer", argv=["--algo", "dpo"])
    with pytest.raises(SystemExit):
        parse_args(ANSWER.Args, section="answer", argv=["--no-such-flag", "1"])


def test_the_locomo_file_is_found_beside_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMORY_R1_LOCOMO", raising=False)
    assert default_locomo_path(ROOT) == ROOT.parent / "shared" / "data" / "locomo" / "locomo10.json"
    monkeypatch.setenv("MEMORY_R1_LOCOMO", "/data/locomo10.json")
    assert default_locomo_path(ROOT) == Path("/data/locomo10.json")


def test_the_public_surface_is_pinned_and_light_to_import() -> None:
    import ast
    import subprocess

    import memory_r1.training as training

    assert sorted(training.__all__) == [
        "AnswerReward", "AnswerTuple", "BankBuilder", "BankSnapshot", "GRPOArgs", "LinkedQA",
        "LoRAArgs", "ManagerReward", "ManagerTuple", "PPOArgs", "RewardStats", "TrainResult",
        "answer_rows", "answer_tuples", "linked_turns", "load_policy", "manager_rows",
        "manager_tuples", "save_policy", "train_grpo", "train_ppo",
    ]  # fmt: skip
    assert all(getattr(training, name).__doc__ for name in training.__all__)
    heavy = "import sys, memory_r1.training; print(sorted({m.split('.')[0] for m in sys.modules}))"
    loaded = subprocess.run(
        [sys.executable, "-c", heavy], capture_output=True, text=True, check=True
    )
    assert not {"torch", "trl", "transformers", "peft", "datasets"} & set(
        ast.literal_eval(loaded.stdout)
    )
