"""PDF articles: text in reading order, metadata, page numbers, scans skipped."""

from __future__ import annotations

from pathlib import Path

from index.chunking import Chunker
from index.loaders import load_paths
from index.pdf import join_pages, page_at, pdf_article
from index.records import Article, Problem
from tests.index.local_site import make_pdf, scanned_pdf

PAGE_ONE = (
    "Harbour authority approves the eastern quay\n\n"
    "The harbour authority approved a new eastern quay on Monday after two years of debate. "
    "Construction is due to start in the spring."
)
PAGE_TWO = "Dredging of the channel will follow. The board said the cost is 40 million euros."
PAGE_THREE = "Fishermen asked for a second slipway. The board will reply in March."


def test_text_metadata_and_page_starts(tmp_path: Path) -> None:
    data = make_pdf(
        [PAGE_ONE, PAGE_TWO, PAGE_THREE],
        title="Quay report",
        author="Port Desk",
        created="2026-02-03",
    )
    article = pdf_article(data, "quay.pdf", "quay", "quay")
    assert isinstance(article, Article)
    assert (article.title, article.author, article.published) == (
        "Quay report",
        "Port Desk",
        "2026-02-03",
    )
    assert article.text.index("Harbour authority") < article.text.index("Dredging")
    assert len(article.pages) == 3
    assert article.text[article.pages[1] :].startswith("Dredging of the channel")
    assert article.text[article.pages[2] :].startswith("Fishermen asked")


def test_title_from_the_first_page_without_metadata() -> None:
    article = pdf_article(make_pdf([PAGE_ONE]), "q.pdf", "q", "fallback")
    assert isinstance(article, Article)
    assert article.title == "Harbour authority approves the eastern quay"
    assert article.author is None  # fpdf2 stamps a creation date (today), but no author


def test_chunks_know_their_page() -> None:
    article = pdf_article(make_pdf([PAGE_ONE, PAGE_TWO, PAGE_THREE]), "q.pdf", "q", "q")
    assert isinstance(article, Article)
    chunks = Chunker(size=12, overlap=0).chunk(article)
    by_text = {c.text.split()[0]: c.page for c in chunks}
    assert by_text["Dredging"] == 2
    assert by_text["Fishermen"] == 3
    assert chunks[0].page == 1
    assert all(c.text == article.text[c.start : c.end] for c in chunks)
    assert all(page_at(article.pages, c.end - 1) == c.page for c in chunks)  # one page each


def test_a_scanned_pdf_is_skipped_with_the_reason() -> None:
    problem = pdf_article(scanned_pdf(2), "scan.pdf", "s", "s")
    assert str(problem) == (
        "scan.pdf: no text in the PDF (2 page(s); a scan without a text layer?) — run OCR on it "
        "first (for example 'ocrmypdf in.pdf out.pdf'), then ingest the result"
    )


def test_a_broken_pdf_is_a_problem_not_a_crash() -> None:
    problem = pdf_article(b"%PDF-1.4\nnot really", "bad.pdf", "b", "b")
    assert isinstance(problem, Problem)
    assert problem.reason.startswith("cannot read the PDF")


def test_pdf_files_load_from_folders(tmp_path: Path) -> None:
    (tmp_path / "quay.pdf").write_bytes(make_pdf([PAGE_ONE, PAGE_TWO]))
    (tmp_path / "scan.pdf").write_bytes(scanned_pdf())
    loaded = load_paths([tmp_path])
    assert [a.title for a in loaded.articles] == ["Harbour authority approves the eastern quay"]
    assert [p.path for p in loaded.problems] == [str(tmp_path / "scan.pdf")]


def test_page_helpers() -> None:
    text, starts = join_pages(["one", "", "three"])
    assert text == "one\n\nthree"
    assert starts == (0, 3, 5)
    assert [page_at(starts, o) for o in (0, 2, 5, 9)] == [1, 1, 3, 3]
    assert page_at((), 4) is None


def test_articles_without_pages_hash_as_before() -> None:
    plain = Article("a", "T", "x")
    assert plain.content_hash() != Article("a", "T", "x", pages=(0,)).content_hash()
    assert plain.content_hash() == Article("a", "T", "x", pages=()).content_hash()
