"""Fakes for tests — ours and our users': scripted LLM replies and a model-free embedder.

They are real implementations of the protocols, so a test that uses them runs every code
path of the library except the model itself. Nothing here touches the network.

Example:
    >>> from memory_r1.testing import ScriptedLLM
    >>> llm = ScriptedLLM(['{"facts": ["Alice lives in Lisbon"]}'])
    >>> llm.complete([{"role": "user", "content": "hi"}]).text
    '{"facts": ["Alice lives in Lisbon"]}'
"""

from memory_r1.embeddings.hashing import HashingEmbedder
from memory_r1.llms.function import CallInfo, FunctionLLM, ScriptedCall, ScriptedLLM

__all__ = ["CallInfo", "FunctionLLM", "HashingEmbedder", "ScriptedCall", "ScriptedLLM"]
