"""The one small protocol every LLM backend implements.

Messages in; text, token usage and latency out; sync and async. ``json_schema`` asks the
backend for output of that JSON schema: API backends pass it as JSON mode / response
schema where the provider supports it, local backends enforce it with constrained decoding.
Callers always validate the text themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypedDict, runtime_checkable

from pydantic import BaseModel, ConfigDict

__all__ = ["LLM", "LLMResponse", "Message", "Usage"]


class Message(TypedDict):
    """One chat message: ``{"role": "system" | "user" | "assistant", "content": str}``."""

    role: str
    content: str


class Usage(BaseModel):
    """Tokens and time spent by one or more LLM calls."""

    model_config = ConfigDict(frozen=True)

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            calls=self.calls + other.calls,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            latency_s=self.latency_s + other.latency_s,
        )


class LLMResponse(BaseModel):
    """One completion."""

    model_config = ConfigDict(frozen=True)

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    model: str = ""
    truncated: bool = False  # stopped by max_tokens rather than by the model

    @property
    def usage(self) -> Usage:
        """This call as a ``Usage``."""
        return Usage(
            calls=1,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            latency_s=self.latency_s,
        )


@runtime_checkable
class LLM(Protocol):
    """A chat model. Implementations: openai, litellm, transformers (hf/gguf), and the fakes
    in ``memory_r1.testing``."""

    @property
    def name(self) -> str:
        """A readable identifier such as ``"litellm:openai/gpt-4o-mini"``."""
        ...

    def complete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        pattern: str | None = None,
    ) -> LLMResponse:
        """Complete the conversation; never mutates ``messages``.

        ``json_schema`` asks for JSON of that schema; ``pattern`` for text matching that
        regular expression as a whole (local models enforce it with constrained decoding;
        API models only see the prompt's instructions). At most one of the two is given.
        """
        ...

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        pattern: str | None = None,
    ) -> LLMResponse:
        """Async twin of ``complete``."""
        ...
