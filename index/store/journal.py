"""The write journal of an index (its generation, whether a write is under way, the articles
that write is committing) and the gate that lets a process reopen its client between calls."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

SCHEMA_VERSION = 1


class Gate:
    """Any number of calls at once, or one reopen of the client with no call under way."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._calls = 0
        self._reopening = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._reopening)
            self._calls += 1
        try:
            yield
        finally:
            with self._cond:
                self._calls -= 1
                self._cond.notify_all()

    @contextmanager
    def alone(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._reopening)
            self._reopening = True
            self._cond.wait_for(lambda: self._calls == 0)
        try:
            yield
        finally:
            with self._cond:
                self._reopening = False
                self._cond.notify_all()


def first_generation() -> int:
    """Where a new index's write generation starts: the time in microseconds, so an index
    dropped and built again (perhaps by another machine sharing a Chroma server) never reuses a
    generation that a keyword index elsewhere still records."""
    return time.time_ns() // 1000


@dataclass(frozen=True)
class WriteState:
    """The write journal of an index: its generation, whether a write is under way (or died
    under way), and the articles that write was committing."""

    generation: int
    writing: bool = False
    pending: tuple[str, ...] = ()

    @property
    def uncommitted(self) -> frozenset[str]:
        """Articles whose passages may be half-written: readers leave them out."""
        return frozenset(self.pending) if self.writing else frozenset()

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any] | None) -> WriteState:
        """The journal as the articles collection's metadata records it."""
        meta = meta or {}
        pending = json.loads(str(meta.get("pending") or "[]"))
        return cls(int(meta.get("generation", 0)), bool(meta.get("writing", False)), tuple(pending))

    def as_metadata(self) -> dict[str, Any]:
        return {
            "newsrag_schema": SCHEMA_VERSION,
            "generation": self.generation,
            "writing": self.writing,
            "pending": json.dumps(list(self.pending)),
        }
