"""URLs, a feed and a PDF through the real model and a real Chroma store."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import NewsIndex, Settings
from index.embeddings import Embedder
from index.fetch import FetchPolicy
from tests.index.local_site import LocalSite, make_pdf
from tests.index.test_web import STORIES, rss

pytestmark = pytest.mark.integration


def test_feed_and_pdf_urls_are_searchable_with_pages(
    tmp_path: Path, real_embedder: Embedder
) -> None:
    with LocalSite() as site:
        from tests.index.local_site import article_html

        for key, (title, body) in STORIES.items():
            site.page(f"/news/{key}.html", article_html(title, body, date="2026-03-02"))
        feed = site.add("/rss.xml", rss(site, full=False), "application/rss+xml")
        pdf = site.add(
            "/report.pdf",
            make_pdf(
                [
                    "Annual report of the harbour board. "
                    + "The board met eleven times and approved the accounts of the port. " * 20,
                    "The lighthouse keeper retired after forty years of service on the rock.",
                ],
                title="Harbour board annual report",
            ),
            "application/pdf",
        )
        index = NewsIndex.open(
            tmp_path / "idx",
            settings=Settings(lead_weight=0.0),
            embedder=real_embedder,
            create=True,
        )
        report = index.ingest([feed, pdf], fetch=FetchPolicy(allow_private=True))
    assert (len(report.added), report.problems) == (4, ())
    (top, *_) = index.search("Who retired from the lighthouse?", k=3, mode="dense", as_of=None)
    assert top.chunk.title == "Harbour board annual report"
    assert top.chunk.page == 2
    assert top.to_dict()["page"] == 2
    assert top.chunk.text.startswith("The lighthouse keeper retired")
    (tram, *_) = index.search("tram extension to the airport", k=3, as_of=None)
    assert tram.chunk.url == site.url("/news/tram.html")
    assert "page" not in tram.to_dict()
