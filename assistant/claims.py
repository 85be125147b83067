"""The sentences of an answer and the ``[n]`` markers they carry: which claims cite which
passage, and which sentence of a passage backs them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.questions import content_words
from index.chunking import sentence_spans

MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
LEADING_MARKERS = re.compile(r"^(?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+")


@dataclass
class Unit:
    """One sentence of the answer: its text without markers and the passages it cites."""

    body: str
    cited: list[int]
    gap: str  # what separated it from the previous sentence: " " or line breaks


def answer_units(text: str) -> list[Unit]:
    """The sentences of ``text``; markers that open a sentence belong to the one before."""
    units: list[Unit] = []
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
            units.append(Unit(body, cited, "\n" * min(gap.count("\n"), 2) or " "))
        elif units:
            units[-1].cited.extend(cited)
    return units


def cited_claims(text: str) -> dict[int, list[str]]:
    """Each ``[n]`` of an answer with the sentences (markers removed) that cite it.

    >>> cited_claims("Rain fell [1]. It flooded the road [1][2].")
    {1: ['Rain fell.', 'It flooded the road.'], 2: ['It flooded the road.']}
    """
    claims: dict[int, list[str]] = {}
    for unit in answer_units(text):
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
