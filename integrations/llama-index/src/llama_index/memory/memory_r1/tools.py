"""Agent tools: let the model store and look up memories itself."""

from __future__ import annotations

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.tools import FunctionTool
from memory_r1 import AddResult, AsyncMemory, InvalidInputError

from llama_index.memory.memory_r1._settings import RecallSettings, render

__all__ = ["memory_tools"]

REMEMBER = (
    "Store a fact about the user in long-term memory, as one short self-contained sentence. "
    "The Memory Manager merges it with what is already known (add, update or delete)."
)
RECALL = "Look up long-term memories relevant to a query; returns one memory per line."


def memory_tools(
    bank: AsyncMemory,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    top_k: int = 5,
    distill: bool = False,
    infer: bool = True,
) -> list[FunctionTool]:
    """Two tools bound to one scope: ``remember(fact)`` and ``recall(query)``.

    Both are async-native (llama-index derives their sync versions). ``remember`` runs the
    Memory Manager on the fact (``infer=False`` stores it as given) and reports what changed;
    ``recall`` returns the ``top_k`` closest memories, or with ``distill=True`` the ones the
    Answer Agent selects.

    Raises:
        TypeError: ``bank`` is not an ``AsyncMemory``.
        pydantic.ValidationError: no scope, or ``top_k`` < 1.

    Example:
        >>> from memory_r1 import AsyncMemory
        >>> bank = AsyncMemory(embedder="hashing")
        >>> remember, recall = memory_tools(bank, user_id="alice", infer=False)
        >>> remember.call(fact="Alice is allergic to peanuts").content
        'Remembered: ADD "Alice is allergic to peanuts"'
        >>> recall.call(query="allergies").content  # doctest: +ELLIPSIS
        '- [...] Alice is allergic to peanuts'
        >>> bank.close()
    """
    settings = RecallSettings(
        bank=bank,
        user_id=user_id,
        agent_id=agent_id,
        run_id=run_id,
        top_k=top_k,
        distill=distill,
        infer=infer,
        roles=("user",),
    )

    async def remember(fact: str) -> str:
        """Store a fact.

        Args:
            fact: one short, self-contained sentence, e.g. "Alice is allergic to peanuts".
        """
        result = await settings.remember([ChatMessage(role=MessageRole.USER, content=fact)])
        if result is None:
            raise InvalidInputError("fact must be a non-empty sentence")
        return _report(result)

    async def recall(query: str) -> str:
        """Look up memories.

        Args:
            query: what to look for, e.g. "allergies" or "Where does Alice live?".
        """
        return render(await settings.recall(query)) or "No memories found."

    return [
        FunctionTool.from_defaults(async_fn=remember, name="remember", description=REMEMBER),
        FunctionTool.from_defaults(async_fn=recall, name="recall", description=RECALL),
    ]


def _report(result: AddResult) -> str:
    """What a write changed, in words the model can read."""
    changes = [
        f'{e.event.value} "{e.text}"'
        + (f' (was "{e.old_text}")' if e.old_text and e.old_text != e.text else "")
        for e in result.events
    ]
    return "Remembered: " + "; ".join(changes) if changes else "Already known; nothing changed."
