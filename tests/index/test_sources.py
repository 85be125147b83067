"""Source names as typed, matched to the index's names; the refusal text of empty filters."""

from datetime import date

import pytest

from index.retrieval import SearchFilters
from index.sources import match_filters, match_sources, nothing_matches, source_key

KNOWN = ["The Harbour Ledger", "Northgate Gazette", "The Meridian Post", "Continental Wire"]


@pytest.mark.parametrize(
    "typed",
    [
        "The Harbour Ledger",
        "Harbour Ledger",
        "harbour ledger",
        "THE HARBOUR LEDGER",
        "Harbour-Ledger.",
    ],
)
def test_names_match_without_case_punctuation_or_a_leading_article(typed: str) -> None:
    match = match_sources([typed], KNOWN)
    assert match.sources == ("The Harbour Ledger",) and match.unknown == () and match.notices == ()


def test_a_leading_article_alone_is_a_name() -> None:
    assert source_key("The") == "the" and source_key("A Wire") == "wire"
    assert match_sources(["an example"], ["Example"]).sources == ("Example",)


def test_an_unknown_source_is_kept_with_a_notice_naming_the_closest() -> None:
    match = match_sources(["No Such Paper", "Meridian Paper"], KNOWN)
    assert match.sources == ("No Such Paper", "Meridian Paper")  # the filter finds nothing
    assert match.unknown == ("No Such Paper", "Meridian Paper")
    assert match.notices[1] == (
        "No source in the index is named 'Meridian Paper' — the closest: 'The Meridian Post' "
        "('newsrag stats' lists them all)."
    )
    assert match.notices[0].startswith("No source in the index is named 'No Such Paper' — ")
    assert "'newsrag stats' lists them all" in match.notices[0]
    assert match_sources(["Gazette"], []).notices == (
        "No source is named 'Gazette': the index has no article with a source.",
    )


def test_filters_keep_their_dates_and_get_the_index_names() -> None:
    filters = SearchFilters.build(["harbour ledger"], "2026-01-01")
    matched, notices = match_filters(filters, KNOWN)
    assert matched == SearchFilters(("The Harbour Ledger",), date(2026, 1, 1)) and notices == ()
    assert match_filters(None, KNOWN) == (None, ())


def test_the_refusal_of_empty_filters_names_them() -> None:
    assert nothing_matches(SearchFilters.build(["X"], "2026-05-01")) == (
        "No article matches source 'X' and since 2026-05-01; widen the filters."
    )
    assert nothing_matches(SearchFilters.build(["A", "B"], None, "2025-01-31")) == (
        "No article matches sources 'A' or 'B' and until 2025-01-31; widen the filters."
    )
