"""Checking the citations of a generated answer: ``[n]`` markers outside the passages are
dropped, the cited passages renumbered 1..m by first appearance, and every sentence checked
against the passages it cites."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.questions import content_words
from assistant.records import Citation
from index.chunking import sentence_spans
from index.embeddings import Embedder
from index.records import Hit

MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
LEADING_MARKERS = re.compile(r"^(?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+")
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


@dataclass
class _Unit:
    """One sentence of the answer: its text without markers and the passages it cites."""

    body: str
    cited: list[int]
    gap: str  # what separated it from the previous sentence: " " or line breaks


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
        units = _units(text)
        dropped = tuple(n for u in units for n in u.cited if not 1 <= n <= len(hits))
        numbers: dict[int, int] = {}  # marker in the model's text -> number in the answer
        for unit in units:
            unit.cited = list(dict.fromkeys(n for n in unit.cited if 1 <= n <= len(hits)))
            for n in unit.cited:
                numbers.setdefault(n, len(numbers) + 1)
        citations = tuple(Citation.from_hit(new, hits[old - 1]) for old, new in numbers.items())
        verdicts = [(u, self.backed(u.body, [hits[n - 1] for n in u.cited])) for u in units]
        unsupported = tuple(u.body for u, ok in verdicts if not ok)
        backed = tuple(u.body for u, ok in verdicts if ok and u.cited)
        parts = []
        for i, unit in enumerate(units):
            markers = "".join(f"[{m}]" for m in sorted(numbers[n] for n in unit.cited))
            parts.append((unit.gap if i else "") + unit.body + (f" {markers}" if markers else ""))
        return CheckedAnswer("".join(parts), citations, unsupported, backed, dropped)

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


def _units(text: str) -> list[_Unit]:
    """The sentences of ``text``; markers that open a sentence belong to the one before."""
    units: list[_Unit] = []
    end = 0
    for start, stop in sentence_spans(text):
        gap = text[end:start]
        piece = text[start:stop]
        end = stop
        lead = LEADING_MARKERS.match(piece)
        if lead and units:
            units[-1].cited.extend(_marker_numbers(lead.group()))
            piece = piece[lead.end() :]
        body = _tidy(MARKER.sub("", piece))
        cited = _marker_numbers(piece)
        if body:
            units.append(_Unit(body, cited, "\n" * min(gap.count("\n"), 2) or " "))
        elif units:
            units[-1].cited.extend(cited)
    return units


def cited_claims(text: str) -> dict[int, list[str]]:
    """Each ``[n]`` of an answer with the sentences (markers removed) that cite it.

    >>> cited_claims("Rain fell [1]. It flooded the road [1][2].")
    {1: ['Rain fell.', 'It flooded the road.'], 2: ['It flooded the road.']}
    """
    claims: dict[int, list[str]] = {}
    for unit in _units(text):
        for n in dict.fromkeys(unit.cited):
            claims.setdefault(n, []).append(unit.body)
    return claims


def backing_sentences(passage: str, claims: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) in ``passage`` of the sentence backing each of ``claims`` (the answer's
    sentences citing it, or a question): one the claim quotes verbatim, else the one with the
    most content words in common, for their number (none when no sentence shares any). In
    passage order, once each.

    >>> backing_sentences("Talks began. Rutte warned of an army. Fog.", ["Rutte warned of it."])
    [(13, 37)]
    """
    spans = sentence_spans(passage)
    found: set[tuple[int, int]] = set()
    for claim in claims:
        flat, words = " ".join(claim.split()), content_words(claim)
        best, best_score = None, 0.0
        for start, end in spans:
            sentence = passage[start:end]
            if " ".join(sentence.split()) in flat:  # the extractive answerer quotes verbatim
                score = 2.0
            else:  # Dice overlap of content words, so long and short sentences compare fairly
                own = content_words(sentence)
                score = 2 * len(own & words) / (len(own) + len(words)) if own else 0.0
            if score > best_score:
                best, best_score = (start, end), score
        if best is not None:
            found.add(best)
    return sorted(found)


def _marker_numbers(text: str) -> list[int]:
    return [int(n) for group in MARKER.findall(text) for n in re.split(r"\s*[,;]\s*", group)]


def _tidy(text: str) -> str:
    """Spaces left by removed markers closed up: "rain [1]." -> "rain."."""
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in NUMBER.findall(text)}


def _passage_text(hit: Hit) -> str:
    c = hit.chunk
    return "\n".join(x for x in (c.title, c.source, c.published, c.text) if x)
