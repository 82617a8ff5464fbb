"""A tiny progress line with rate and ETA for long evaluation work (no tqdm dependency).

Example:
    >>> import io
    >>> out = io.StringIO()
    >>> p = Progress(4, "answer", stream=out, every_s=0.0, clock=iter(range(10)).__next__)
    >>> p.advance(2)
    >>> out.getvalue().split("\\r")[-1]
    'answer 2/4 (50%) 2.0/s ETA 0:00:01'
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TextIO

__all__ = ["Progress", "format_eta"]


def format_eta(seconds: float) -> str:
    """``H:MM:SS``, rounded up to the second.

    Example:
        >>> format_eta(3725.2)
        '1:02:06'
    """
    return str(timedelta(seconds=int(-(-seconds // 1))))


class Progress:
    """Counts finished units and rewrites one stderr line with the rate and time left.

    Args:
        total: units to do.
        label: what is being done.
        stream: where to write (None: nowhere).
        every_s: the least time between two redraws.
        clock: seconds, monotonic (tests pass a fake).
    """

    def __init__(
        self,
        total: int,
        label: str,
        *,
        stream: TextIO | None = sys.stderr,
        every_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.label, self.stream = total, label, stream
        self.every_s, self.clock = every_s, clock
        self.done = 0
        self._start = clock()
        self._shown = float("-inf")
        self._open = False  # a line is drawn and not yet ended
        self._lock = threading.Lock()

    def line(self, now: float | None = None) -> str:
        """The progress line at ``now`` (default: the clock's time)."""
        elapsed = max((self.clock() if now is None else now) - self._start, 1e-9)
        rate = self.done / elapsed
        pct = 100 * self.done / self.total if self.total else 100.0
        eta = format_eta((self.total - self.done) / rate) if rate > 0 else "?"
        return f"{self.label} {self.done}/{self.total} ({pct:.0f}%) {rate:.1f}/s ETA {eta}"

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more finished units; redraw if ``every_s`` has passed or all are done."""
        with self._lock:
            self.done += n
            now = self.clock()
            if self.stream is None or (now - self._shown < self.every_s and self.done < self.total):
                return
            self._shown = now
            self.stream.write("\r" + self.line(now))
            self._open = self.done < self.total
            if not self._open:
                self.stream.write("\n")
            self.stream.flush()

    def break_line(self) -> None:
        """End the drawn line, so that other output starts on a line of its own."""
        with self._lock:
            if self._open and self.stream is not None:
                self.stream.write("\n")
                self.stream.flush()
            self._open = False
