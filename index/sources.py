"""Source names as people type them, matched to the names in the index.

"harbour ledger", "The Harbour Ledger" and "Harbour Ledger." all name "The Harbour Ledger":
names compare without case, punctuation or a leading "The", "A" or "An". A name that matches
none is kept as typed (so the filter finds nothing, as asked) with a notice naming the
closest known ones.

>>> match_sources(["harbour ledger"], ["The Harbour Ledger", "Port Calder Gazette"]).sources
('The Harbour Ledger',)
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from index.retrieval import SearchFilters

LEADING_ARTICLES = ("the", "a", "an")
CLOSEST = 3  # known names a notice offers for an unknown one
_WORD = re.compile(r"\w+")


def source_key(name: str) -> str:
    """``name`` as compared: lower case, words only, without a leading article.

    >>> source_key("The Harbour-Ledger!")
    'harbour ledger'
    """
    words = _WORD.findall(name.casefold())
    if len(words) > 1 and words[0] in LEADING_ARTICLES:
        words = words[1:]
    return " ".join(words)


@dataclass(frozen=True)
class SourceMatch:
    """What typed source names came to: ``sources`` to filter on (the index's own names, an
    unknown name as typed), the ``unknown`` names, and a notice for each of them."""

    sources: tuple[str, ...]
    unknown: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()


def match_sources(wanted: Sequence[str], known: Iterable[str]) -> SourceMatch:
    """``wanted`` names matched to ``known`` ones (see :func:`source_key`); each unknown name
    is kept and gets a notice naming the closest known names (difflib)."""
    by_key: dict[str, list[str]] = {}
    for name in sorted(set(known)):
        by_key.setdefault(source_key(name), []).append(name)
    sources: list[str] = []
    unknown: list[str] = []
    notices: list[str] = []
    for name in wanted:
        found = by_key.get(source_key(name))
        if found:
            sources += [n for n in found if n not in sources]
            continue
        unknown.append(name)
        if name not in sources:
            sources.append(name)
        notices.append(unknown_source(name, by_key))
    return SourceMatch(tuple(sources), tuple(unknown), tuple(notices))


def unknown_source(name: str, by_key: dict[str, list[str]]) -> str:
    """The notice for a source the index does not hold, naming the closest ones it does."""
    if not by_key:
        return f"No source is named {name!r}: the index has no article with a source."
    close = difflib.get_close_matches(source_key(name), list(by_key), n=CLOSEST, cutoff=0.3)
    offered = [n for key in close for n in by_key[key]] or sorted(
        n for names in by_key.values() for n in names
    )[:CLOSEST]
    label = "the closest" if close else "sources it holds include"
    listed = ", ".join(repr(n) for n in offered)
    return (
        f"No source in the index is named {name!r} — {label}: {listed} "
        "('newsrag stats' lists them all)."
    )


def match_filters(
    filters: SearchFilters | None, known: Iterable[str]
) -> tuple[SearchFilters | None, tuple[str, ...]]:
    """``filters`` with their source names matched to ``known`` (see :func:`match_sources`),
    and the notices for names that match none."""
    if filters is None or not filters.sources:
        return filters, ()
    matched = match_sources(filters.sources, known)
    return replace(filters, sources=matched.sources), matched.notices


def nothing_matches(filters: SearchFilters) -> str:
    """What a refusal says when no article passes ``filters``:
    "No article matches source 'X' and since 2026-05-01; widen the filters."."""
    parts = []
    if filters.sources:
        names = " or ".join(repr(s) for s in filters.sources)
        parts.append(f"source{'s' if len(filters.sources) > 1 else ''} {names}")
    if filters.since:
        parts.append(f"since {filters.since}")
    if filters.until:
        parts.append(f"until {filters.until}")
    if filters.article_ids:
        parts.append("article " + " or ".join(repr(a) for a in filters.article_ids))
    return f"No article matches {' and '.join(parts)}; widen the filters."
