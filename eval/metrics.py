"""Evaluation metrics as pure functions: normalised whole-word matching, passage relevance,
hit@k and MRR, answer and choice scoring, citation checks and percentiles."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.questions import fold

if TYPE_CHECKING:
    from assistant.records import Citation
    from eval.qa import QAItem

RANK_DEPTH = 10  # first_relevant_rank looks this deep; hit@10 and mrr@10 need no more

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
_MARKER = re.compile(r"\[\d+\]")  # the answerer's citation markers: "[1]", "[2]", ...


def normalize(text: str) -> str:
    """``text`` casefolded, without accents, with straight quotes and single spaces.

    >>> normalize("  Zo\u00eb   didn\u2019t ")
    "zoe didn't"
    """
    return " ".join(fold(text).translate(_QUOTES).split())


def _pattern(needle: str) -> re.Pattern[str]:
    """A regex for normalised ``needle`` as a whole word or phrase.

    Boundaries apply only on sides where the needle has a word character (so "$5" and "(a)" still
    match), and a number must not be part of a longer one: "5" is not in "15", "3.5" or "5,000".
    """
    before = after = ""
    if re.match(r"\w", needle):
        before = r"(?<!\w)(?<!\d[.,])" if needle[0].isdigit() else r"(?<!\w)"
    if re.search(r"\w$", needle):
        after = r"(?!\w)(?![.,]\d)" if needle[-1].isdigit() else r"(?!\w)"
    return re.compile(before + re.escape(needle) + after)


def _spans(haystack: str, needle: str) -> list[tuple[int, int]]:
    """Where normalised ``needle`` occurs as a whole word in normalised ``haystack``."""
    wanted = normalize(needle)
    if not wanted:
        return []
    return [m.span() for m in _pattern(wanted).finditer(haystack)]


def contains(haystack: str, needle: str) -> bool:
    """Whether ``needle`` occurs in ``haystack`` as whole words, after :func:`normalize`.

    >>> contains("Iranian officials", "Iran"), contains("the Iran talks", "IRAN")
    (False, True)
    """
    return bool(_spans(normalize(haystack), needle))


def strip_markers(answer_text: str) -> str:
    """``answer_text`` without its ``[n]`` citation markers, so "[5]" never counts as "5"."""
    return _MARKER.sub(" ", answer_text)


def is_relevant(passage: str, item: QAItem) -> bool:
    """Whether ``passage`` supports ``item``: it contains an evidence string if the item has
    any, else one of its gold answers."""
    needles = item.evidence or item.gold
    return any(contains(passage, needle) for needle in needles)


def first_relevant_rank(passages: Sequence[str], item: QAItem) -> int | None:
    """The 1-based rank of the first relevant passage among the top ``RANK_DEPTH``, or None."""
    for rank, passage in enumerate(passages[:RANK_DEPTH], start=1):
        if is_relevant(passage, item):
            return rank
    return None


def hit_at(ranks: Sequence[int | None], k: int) -> float | None:
    """The share of questions whose first relevant rank is at most ``k``; None if no ranks."""
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr_at(ranks: Sequence[int | None], k: int) -> float | None:
    """Mean reciprocal rank, counting ranks beyond ``k`` (or None) as 0; None if no ranks."""
    if not ranks:
        return None
    return sum(1 / r for r in ranks if r is not None and r <= k) / len(ranks)


def answer_hit(answer_text: str, item: QAItem, refused: bool = False) -> bool:
    """Whether the answer contains a gold answer or an evidence string (False if refused)."""
    if refused:
        return False
    text = strip_markers(answer_text)
    return any(contains(text, needle) for needle in (*item.gold, *item.evidence))


def chosen_choice(answer_text: str, choices: Sequence[str], refused: bool = False) -> str | None:
    """The choice the answer names: the one named most often, ties going to the earliest first
    mention. A mention inside a longer choice's mention ("Guinea" in "Papua New Guinea") counts
    only for the longer one. None if the answer names no choice or is a refusal.

    >>> chosen_choice("Venezuela [1], not Cuba. Venezuela again.", ["Cuba", "Venezuela"])
    'Venezuela'
    """
    if refused:
        return None
    text = normalize(strip_markers(answer_text))
    mentions = [(span, choice) for choice in choices for span in _spans(text, choice)]
    kept = [
        (span, choice)
        for span, choice in mentions
        if not any(_inside(span, other) for other, _ in mentions)
    ]
    if not kept:
        return None
    first: dict[str, int] = {}
    count: dict[str, int] = {}
    for (start, _), choice in sorted(kept):
        first.setdefault(choice, start)
        count[choice] = count.get(choice, 0) + 1
    return min(count, key=lambda choice: (-count[choice], first[choice]))


def _inside(span: tuple[int, int], other: tuple[int, int]) -> bool:
    """Whether ``span`` lies within ``other`` and is strictly shorter."""
    return other[0] <= span[0] and span[1] <= other[1] and span != other


def same_choice(a: str | None, b: str | None) -> bool:
    """Whether two choices are the same after :func:`normalize` (None equals nothing)."""
    return a is not None and b is not None and normalize(a) == normalize(b)


def citation_valid(citation: Citation, article_text: str) -> bool:
    """Whether the citation's passage is exactly ``article_text[start:end]``."""
    start, end = citation.start, citation.end
    return 0 <= start < end <= len(article_text) and article_text[start:end] == citation.passage


def word_count(answer_text: str) -> int:
    """Words in an answer: tokens with a letter or digit, not counting ``[n]`` markers."""
    return sum(
        1 for token in strip_markers(answer_text).split() if any(ch.isalnum() for ch in token)
    )


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation, as numpy's default; None if
    ``values`` is empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean, or None if ``values`` is empty."""
    return sum(values) / len(values) if values else None
