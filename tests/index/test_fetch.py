"""Safe fetching against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from index.fetch import HTML_TYPES, Fetcher, FetchError, FetchPolicy, is_url
from tests.index.local_site import LocalSite, article_html, endless, redirect, slow


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite() as s:
        yield s


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(FetchPolicy(allow_private=True, read_timeout=1.0, max_bytes=200_000)) as f:
        yield f


def failure(fetcher: Fetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetcher.get(url)
    return info.value


def test_a_page_comes_back_with_type_and_validators(site: LocalSite, fetcher: Fetcher) -> None:
    url = site.page("/a.html", article_html("Tram", "Trams run."), etag='"v1"')
    got = fetcher.get(url, HTML_TYPES)
    assert (got.status, got.content_type, got.etag) == (200, "text/html", '"v1"')
    assert b"Trams run." in got.body
    assert site.requests[0][1]["User-Agent"].startswith("newsrag/")


def test_a_conditional_get_answers_not_modified(site: LocalSite, fetcher: Fetcher) -> None:
    url = site.page("/a.html", "<p>x</p>", etag='"v1"')
    assert fetcher.get(url, etag='"v1"').not_modified
    assert not fetcher.get(url, etag='"v0"').not_modified


def test_loopback_is_refused_unless_allowed(site: LocalSite) -> None:
    url = site.page("/a.html", "<p>x</p>")
    with Fetcher() as strict:
        error = failure(strict, url)
    assert str(error.problem) == (
        f"{url}: 127.0.0.1 is a private, loopback or link-local address (127.0.0.1) — newsrag "
        "only fetches public addresses; pass --allow-private to read it"
    )
    assert site.requests == []


@pytest.mark.parametrize(
    "url",
    ["http://10.1.2.3/x", "http://169.254.169.254/latest", "http://[::1]/x", "http://0.0.0.0/"],
)
def test_private_and_link_local_addresses_are_refused(url: str) -> None:
    with Fetcher() as strict:
        assert "private, loopback or link-local" in failure(strict, url).reason


def test_every_redirect_hop_is_checked(site: LocalSite, fetcher: Fetcher) -> None:
    url = site.handler("/go", redirect("file:///etc/passwd"))
    assert str(failure(fetcher, url)) == (
        f"{url}: unsupported scheme 'file' — use an http:// or https:// address"
    )


def test_only_http_and_https(fetcher: Fetcher) -> None:
    error = failure(fetcher, "file:///etc/passwd")
    assert str(error) == (
        "file:///etc/passwd: unsupported scheme 'file' — use an http:// or https:// address"
    )


def test_404_names_the_url_and_the_fix(site: LocalSite, fetcher: Fetcher) -> None:
    error = failure(fetcher, site.url("/gone.html"))
    assert str(error.problem) == (
        f"{site.url('/gone.html')}: HTTP 404 Not Found — check the address (the page may have "
        "moved or been removed)"
    )
    assert not error.transient


def test_a_server_error_is_transient(site: LocalSite, fetcher: Fetcher) -> None:
    url = site.add("/busy", "oops", "text/html", status=503)
    assert failure(fetcher, url).transient


def test_a_slow_server_times_out(site: LocalSite, fetcher: Fetcher) -> None:
    error = failure(fetcher, site.handler("/slow", slow(3.0)))
    assert error.reason == "timed out waiting for data"
    assert error.transient


def test_a_huge_body_is_cut_off(site: LocalSite, fetcher: Fetcher) -> None:
    error = failure(fetcher, site.handler("/huge", endless()))
    assert error.reason == "larger than the 0.2 MB download limit"
    declared = site.add("/big.pdf", b"%PDF" + b"0" * 300_000, "application/pdf")
    assert failure(fetcher, declared).reason == "larger than the 0.2 MB download limit"


def test_a_redirect_loop_is_reported(site: LocalSite, fetcher: Fetcher) -> None:
    site.handler("/a", redirect("/b"))
    site.handler("/b", redirect("/a"))
    assert failure(fetcher, site.url("/a")).reason == "redirect loop"


def test_too_many_redirects(site: LocalSite, fetcher: Fetcher) -> None:
    for n in range(8):
        site.handler(f"/r{n}", redirect(f"/r{n + 1}"))
    assert failure(fetcher, site.url("/r0")).reason == "more than 5 redirects"


def test_redirects_are_followed_to_the_final_url(site: LocalSite, fetcher: Fetcher) -> None:
    site.handler("/old", redirect("/new.html", 301))
    site.page("/new.html", "<p>moved</p>")
    got = fetcher.get(site.url("/old"))
    assert got.final_url == site.url("/new.html")


def test_a_wrong_content_type_is_refused(site: LocalSite, fetcher: Fetcher) -> None:
    url = site.add("/pic.png", b"\x89PNG", "image/png")
    assert str(failure(fetcher, url)) == (
        f"{url}: not a page, feed or PDF newsrag reads (content type 'image/png') — give the URL "
        "of an HTML page, an RSS/Atom/JSON feed, a sitemap or a PDF"
    )


def test_a_closed_port_is_a_connection_failure(fetcher: Fetcher) -> None:
    from tests.conftest import free_port

    error = failure(fetcher, f"http://127.0.0.1:{free_port()}/x")
    assert error.reason.startswith("cannot connect")
    assert error.transient


def test_robots_txt_is_respected(site: LocalSite, fetcher: Fetcher) -> None:
    site.add("/robots.txt", "User-agent: newsrag\nDisallow: /private/\n", "text/plain")
    assert fetcher.allowed_by_robots(site.url("/news/a.html"))
    assert not fetcher.allowed_by_robots(site.url("/private/b.html"))


def test_no_robots_txt_allows_everything(site: LocalSite, fetcher: Fetcher) -> None:
    assert fetcher.allowed_by_robots(site.url("/anything"))


def test_urls_are_told_from_paths() -> None:
    assert is_url("https://example.com/a")
    assert is_url("ftp://example.com/a")
    assert not is_url("articles/2026/a.html")
    assert not is_url("C:/news/a.html")
