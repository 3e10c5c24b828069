"""A count of things one process does at once (requests waiting for a picture, open event
streams), so that they can never take all of its threads from the rest of the site."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class ProcessSlots:
    """At most `limit()` slots taken at once in this process (read at each call, so settings
    and tests may change it); taking one never blocks."""

    def __init__(self, limit: Callable[[], int]):
        self._limit = limit
        self._lock = threading.Lock()
        self.taken = 0

    def limit(self) -> int:
        return max(1, self._limit())

    def acquire(self) -> bool:
        """Take a slot if one is free."""
        with self._lock:
            if self.taken >= self.limit():
                return False
            self.taken += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.taken -= 1

    @contextmanager
    def slot(self) -> Iterator[bool]:
        """True inside when a slot was free; it is given back on the way out."""
        taken = self.acquire()
        try:
            yield taken
        finally:
            if taken:
                self.release()
