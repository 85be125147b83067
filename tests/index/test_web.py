"""Pages, PDFs, feeds and sitemaps read from a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from index import NewsIndex
from index.fetch import Fetcher, FetchPolicy
from index.metadata import stable_id
from index.records import Article
from index.web import WebLoader
from tests.index.local_site import LocalSite, article_html, make_pdf, redirect

LONG = (
    "The regional council voted on Tuesday to extend the crosstown tram line to the airport. "
    "Work on the new section will start next year and take three years to finish. "
    "Councillors said the extension would cut the journey from the centre to twenty minutes.\n\n"
    "Opponents argued that buses could do the same job for a fraction of the cost. "
    "The transport authority said the trams would carry twice as many passengers as buses. "
    "The vote passed by 31 votes to 12 after a debate that lasted most of the afternoon."
)
STORIES = {
    "tram": ("Tram line to reach the airport", LONG),
    "quay": (
        "Harbour approves the eastern quay",
        "The harbour authority approved a new eastern quay on Monday after two years of "
        "debate. Construction is due to start in the spring.\n\nDredging will follow.",
    ),
    "wind": (
        "Offshore wind farm sends first power",
        "The Skerry Bank wind farm delivered its first electricity to the grid on Friday. "
        "Engineers expect full output by the spring.\n\nThe farm has 62 turbines.",
    ),
}


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite() as s:
        for key, (title, body) in STORIES.items():
            s.page(
                f"/news/{key}.html",
                article_html(title, body, author="Ana Reyes", date="2026-03-02"),
            )
        yield s


@pytest.fixture
def loader() -> Iterator[WebLoader]:
    with Fetcher(FetchPolicy(allow_private=True, read_timeout=2.0)) as fetcher:
        yield WebLoader(fetcher)


def rss(site: LocalSite, *, full: bool) -> str:
    items = []
    for key, (title, body) in STORIES.items():
        html = "".join(f"<p>{p}</p>" for p in LONG.split("\n\n"))
        content = f"<content:encoded><![CDATA[{html}]]></content:encoded>" if full else ""
        items.append(
            f"<item><title>{title}</title><link>{site.url(f'/news/{key}.html')}</link>"
            f"<guid>{key}</guid><pubDate>Mon, 02 Mar 2026 09:00:00 GMT</pubDate>"
            f"<description>{body.split('.')[0]}.</description>{content}</item>"
        )
    return (
        '<?xml version="1.0"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Local Gazette</title><link>{site.base}</link>{''.join(items)}</channel></rss>"
    )


def atom(site: LocalSite) -> str:
    entries = "".join(
        f"<entry><title>{t}</title><id>urn:{k}</id><updated>2026-03-02T09:00:00Z</updated>"
        f'<link href="/news/{k}.html"/><summary>{b[:60]}</summary></entry>'
        for k, (t, b) in STORIES.items()
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Gazette Atom</title><id>urn:feed</id><updated>2026-03-02T09:00:00Z</updated>"
        f"{entries}</feed>"
    )


def test_a_url_reads_the_page_like_an_html_file(site: LocalSite, loader: WebLoader) -> None:
    loaded = loader.load([site.url("/news/tram.html")])
    (article,) = loaded.articles
    assert article.title == "Tram line to reach the airport"
    assert article.author == "Ana Reyes"
    assert article.published == "2026-03-02"
    assert article.source == "Local Gazette"
    assert article.text.startswith("The regional council voted")
    assert "Copyright" not in article.text and "Home" not in article.text
    assert article.url == site.url("/news/tram.html")
    assert article.id == stable_id(site.url("/news/tram.html"))


def test_the_canonical_url_names_the_article(site: LocalSite, loader: WebLoader) -> None:
    canonical = "https://gazette.example/2026/tram"
    site.page("/amp/tram", article_html("Tram", LONG, url=canonical))
    site.handler("/t", redirect("/amp/tram"))
    (article,) = loader.load([site.url("/t")]).articles
    assert article.url == canonical
    assert article.id == stable_id(canonical)


def test_an_rss_feed_with_full_content_needs_no_page_fetch(
    site: LocalSite, loader: WebLoader
) -> None:
    url = site.add("/rss.xml", rss(site, full=True), "application/rss+xml")
    loaded = loader.load([url])
    assert [a.title for a in loaded.articles] == [t for t, _ in STORIES.values()]
    assert all(a.text == LONG for a in loaded.articles)
    assert all(a.source == "Local Gazette" for a in loaded.articles)
    assert site.hits("/news/quay.html") == 0


def test_a_summary_only_feed_reads_each_linked_page(site: LocalSite, loader: WebLoader) -> None:
    url = site.add("/rss.xml", rss(site, full=False), "text/xml")  # mislabelled, sniffed
    loaded = loader.load([url])
    assert not loaded.problems
    quay = next(a for a in loaded.articles if a.title.startswith("Harbour"))
    assert "Dredging will follow." in quay.text
    assert site.hits("/news/quay.html") == 1


def test_an_atom_feed(site: LocalSite, loader: WebLoader) -> None:
    url = site.add("/atom.xml", atom(site), "application/atom+xml")
    loaded = loader.load([url])
    assert sorted(a.url or "" for a in loaded.articles) == sorted(
        site.url(f"/news/{k}.html") for k in STORIES
    )


def test_a_json_feed(site: LocalSite, loader: WebLoader) -> None:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Gazette JSON",
        "items": [
            {"id": "1", "url": site.url("/news/tram.html"), "title": "Tram", "content_text": LONG},
            {"id": "2", "url": site.url("/news/wind.html"), "summary": "Wind farm."},
        ],
    }
    url = site.add("/feed.json", json.dumps(feed), "application/feed+json")
    loaded = loader.load([url])
    assert [a.url for a in loaded.articles] == [
        site.url("/news/tram.html"),
        site.url("/news/wind.html"),
    ]
    assert loaded.articles[0].text == LONG
    assert loaded.articles[1].title == "Offshore wind farm sends first power"


def test_a_page_that_links_its_feed(site: LocalSite) -> None:
    site.add("/rss.xml", rss(site, full=True), "application/rss+xml")
    home = site.page(
        "/",
        '<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml">'
        "</head><body><p>Front page</p></body></html>",
    )
    with Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        loaded = WebLoader(fetcher, feed=True).load([home])
    assert len(loaded.articles) == 3


def test_a_sitemap_and_a_news_sitemap_index(site: LocalSite, loader: WebLoader) -> None:
    site.add(
        "/news-sitemap.xml",
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"<url><loc>{site.url('/news/tram.html')}</loc><news:news><news:title>Tram"
        "</news:title><news:publication_date>2026-03-02</news:publication_date></news:news>"
        f"</url><url><loc>{site.url('/news/quay.html')}</loc></url>"
        f"<url><loc>{site.url('/private/wind.html')}</loc></url></urlset>",
        "application/xml",
    )
    index = site.add(
        "/sitemap.xml",
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{site.url('/news-sitemap.xml')}</loc></sitemap></sitemapindex>",
        "application/xml",
    )
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", "text/plain")
    loaded = loader.load([index])
    assert sorted(a.title for a in loaded.articles) == [
        "Harbour approves the eastern quay",
        "Tram line to reach the airport",
    ]
    (refused,) = loaded.problems
    assert str(refused) == (
        f"{site.url('/private/wind.html')}: robots.txt does not allow newsrag to crawl this page"
        " — leave it out, or save the page yourself and ingest the file"
    )
    assert site.hits("/private/wind.html") == 0


def test_a_pdf_url(site: LocalSite, loader: WebLoader) -> None:
    url = site.add(
        "/reports/quay.pdf",
        make_pdf(["Quay report page one.", "Page two text."]),
        "application/pdf",
    )
    (article,) = loader.load([url]).articles
    assert article.url == url
    assert len(article.pages) == 2


def test_broken_feed_xml_is_reported_and_the_run_goes_on(
    site: LocalSite, loader: WebLoader
) -> None:
    broken = site.add(
        "/broken.xml", "<?xml version='1.0'?><rss><channel><item><title>x", "text/xml"
    )
    good = site.url("/news/wind.html")
    loaded = loader.load([broken, site.url("/missing.html"), good])
    assert [a.url for a in loaded.articles] == [good]
    assert [p.path for p in loaded.problems] == [broken, site.url("/missing.html")]
    assert loaded.problems[0].reason.startswith("malformed feed XML")
    assert loaded.problems[1].reason == "HTTP 404 Not Found"


def test_broken_sitemap_xml(site: LocalSite, loader: WebLoader) -> None:
    url = site.add("/sitemap.xml", "<urlset><url><loc>x</loc></urlset", "application/xml")
    (problem,) = loader.load([url]).problems
    assert problem.reason.startswith("malformed sitemap XML")


def test_a_feed_item_whose_page_fails_names_the_page(site: LocalSite, loader: WebLoader) -> None:
    del site.routes["/news/quay.html"]
    url = site.add("/rss.xml", rss(site, full=False), "application/rss+xml")
    loaded = loader.load([url])
    assert len(loaded.articles) == 2
    assert [str(p) for p in loaded.problems] == [
        f"{site.url('/news/quay.html')}: HTTP 404 Not Found — check the address (the page may "
        "have moved or been removed)"
    ]


def test_ingest_mixes_urls_and_files_and_is_idempotent(
    site: LocalSite, fake_index: NewsIndex, tmp_path: object
) -> None:
    url = site.add("/rss.xml", rss(site, full=False), "application/rss+xml")
    policy = FetchPolicy(allow_private=True)
    first = fake_index.ingest([url], fetch=policy)
    assert len(first.added) == 3 and not first.problems
    again = fake_index.ingest([url], fetch=policy)
    assert (len(again.added), len(again.unchanged)) == (0, 3)
    stored = fake_index.article(stable_id(site.url("/news/tram.html")))
    assert isinstance(stored, Article) and stored.title == "Tram line to reach the airport"


def test_ingest_refuses_loopback_by_default(site: LocalSite, fake_index: NewsIndex) -> None:
    report = fake_index.ingest([site.url("/news/tram.html")])
    (problem,) = report.problems
    assert "pass --allow-private" in problem.fix
    assert site.requests == []
