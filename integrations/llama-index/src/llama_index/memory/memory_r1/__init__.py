"""LlamaIndex memory for memory-r1 (Memory-R1, arXiv 2508.19828).

``MemoryR1Block`` plugs memory-r1 into llama-index's ``Memory`` as a memory block;
``MemoryR1Memory`` is a ``BaseMemory`` that sends every turn to the Memory Manager;
``MemoryR1Retriever`` returns memories as nodes; ``memory_tools`` gives an agent
``remember`` / ``recall`` tools. All of them take a ``memory_r1.AsyncMemory`` and a scope.
"""

from llama_index.memory.memory_r1.block import MemoryR1Block
from llama_index.memory.memory_r1.memory import MemoryR1Memory
from llama_index.memory.memory_r1.retriever import MemoryR1Retriever
from llama_index.memory.memory_r1.tools import memory_tools

__all__ = ["MemoryR1Block", "MemoryR1Memory", "MemoryR1Retriever", "memory_tools"]
