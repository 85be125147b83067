"""What an answer may quote: the units of the retrieved passages. A unit is a sentence, or
several when a quotation runs across sentences (the quote is kept whole), or a sentence with
the one before it when it opens with a pronoun ("He said ...") and would not stand alone.
Headlines and subheadings in the text are never units."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.claims import MARKER
from assistant.questions import fold
from index.attribution import attribute
from index.chunking import sentence_spans
from index.records import Hit, Statement

MIN_WORDS = 5
MAX_JOINED = 4  # sentences one quotation may span before it is cut
_PRONOUN = re.compile(
    r"^[\"'\u201c\u2018]?(?:he|she|they|it|his|her|their|this|that|these|those|him|them)\b",
    re.IGNORECASE,
)
_SAID_BY_PRONOUN = re.compile(
    r"[,!?][\"'\u201d\u2019]\s+(?:he|she|they)\s+(?:said|added|says|told|wrote|warned)\b",
    re.IGNORECASE,
)
_QUESTION = re.compile(r"\?[\"'\u201d\u2019)\]]*$")
_ENDS = re.compile(r"[.!?:;\"'\u201d\u2019)\]]$")


@dataclass(frozen=True)
class Unit:
    """A quotable piece of a passage: ``hit.chunk.text`` holds ``text`` verbatim at
    ``start - hit.chunk.start`` (``start``/``end`` are offsets into the article)."""

    hit: Hit
    start: int
    end: int
    text: str
    speaker: str | None = None  # who speaks in it (index.attribution), if anyone
    before: str = ""  # the sentence before it in the passage
    order: int = 0  # its place among the passage's units
    joined: bool = False  # it carries the sentence before it (a pronoun opened it)
    quote: bool = False  # it holds a quotation
    own: int = 0  # where in ``text`` its own sentence starts (after the one it carries)

    def alone(self) -> Unit:
        """The unit without the sentence it carries (the answer then names its speaker)."""
        if not self.joined:
            return self
        return replace(
            self, start=self.start + self.own, text=self.text[self.own :], joined=False, own=0
        )


def units_of(hits: Sequence[Hit]) -> list[Unit]:
    """Each distinct unit of the passages once, credited to the best passage holding it (of
    two copies of a story, the one that names its source and date)."""
    found: dict[str, Unit] = {}
    for hit in hits:
        for unit in _passage_units(hit):
            key = " ".join(fold(unit.text).split())
            seen = found.get(key)
            if seen is None or _described(hit) > _described(seen.hit):
                found[key] = unit
    return list(found.values())


def _passage_units(hit: Hit) -> list[Unit]:
    chunk = hit.chunk
    speakers = {s.start: s for s in statements_of(hit)}
    spans = _joined_quotes(chunk.text, sentence_spans(chunk.text))
    units: list[Unit] = []
    previous: tuple[int, int] | None = None
    for start, end in spans:
        text = chunk.text[start:end]
        before = chunk.text[previous[0] : previous[1]] if previous else ""
        joined = False
        begin = start
        if previous and _needs_before(text) and not _heading(before):
            begin, joined = previous[0], True
        said = speakers.get(start + chunk.start)
        unit_text = chunk.text[begin:end]
        if _quotable(text) and not _heading(text):
            units.append(
                Unit(
                    hit,
                    begin + chunk.start,
                    end + chunk.start,
                    unit_text,
                    said.speaker if said else None,
                    "" if joined else before,
                    len(units),
                    joined,
                    _has_quote(text) or (said is not None and said.kind == "quote"),
                    start - begin,
                )
            )
        previous = (start, end)
    return units


def _joined_quotes(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` with the sentences of one quotation merged: a quote opened in one sentence
    and closed in a later one is one span (at most MAX_JOINED sentences)."""
    merged: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        start, end = spans[i]
        j = i
        while _open_quote(text[start:end]) and j + 1 < len(spans) and j - i + 1 < MAX_JOINED:
            j += 1
            end = spans[j][1]
        merged.append((start, end))
        i = j + 1
    return merged


def _open_quote(text: str) -> bool:
    """Whether ``text`` opens a quotation it does not close."""
    curly = text.count("\u201c") - text.count("\u201d")
    return curly > 0 or (curly == 0 and text.count('"') % 2 == 1)


def _has_quote(text: str) -> bool:
    return "\u201c" in text or text.count('"') >= 2


def _needs_before(text: str) -> bool:
    """Whether a sentence leans on the one before: it opens with a pronoun, or is a quote
    attributed to "he"/"she"."""
    return bool(_PRONOUN.search(text) or _SAID_BY_PRONOUN.search(text))


def _heading(text: str) -> bool:
    """A headline or subheading run into the text: short, no closing punctuation."""
    stripped = text.strip()
    return bool(stripped) and len(stripped.split()) <= 14 and _ENDS.search(stripped) is None


def _quotable(text: str) -> bool:
    """Long enough, not a question the article asks its readers, and holding nothing shaped
    like a citation marker (quoted, an article's "[9]" would pass for the answer's own)."""
    return (
        len(text.split()) >= MIN_WORDS
        and _QUESTION.search(text) is None
        and MARKER.search(text) is None
    )


def _described(hit: Hit) -> int:
    """How much an answer can say about where a passage comes from (source, date)."""
    return bool(hit.chunk.source) + bool(hit.chunk.published)


def statements_of(hit: Hit) -> tuple[Statement, ...]:
    """The passage's statements; an index built before speakers were recorded has none stored,
    so they are read from the passage alone (pronouns resolve only within it)."""
    chunk = hit.chunk
    if chunk.statements is not None:
        return chunk.statements
    return tuple(
        Statement(s.speaker, s.start + chunk.start, s.end + chunk.start, s.kind)
        for s in attribute(chunk.text)
    )
