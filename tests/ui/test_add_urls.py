"""The articles tab's Add URL box: pages and feeds fetched from a real HTTP server on 127.0.0.1,
ingested like an upload, with bad addresses listed in the summary."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import html
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr
import pytest

import ui.app
from assistant import Assistant, NewsIndex
from tests.index.local_site import LocalSite, article_html
from ui import build_app
from ui.server import ServerOptions, build_server

STORIES = {
    "tram": (
        "Tram line to reach the airport",
        "The regional council voted on Tuesday to extend the crosstown tram line to the "
        "airport. Work on the new section will start next year.\n\nThe vote passed by 31 "
        "votes to 12 after a debate that lasted most of the afternoon.",
    ),
    "quay": (
        "Harbour approves the eastern quay",
        "The harbour authority approved a new eastern quay on Monday after two years of "
        "debate. Construction is due to start in the spring.\n\nDredging will follow.",
    ),
}
PAGE = (
    "Offshore wind farm sends first power",
    "The Skerry Bank wind farm delivered its first electricity to the grid on Friday. "
    "Engineers expect full output by the spring.\n\nThe farm has 62 turbines.",
)


def no_progress(*args: Any, **kwargs: Any) -> None:
    return None


def rss(site: LocalSite) -> str:
    """A summary-only RSS feed of STORIES: each item's page is read for its text."""
    items = "".join(
        f"<item><title>{title}</title><link>{site.url(f'/news/{key}.html')}</link>"
        f"<guid>{key}</guid><pubDate>Mon, 02 Mar 2026 09:00:00 GMT</pubDate>"
        f"<description>{body.split('.')[0]}.</description></item>"
        for key, (title, body) in STORIES.items()
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Local Gazette</title>'
        f"<link>{site.base}</link>{items}</channel></rss>"
    )


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite() as s:
        for key, (title, body) in STORIES.items():
            s.page(f"/news/{key}.html", article_html(title, body, date="2026-03-02"))
        s.page("/wind.html", article_html(*PAGE, author="Ana Reyes", date="2026-03-06"))
        s.add("/feed.xml", rss(s), "application/rss+xml")
        yield s


def add_urls(demo: gr.Blocks) -> Callable[..., Any]:
    """The page's Add URL handler (ChatCallbacks.add_urls), called as Gradio calls it."""
    found = [f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", None) == "add_urls"]
    assert len(found) == 1 and found[0] is not None
    return found[0]


def test_a_page_and_a_feed_are_added_like_an_upload(fake_index: NewsIndex, site: LocalSite) -> None:
    add = add_urls(build_app(Assistant(fake_index), allow_private=True))
    text = f"{site.url('/wind.html')}\n{site.url('/feed.xml')}"
    summary, stats_md, rows, sources, header, box = add(text, progress=no_progress)
    assert summary.startswith("**3 added, 0 updated, 0 unchanged, 0 skipped**"), summary
    titles = {r[3] for r in rows}
    assert titles == {PAGE[0], *(title for title, _ in STORIES.values())}
    assert "**3** articles" in stats_md and "3 articles" in header
    assert sources == gr.update(choices=["Local Gazette"])
    assert box == ""  # all read: the box is cleared
    assert site.hits("/news/quay.html") == 1  # the summary-only item's page was read
    again, *_ = add(text, progress=no_progress)
    assert again.startswith("**0 added, 0 updated, 3 unchanged, 0 skipped**"), again


def test_bad_addresses_are_lines_of_the_summary_and_the_rest_go_on(
    fake_index: NewsIndex, site: LocalSite
) -> None:
    add = add_urls(build_app(Assistant(fake_index), allow_private=True))
    missing = site.url("/missing.html")
    wind = site.page("/energy/wind,2026.html", article_html(*PAGE))  # a comma in the path
    text = f"{missing}, /etc/passwd,\nftp://example.com/a.xml {wind},"
    summary, _, rows, _, _, box = add(text, progress=no_progress)
    lines = html.unescape(summary).splitlines()
    assert lines[0].startswith("**1 added, 0 updated, 0 unchanged, 3 skipped**"), summary
    assert f"- Skipped: {missing}: HTTP 404 Not Found — check the address" in lines[3]
    assert lines[1] == (
        "- Skipped: /etc/passwd: is not a web address (http:// or https://) — paste the full "
        "address of a page, feed, sitemap or PDF, such as https://example.com/news/feed.xml"
    )
    assert lines[2].startswith("- Skipped: ftp://example.com/a.xml: is not a web address")
    assert [r[3] for r in rows] == [PAGE[0]] and site.hits("/energy/wind,2026.html") == 1
    assert box == text  # kept, to be corrected


def test_a_private_address_is_refused_unless_the_server_allows_it(
    fake_index: NewsIndex, site: LocalSite
) -> None:
    add = add_urls(build_app(Assistant(fake_index)))
    url = site.url("/wind.html")
    summary, _, rows, *_ = add(url, progress=no_progress)
    assert summary.startswith("**0 added, 0 updated, 0 unchanged, 1 skipped**"), summary
    assert f"- Skipped: {url}: 127.0.0.1 is a private, loopback or link-local address" in (
        html.unescape(summary)
    )
    assert "pass --allow-private" in summary
    assert rows == [] and site.hits("/wind.html") == 0


def test_an_empty_box_is_a_notice_and_url_adds_are_writes(fake_index: NewsIndex) -> None:
    demo = build_app(Assistant(fake_index))
    summary, *_, box = add_urls(demo)("  \n", progress=no_progress)
    assert summary.startswith("⚠️ No URL given — paste the address of a page or a feed.")
    assert box == "  \n"
    (fn,) = [f for f in demo.fns.values() if getattr(f.fn, "__name__", None) == "add_urls"]
    assert (fn.concurrency_id, fn.concurrency_limit) == ("writes", 1)


def test_the_server_builds_the_page_with_its_allow_private(
    fake_index: NewsIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[dict[str, Any]] = []
    real = ui.app.build_app

    def build_app_spy(*args: Any, **kwargs: Any) -> gr.Blocks:
        built.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(ui.app, "build_app", build_app_spy)
    build_server(Assistant(fake_index), ServerOptions(allow_private=True))
    build_server(Assistant(fake_index), ServerOptions())
    assert [b["allow_private"] for b in built] == [True, False]
