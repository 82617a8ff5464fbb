"""memory-r1: long-term memory for LLM agents that learns (Memory-R1, arXiv 2508.19828).

The public API is what ``__all__`` lists; everything else is private and may change.
Importing this package imports no model library and touches no network.
"""

from memory_r1._core.flows import AddRequest
from memory_r1._core.prompts import Prompts
from memory_r1.async_memory import AsyncMemory
from memory_r1.config import AgentConfig, MemoryConfig, StoreConfig
from memory_r1.embeddings import Embedder, HashingEmbedder, resolve_embedder
from memory_r1.exceptions import (
    BankLockedError,
    ConfigurationError,
    DimensionMismatchError,
    FilterError,
    InvalidInputError,
    LLMError,
    MemoryR1Error,
    MissingDependencyError,
    NotFoundError,
    PolicyOutputError,
    ScopeError,
    StorageError,
)
from memory_r1.llms import LLM, LLMResponse, Message, Usage, resolve_llm
from memory_r1.memory import Memory
from memory_r1.types import (
    AddResult,
    AnswerResult,
    EraseReport,
    HistoryOp,
    HistoryRecord,
    ManagerOp,
    MemoryEvent,
    MemoryItem,
    MemoryStatus,
    Page,
    Scope,
    ScoredMemory,
    TraceEvent,
)

__version__ = "0.1.0"

__all__ = [
    "LLM",
    "AddRequest",
    "AddResult",
    "AgentConfig",
    "AnswerResult",
    "AsyncMemory",
    "BankLockedError",
    "ConfigurationError",
    "DimensionMismatchError",
    "Embedder",
    "EraseReport",
    "FilterError",
    "HashingEmbedder",
    "HistoryOp",
    "HistoryRecord",
    "InvalidInputError",
    "LLMError",
    "LLMResponse",
    "ManagerOp",
    "Memory",
    "MemoryConfig",
    "MemoryEvent",
    "MemoryItem",
    "MemoryR1Error",
    "MemoryStatus",
    "Message",
    "MissingDependencyError",
    "NotFoundError",
    "Page",
    "PolicyOutputError",
    "Prompts",
    "Scope",
    "ScopeError",
    "ScoredMemory",
    "StorageError",
    "StoreConfig",
    "TraceEvent",
    "Usage",
    "__version__",
    "resolve_embedder",
    "resolve_llm",
]
