"""A local chat model run with Hugging Face transformers, with JSON-schema constrained decoding.

Needs the ``hf`` extra (torch, transformers, accelerate, gguf, xgrammar). Nothing heavy is
imported until a ``TransformersLLM`` is built.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memory_r1._lazy import require
from memory_r1.exceptions import ConfigurationError, InvalidInputError, LLMError
from memory_r1.llms._hf_loading import load_model, resolve_model_path, smollm2_gguf_path
from memory_r1.llms.base import LLMResponse, Message

__all__ = ["TransformersLLM", "smollm2_gguf_path"]


class TransformersLLM:
    """A chat model on a local transformers model directory or GGUF file.

    A GGUF file is converted once into a safetensors cache directory (see
    ``memory_r1.llms._hf_loading`` for where) and later loads read the cache (~0.4 s instead
    of ~12 s for SmolLM2-135M). With ``json_schema`` the output is constrained by an xgrammar
    grammar without free whitespace, so it parses and matches the schema unless it was cut off
    by the token budget, which ``LLMResponse.truncated`` reports. Generation is serialized by a
    lock: one ``generate`` at a time per instance.

    Args:
        path: a model directory, or a ``.gguf`` file.
        gguf_file: the GGUF file's name inside the directory ``path`` (implied by a file path).
        cache_dir: root of the GGUF safetensors cache; default ``$MEMORY_R1_CACHE/models`` or
            ``$XDG_CACHE_HOME/memory-r1/models`` (``~/.cache/memory-r1/models``).
        device: torch device, e.g. ``"cpu"`` or ``"cuda"``.
        dtype: torch dtype name, e.g. ``"float32"`` or ``"bfloat16"``.
        num_threads: torch intra-op threads (process-wide); None leaves torch's setting.
            One thread is the steadiest choice on a shared machine.
        max_new_tokens: completion budget when a call passes no ``max_tokens``.
        batch_size: prompts per padded ``generate`` in ``complete_batch``.

    Raises:
        ConfigurationError: the path does not exist, or the model cannot be loaded.
        MissingDependencyError: the ``hf`` extra is not installed.

    Example:
        >>> llm = TransformersLLM(smollm2_gguf_path())  # doctest: +SKIP
        >>> llm.complete([{"role": "user", "content": "Capital of France?"}]).text  # doctest: +SKIP
        'The capital of France is Paris.'
    """

    def __init__(
        self,
        path: str | Path,
        *,
        gguf_file: str | None = None,
        cache_dir: Path | None = None,
        device: str = "cpu",
        dtype: str = "float32",
        num_threads: int | None = 1,
        max_new_tokens: int = 512,
        batch_size: int = 4,
    ) -> None:
        if max_new_tokens < 1 or batch_size < 1:
            raise ConfigurationError("max_new_tokens and batch_size must be >= 1")
        directory, gguf = resolve_model_path(path, gguf_file)
        torch = require("torch", "hf")
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        loaded = load_model(directory, gguf, cache_root=cache_dir, device=device, dtype=dtype)
        self._model = loaded.model
        self._tokenizer = loaded.tokenizer
        if self._tokenizer.chat_template is None:
            raise ConfigurationError(f"the tokenizer of {directory} has no chat template")
        self._tokenizer.padding_side = "left"
        if self._tokenizer.pad_token_id is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        self._stop_ids = _stop_token_ids(self._model, self._tokenizer)
        self._name = f"transformers:{gguf or directory.name}"
        self._max_new_tokens = max_new_tokens
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._grammar_compiler: Any = None
        self._grammars: dict[tuple[str, str], Any] = {}
        self.source: Path = loaded.source
        """The directory the weights were loaded from (the safetensors cache for a GGUF)."""
        self.loaded_from_cache: bool = loaded.loaded_from_cache
        """True when a GGUF file was served from its existing safetensors cache."""
        self.load_time_s: float = loaded.load_time_s
        """Wall time the load took, GGUF conversion included."""

    @property
    def name(self) -> str:
        """``"transformers:<gguf file or model directory name>"``."""
        return self._name

    def complete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        pattern: str | None = None,
    ) -> LLMResponse:
        """Complete one conversation; greedy when ``temperature == 0``.

        Args:
            messages: the chat so far; not mutated.
            json_schema: constrain the output to compact JSON of this schema.
            pattern: constrain the output to match this regular expression (xgrammar's
                regex dialect); not together with ``json_schema``.
            max_tokens: completion budget; the constructor's ``max_new_tokens`` when None.
            temperature: 0 for greedy decoding, > 0 to sample.

        Returns:
            The completion; ``truncated`` is True when the budget cut it off.

        Raises:
            LLMError: generation failed.
            InvalidInputError: bad ``max_tokens``/``temperature``, or an uncompilable schema
                or pattern.
        """
        return self.complete_batch(
            [messages],
            json_schema=json_schema,
            max_tokens=max_tokens,
            temperature=temperature,
            pattern=pattern,
        )[0]

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        pattern: str | None = None,
    ) -> LLMResponse:
        """Async twin of ``complete``: runs it in a worker thread (the lock serializes calls)."""
        return await asyncio.to_thread(
            self.complete,
            messages,
            json_schema=json_schema,
            max_tokens=max_tokens,
            temperature=temperature,
            pattern=pattern,
        )

    def complete_batch(
        self,
        conversations: Sequence[Sequence[Message]],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        pattern: str | None = None,
    ) -> list[LLMResponse]:
        """Complete many conversations, ``batch_size`` at a time in left-padded batches.

        Args:
            conversations: one message list per completion; none is mutated.
            json_schema: constrain every output to compact JSON of this schema.
            pattern: constrain every output to match this regular expression.
            max_tokens: completion budget per conversation.
            temperature: 0 for greedy decoding, > 0 to sample.

        Returns:
            One response per conversation, in order. ``latency_s`` is the wall time of the
            batch the conversation was in.

        Raises:
            LLMError: generation failed.
            InvalidInputError: ``max_tokens`` < 1, ``temperature`` < 0, both a schema and a
                pattern, or a schema or pattern xgrammar cannot compile.
        """
        budget = self._max_new_tokens if max_tokens is None else max_tokens
        if budget < 1 or temperature < 0:
            raise InvalidInputError("max_tokens must be >= 1 and temperature >= 0")
        if json_schema is not None and pattern is not None:
            raise InvalidInputError("give json_schema or pattern, not both")
        constraint: tuple[str, str] | None = None
        if pattern is not None:
            constraint = ("regex", pattern)
        elif json_schema is not None:
            constraint = _schema_key(json_schema)
        responses: list[LLMResponse] = []
        for start in range(0, len(conversations), self._batch_size):
            chunk = conversations[start : start + self._batch_size]
            responses.extend(self._generate(chunk, constraint, budget, temperature))
        return responses

    def compile_schema(self, json_schema: dict[str, Any]) -> None:
        """Compile and cache the grammar of ``json_schema`` now rather than on first use.

        Args:
            json_schema: a JSON schema; compiled once per canonical form.

        Raises:
            InvalidInputError: xgrammar cannot compile the schema.
        """
        with self._lock:
            self._grammar(_schema_key(json_schema))

    def _grammar(self, constraint: tuple[str, str]) -> Any:
        kind, key = constraint
        if constraint not in self._grammars:
            xgr = require("xgrammar", "hf")
            if self._grammar_compiler is None:
                info = xgr.TokenizerInfo.from_huggingface(
                    self._tokenizer,
                    vocab_size=self._model.config.vocab_size,
                    stop_token_ids=sorted(self._stop_ids),
                )
                self._grammar_compiler = xgr.GrammarCompiler(info)
            try:
                # No free whitespace: given it, a small model pads with newlines until the
                # budget runs out. The fixed ", " / ": " separators (json.dumps style) are
                # what models write most; tight "," / ":" gave SmolLM2 twice the runaway
                # outputs on our manager prompts (2 vs 1 of 24).
                self._grammars[constraint] = (
                    self._grammar_compiler.compile_regex(key)
                    if kind == "regex"
                    else self._grammar_compiler.compile_json_schema(key, any_whitespace=False)
                )
            except (RuntimeError, ValueError) as exc:
                what = "pattern" if kind == "regex" else "JSON schema"
                raise InvalidInputError(f"xgrammar cannot compile the {what}: {exc}") from exc
        return self._grammars[constraint]

    def _generate(
        self,
        conversations: Sequence[Sequence[Message]],
        constraint: tuple[str, str] | None,
        budget: int,
        temperature: float,
    ) -> list[LLMResponse]:
        torch = require("torch", "hf")
        sampling: dict[str, Any] = (
            {"do_sample": True, "temperature": temperature}
            if temperature > 0
            else {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        )
        # The tokenizer is locked too: a fast tokenizer shared between threads can fail
        # with "Already borrowed" while another call changes its padding.
        with self._lock:
            processors = self._logits_processors(constraint)
            start = time.perf_counter()
            inputs = self._encode(conversations)
            try:
                with torch.inference_mode():
                    output = self._model.generate(
                        **inputs,
                        max_new_tokens=budget,
                        pad_token_id=self._tokenizer.pad_token_id,
                        eos_token_id=sorted(self._stop_ids),
                        logits_processor=processors,
                        **sampling,
                    )
            except (RuntimeError, ValueError, AssertionError) as exc:
                raise LLMError(f"{self._name}: generation failed: {exc}") from exc
            new_tokens = output[:, inputs["input_ids"].shape[1] :].tolist()
            prompt_lengths = inputs["attention_mask"].sum(dim=1).tolist()
            latency = time.perf_counter() - start
            return [
                self._response(tokens, int(n_prompt), latency)
                for tokens, n_prompt in zip(new_tokens, prompt_lengths, strict=True)
            ]

    def _encode(self, conversations: Sequence[Sequence[Message]]) -> Any:
        prompts = [
            self._tokenizer.apply_chat_template(
                [dict(m) for m in messages], add_generation_prompt=True, tokenize=False
            )
            for messages in conversations
        ]
        return self._tokenizer(
            prompts, return_tensors="pt", padding=True, add_special_tokens=False
        ).to(self._model.device)

    def _logits_processors(self, constraint: tuple[str, str] | None) -> Any:
        transformers = require("transformers", "hf")
        if constraint is None:
            return transformers.LogitsProcessorList()
        grammar = self._grammar(constraint)
        hf = require("xgrammar.contrib.hf", "hf")
        # One processor per generate: its matchers hold per-sequence parser state.
        return transformers.LogitsProcessorList([hf.LogitsProcessor(grammar)])

    def _response(self, tokens: list[int], prompt_tokens: int, latency: float) -> LLMResponse:
        stop = next((i for i, t in enumerate(tokens) if t in self._stop_ids), None)
        kept = tokens if stop is None else tokens[: stop + 1]
        text = self._tokenizer.decode(kept, skip_special_tokens=True)
        return LLMResponse(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(kept),
            latency_s=latency,
            model=self._name,
            truncated=stop is None,
        )


def _schema_key(json_schema: dict[str, Any]) -> tuple[str, str]:
    """The grammar-cache key of a schema; key order is kept, not sorted, because xgrammar
    emits properties in their declared order."""
    try:
        return ("schema", json.dumps(json_schema, separators=(",", ":")))
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"json_schema is not JSON-serializable: {exc}") from exc


def _stop_token_ids(model: Any, tokenizer: Any) -> frozenset[int]:
    eos = model.generation_config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    if not ids:
        raise ConfigurationError("the model defines no end-of-sequence token")
    return frozenset(ids)
