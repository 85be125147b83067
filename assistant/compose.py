"""Writing an answer from scored units: which units it quotes, in what order, and how each
kind of question lays them out (a fact's best units; one lead per story for a summary; each
side's own statement for a comparison; dated units in date order for a timeline). Every
quoted unit is verbatim and carries the ``[n]`` of its passage."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from assistant.candidates import Unit
from assistant.parse import Question
from assistant.questions import content_words, fold, holds_kind, mentions
from assistant.records import Answer, Citation
from index.records import Hit

MAX_UNITS = 4
REDUNDANT_COSINE = 0.9
KEEP_RATIO = 0.5  # a unit joins the answer if its probability is this share of the best's
STORIES = 4  # stories a summary or timeline covers


@dataclass(frozen=True)
class Scored:
    """The units of a question's passages with their vectors and the probability that each
    holds the answer."""

    units: tuple[Unit, ...]
    vectors: np.ndarray
    probs: np.ndarray
    cosines: np.ndarray  # each unit against the question (its topic, for "what did X say")


def select(
    found: Scored, max_words: int, lead: int | None = None, allowed: np.ndarray | None = None
) -> list[Unit]:
    """Best units first (``units[lead]`` before all), skipping near-repeats, while they score
    within KEEP_RATIO of the best and the word budget (lead-ins counted) lasts."""
    probs = found.probs if allowed is None else np.where(allowed, found.probs, -np.inf)
    order = [int(i) for i in np.argsort(-probs) if np.isfinite(probs[i])]
    if lead is not None:
        order = [lead, *(i for i in order if i != lead)]
    if not order:
        return []
    best = float(probs[order[0]])
    chosen: list[int] = []
    picked: dict[int, Unit] = {}
    articles: set[str] = set()
    words = 0
    for i in order:
        if chosen and (len(chosen) >= MAX_UNITS or probs[i] < KEEP_RATIO * best):
            break
        if any(float(found.vectors[i] @ found.vectors[j]) > REDUNDANT_COSINE for j in chosen):
            continue
        unit, length = _sized(found.units[i], articles, words, max_words)
        over = words + length > max_words
        if over and (chosen or (lead is None and _fits(found, order, max_words))):
            continue  # a shorter unit may still fit
        chosen.append(i)
        picked[i] = unit
        articles.add(unit.hit.chunk.article_id)
        words += length
    return [picked[i] for i in chosen]


def _sized(unit: Unit, articles: set[str], words: int, max_words: int) -> tuple[Unit, int]:
    """``unit`` and the words it adds to an answer of ``words`` so far (its lead-in counted when
    its article is new); a joined unit that would overflow is quoted alone, naming its speaker,
    when that fits."""
    head = 0
    if unit.hit.chunk.article_id not in articles:
        head = len(lead_in(unit.hit, first=not articles).split())
    length = head + len(unit.text.split())
    if unit.joined and words + length > max_words:
        alone = unit.alone()
        if words + head + len(alone.text.split()) + 3 <= max_words:
            return alone, head + len(alone.text.split()) + 3
    return unit, length


def _fits(found: Scored, order: Sequence[int], max_words: int) -> bool:
    """Whether some unit of ``order`` scoring within KEEP_RATIO of the best fits the budget."""
    best = float(found.probs[order[0]])
    return any(
        len(found.units[i].text.split()) + 6 <= max_words
        for i in order
        if found.probs[i] >= KEEP_RATIO * best
    )


def per_story(found: Scored, max_words: int, earliest: bool) -> list[Unit]:
    """One unit per article, articles in the order their passages were found: its lead (the
    earliest unit of the article retrieved) or its best-scoring unit."""
    best: dict[str, int] = {}
    for i, u in enumerate(found.units):
        key = u.hit.chunk.article_id
        j = best.get(key)
        if j is None:
            best[key] = i
            continue
        other = found.units[j]
        if earliest:
            better = (u.hit.chunk.index, u.order) < (other.hit.chunk.index, other.order)
        else:
            better = found.probs[i] > found.probs[j]
        if better:
            best[key] = i
    picks = sorted(best.values(), key=lambda i: found.units[i].hit.rank)[:STORIES]
    out: list[Unit] = []
    words = 0
    for i in picks:
        length = len(found.units[i].text.split()) + 6
        if out and words + length > max_words * 1.5:
            break
        out.append(found.units[i])
        words += length
    return out


def compose(
    question: str, chosen: Sequence[Unit], hits: Sequence[Hit], lead: Unit | None
) -> Answer:
    """Group units by article, the article of the first unit first, each group led by where
    it comes from and read in article order; ``lead`` opens the answer."""
    rank: dict[str, int] = {}
    for u in chosen:
        rank.setdefault(u.hit.chunk.article_id, len(rank))
    ordered = sorted(chosen, key=lambda u: (rank[u.hit.chunk.article_id], u is not lead, u.start))
    writer = _Writer()
    current: str | None = None
    for u in ordered:
        if u.hit.chunk.article_id != current:
            writer.parts.append(lead_in(u.hit, first=current is None))
            current = u.hit.chunk.article_id
        writer.quote(u)
    return writer.answer(question, hits)


def compose_stories(question: str, chosen: Sequence[Unit], hits: Sequence[Hit]) -> Answer:
    """One paragraph per story (a summary or broad question), in the order given."""
    writer = _Writer()
    for n, u in enumerate(chosen):
        writer.parts.append(("" if n == 0 else "\n") + lead_in(u.hit, first=True))
        writer.quote(u)
    return writer.answer(question, hits)


def compose_timeline(question: str, chosen: Sequence[Unit], hits: Sequence[Hit]) -> Answer:
    """The units in date order (their article's date), each opened by its date."""
    ordered = sorted(chosen, key=lambda u: (u.hit.chunk.published or "9999", u.start))
    writer = _Writer()
    for n, u in enumerate(ordered):
        when = _day(u.hit.chunk.published) or "Undated"
        who = u.hit.chunk.source or f"\u201c{u.hit.chunk.title}\u201d"
        writer.parts.append(("" if n == 0 else "\n") + f"{when} \u2014 {who}:")
        writer.quote(u)
    return writer.answer(question, hits)


def compose_sides(question: str, sides: Sequence[tuple[str, Unit]], hits: Sequence[Hit]) -> Answer:
    """Each side's own statement, labelled with the side ("On A:")."""
    writer = _Writer()
    for n, (side, u) in enumerate(sides):
        writer.parts.append(("" if n == 0 else "\n") + f"On {side}: " + lead_in(u.hit, first=True))
        writer.quote(u)
    return writer.answer(question, hits)


def dated(found: Scored) -> np.ndarray:
    """Which units can be placed in time: their article is dated, or they hold a date."""
    return np.array(
        [bool(u.hit.chunk.published) or holds_kind(u.text, "date", "") for u in found.units]
    )


def side_units(q: Question, found: Scored) -> list[tuple[str, Unit]]:
    """For each side of a comparison, its best unit spoken by or naming it."""
    out = []
    used: set[int] = set()
    for side in q.sides:
        stems = {w for w in content_words(side)}
        ok = [
            i
            for i, u in enumerate(found.units)
            if i not in used
            and stems
            and any(mentions(fold(f"{u.speaker or ''} {u.text}"), s) for s in stems)
        ]
        if ok:
            best = max(ok, key=lambda i: float(found.probs[i]))
            used.add(best)
            out.append((side, found.units[best]))
    return out


class _Writer:
    """Parts of an answer, and the citations numbered as they first appear."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.numbers: dict[str, int] = {}
        self.citations: list[Citation] = []

    def quote(self, u: Unit) -> None:
        if u.hit.chunk.id not in self.numbers:
            self.numbers[u.hit.chunk.id] = len(self.numbers) + 1
            self.citations.append(Citation.from_hit(self.numbers[u.hit.chunk.id], u.hit))
        if u.speaker and not u.joined and _leans_on_speaker(u.text, u.speaker):
            self.parts.append(f"({u.speaker}:)")
        self.parts.append(f"{u.text} [{self.numbers[u.hit.chunk.id]}]")

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        text = re.sub(r" ?\n ?", "\n", " ".join(self.parts))
        return Answer(question, text, False, tuple(self.citations), tuple(hits))


_PRONOUN_START = re.compile(r"^[\"'\u201c\u2018]?(?:he|she|they)\b", re.IGNORECASE)


def _leans_on_speaker(text: str, speaker: str) -> bool:
    """A unit that opens with "He"/"She" and does not name its speaker gets the name."""
    return bool(_PRONOUN_START.search(text)) and not any(
        mentions(fold(text), w) for w in content_words(speaker)
    )


def lead_in(hit: Hit, first: bool = True) -> str:
    """Where a unit comes from: "According to The Harbour Ledger (14 Jan 2026):" for the first
    article of an answer, "The Harbour Ledger (14 Jan 2026) adds:" for the next ones."""
    chunk = hit.chunk
    who = chunk.source or f"\u201c{chunk.title}\u201d"
    when = _day(chunk.published)
    where = f"{who} ({when})" if when else who
    return f"According to {where}:" if first else f"{where} adds:"


def _day(published: str | None) -> str | None:
    """ "2026-01-14" -> "14 Jan 2026"; other strings unchanged."""
    if not published:
        return None
    try:
        day = date.fromisoformat(published[:10])
    except ValueError:
        return published
    return f"{day.day} {day:%b %Y}"
