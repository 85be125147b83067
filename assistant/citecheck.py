"""Checking the citations of a generated answer: ``[n]`` markers outside the passages are
dropped, the cited passages renumbered 1..m by first appearance, and every sentence checked
against the passages it cites."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.claims import Unit, answer_units
from assistant.questions import content_words
from assistant.records import Citation
from index.chunking import sentence_spans
from index.embeddings import Embedder
from index.records import Hit

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Words about the answer itself, not claims: "According to the passages, ..."
META_WORDS = frozenset(
    "according answer question passage article text source information provided based "
    "mention mentioned state stated report reported".split()
)
MIN_OVERLAP = 0.6  # share of a sentence's content words found in its passages
MIN_COSINE = 0.7  # a paraphrase: close to one sentence of the passages ...
MIN_OVERLAP_WITH_COSINE = 0.3  # ... and still sharing some words with them


@dataclass(frozen=True)
class CheckedAnswer:
    """An answer's text with renumbered markers, its citations, and what failed the check.

    ``unsupported``: sentences (without markers, as they appear in ``text``) that cite nothing
    or that their passages do not back; ``backed``: sentences that cite passages backing them.
    ``dropped``: marker numbers that named no passage.
    """

    text: str
    citations: tuple[Citation, ...]
    unsupported: tuple[str, ...]
    backed: tuple[str, ...]
    dropped: tuple[int, ...]


class CitationChecker:
    """Checks a generated answer against the passages it was written from.

    A sentence is backed when every number in it appears in its cited passages and most of its
    content words do, or, for a paraphrase, when it is close (cosine) to one of their sentences.

    >>> checker = CitationChecker(embedder)
    >>> checker.check("The jackpot was shared by forty workers [2].", hits).citations[0].n
    1
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        min_overlap: float = MIN_OVERLAP,
        min_cosine: float = MIN_COSINE,
    ) -> None:
        self.embedder = embedder
        self.min_overlap = min_overlap
        self.min_cosine = min_cosine

    def check(self, text: str, hits: Sequence[Hit]) -> CheckedAnswer:
        """``text`` (with ``[n]`` markers into ``hits``, 1-based) checked and renumbered."""
        units = answer_units(text)
        dropped = tuple(n for u in units for n in u.cited if not 1 <= n <= len(hits))
        numbers = _renumber(units, len(hits))
        citations = tuple(Citation.from_hit(new, hits[old - 1]) for old, new in numbers.items())
        verdicts = [(u, self.backed(u.body, [hits[n - 1] for n in u.cited])) for u in units]
        unsupported = tuple(u.body for u, ok in verdicts if not ok)
        backed = tuple(u.body for u, ok in verdicts if ok and u.cited)
        return CheckedAnswer(_rejoin(units, numbers), citations, unsupported, backed, dropped)

    def backed(self, sentence: str, passages: Sequence[Hit]) -> bool:
        """Whether ``passages`` back ``sentence``; a sentence that claims nothing needs none."""
        words = content_words(sentence) - META_WORDS
        if not words:
            return True
        if not passages:
            return False
        source = "\n".join(_passage_text(h) for h in passages)
        if not _numbers(sentence) <= _numbers(source):
            return False
        overlap = len(words & content_words(source)) / len(words)
        if overlap >= self.min_overlap:
            return True
        if self.embedder is None or overlap < MIN_OVERLAP_WITH_COSINE:
            return False
        return self._closest(sentence, passages) >= self.min_cosine

    def _closest(self, sentence: str, passages: Sequence[Hit]) -> float:
        """The highest cosine between ``sentence`` and a sentence of ``passages``."""
        assert self.embedder is not None
        pieces = [h.chunk.text[a:b] for h in passages for a, b in sentence_spans(h.chunk.text)]
        if not pieces:
            return 0.0
        vectors = self.embedder.embed_documents(pieces)
        return float(np.max(vectors @ self.embedder.embed_query(sentence)))


def _renumber(units: Sequence[Unit], n_hits: int) -> dict[int, int]:
    """Each unit's markers kept to the passages there are, once each; returns the marker in
    the model's text -> its number in the answer, in order of first citation."""
    numbers: dict[int, int] = {}
    for unit in units:
        unit.cited = list(dict.fromkeys(n for n in unit.cited if 1 <= n <= n_hits))
        for n in unit.cited:
            numbers.setdefault(n, len(numbers) + 1)
    return numbers


def _rejoin(units: Sequence[Unit], numbers: dict[int, int]) -> str:
    """The answer text again, each unit followed by its renumbered markers."""
    parts = []
    for i, unit in enumerate(units):
        markers = "".join(f"[{m}]" for m in sorted(numbers[n] for n in unit.cited))
        parts.append((unit.gap if i else "") + unit.body + (f" {markers}" if markers else ""))
    return "".join(parts)


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in NUMBER.findall(text)}


def _passage_text(hit: Hit) -> str:
    c = hit.chunk
    return "\n".join(x for x in (c.title, c.source, c.published, c.text) if x)
