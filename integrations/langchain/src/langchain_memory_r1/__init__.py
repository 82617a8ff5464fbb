"""LangChain and LangGraph adapters for memory-r1 (Memory-R1, arXiv 2508.19828).

- ``MemoryR1Store``: a LangGraph ``BaseStore`` on a memory-r1 bank.
- ``create_manage_memory_tool`` / ``create_search_memory_tool``: the Memory Manager and the
  Answer Agent as agent tools.
- ``MemoryR1Retriever``: memory-r1's search as a LangChain retriever.
- ``AutoMemory``: recall before the model, remember after each exchange, no tool needed.
- ``LangChainEmbedder`` / ``MemoryR1Embeddings``: embeddings in both directions.

The public API is what ``__all__`` lists. Importing this package loads no model and makes
no network call.
"""

from langchain_memory_r1.auto import AutoMemory
from langchain_memory_r1.embeddings import LangChainEmbedder, MemoryR1Embeddings
from langchain_memory_r1.retriever import MemoryR1Retriever
from langchain_memory_r1.store import MemoryR1Store
from langchain_memory_r1.tools import create_manage_memory_tool, create_search_memory_tool

__version__ = "0.1.0"

__all__ = [
    "AutoMemory",
    "LangChainEmbedder",
    "MemoryR1Embeddings",
    "MemoryR1Retriever",
    "MemoryR1Store",
    "__version__",
    "create_manage_memory_tool",
    "create_search_memory_tool",
]
