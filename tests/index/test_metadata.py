import pytest

from index.metadata import article_from_record, parse_date, source_from_url, stable_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-01-14", "2026-01-14"),
        ("2025/08/28", "2025-08-28"),
        ("14.01.2026", "2026-01-14"),
        ("March 5, 2026", "2026-03-05"),
        ("14 Feb 2026", "2026-02-14"),
        ("2025-09-18T14:30:00Z", "2025-09-18"),
        ("Tue, 13 Jan 2026 09:00:00 GMT", "2026-01-13"),
        ("not a date", None),
        ("", None),
    ],
)
def test_parse_date_any_common_format(raw: str, expected: str | None) -> None:
    assert parse_date(raw) == expected


def test_record_aliases_are_normalised() -> None:
    article, problems = article_from_record(
        {
            "doc_id": "x1",
            "title": " T ",
            "body": "Body text.\r\nMore.  ",
            "authors": ["A", "B"],
            "publish_date": "2025/08/28",
            "url": "https://www.example.com/a",
        },
        "f.jsonl",
        3,
    )
    assert problems == []
    assert article is not None
    assert (
        article.id,
        article.title,
        article.text,
        article.author,
        article.published,
        article.source,
        article.origin,
    ) == ("x1", "T", "Body text.\nMore.", "A, B", "2025-08-28", "example.com", "f.jsonl:3")


def test_id_is_derived_from_url_or_content_when_missing() -> None:
    with_url, _ = article_from_record({"title": "T", "text": "x", "url": "https://e.x/a"}, "f", 1)
    without, _ = article_from_record({"title": "T", "text": "x"}, "f", 1)
    assert with_url is not None and without is not None
    assert with_url.id == stable_id("https://e.x/a")
    assert without.id == stable_id("T", "x")


def test_record_without_text_is_skipped_with_line() -> None:
    article, problems = article_from_record({"title": "T", "text": "  "}, "f.jsonl", 7)
    assert article is None
    assert [str(p) for p in problems] == [
        "f.jsonl:7: record has no text — give it a non-empty 'text' (or 'body') field"
    ]


def test_unreadable_date_is_a_warning_not_a_skip() -> None:
    article, problems = article_from_record({"title": "T", "text": "x", "date": "soon"}, "f", 2)
    assert article is not None and article.published is None
    assert [(p.skipped, p.reason) for p in problems] == [
        (False, "date 'soon' is not a date; stored without one")
    ]


def test_source_from_url() -> None:
    assert source_from_url("https://www.usatoday.com/story/x") == "usatoday.com"
    assert source_from_url(None) is None
