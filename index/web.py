"""Articles from the web: pages, PDFs, feeds (RSS, Atom, JSON Feed) and sitemaps, fetched
safely (index.fetch) and read with the same extraction as files (index.loaders, index.pdf).

Every failure becomes a Problem (``URL: reason — fix``) and the rest of the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from index.feeds import (
    FULL_TEXT_WORDS,
    FeedError,
    FeedItem,
    feed_links,
    parse_feed,
    parse_json_feed,
    parse_sitemap,
    sniff,
    word_count,
)
from index.fetch import Fetched, Fetcher, FetchError, FetchPolicy, is_url
from index.loaders import Loaded, html_article, load_paths
from index.metadata import stable_id
from index.pdf import pdf_article
from index.records import Article, Problem

T = TypeVar("T")
MAX_SITEMAP_DEPTH = 2  # a sitemap index of sitemaps; deeper nesting is a loop or a mistake


@dataclass(frozen=True)
class SourceRead:
    """What reading one URL gave. ``fetched`` is None when the fetch failed; ``not_modified``
    when the server said nothing changed; ``keys`` are the item keys read (feeds, sitemaps)."""

    url: str
    kind: str
    articles: tuple[Article, ...] = ()
    problems: tuple[Problem, ...] = ()
    keys: tuple[str, ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


@dataclass
class _Found:
    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    def add(self, item: Article | Problem) -> None:
        if isinstance(item, Article):
            self.articles.append(item)
        else:
            self.problems.append(item)


class WebLoader:
    """Reads URLs into articles with one Fetcher.

    >>> with Fetcher(FetchPolicy()) as fetcher:
    ...     loaded = WebLoader(fetcher).load(["https://example.com/feed.xml"])
    """

    def __init__(
        self, fetcher: Fetcher, max_bytes: int = 10_000_000, *, feed: bool = False, workers: int = 4
    ) -> None:
        self.fetcher = fetcher
        self.max_bytes = max_bytes
        self.feed = feed  # an HTML page stands for the feed it links to
        self.workers = workers

    def load(self, urls: Iterable[str]) -> Loaded:
        """Every article the URLs lead to, and every problem met on the way."""
        articles: list[Article] = []
        problems: list[Problem] = []
        for url in urls:
            read = self.read(url)
            articles.extend(read.articles)
            problems.extend(read.problems)
        return Loaded(tuple(articles), tuple(problems), 0)

    def read(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        seen: frozenset[str] = frozenset(),
    ) -> SourceRead:
        """Read one URL; items whose key is in ``seen`` are not fetched again."""
        try:
            fetched = self.fetcher.get(url, etag=etag, last_modified=last_modified)
        except FetchError as exc:
            return SourceRead(url, "unknown", problems=(exc.problem,))
        return self.read_fetched(fetched, seen)

    def read_fetched(self, fetched: Fetched, seen: frozenset[str] = frozenset()) -> SourceRead:
        """What a fetched URL holds: a page's article, or a feed's or sitemap's new items.
        ``keys`` are the items read well (a failed item is tried again on the next read)."""
        url = fetched.url
        if fetched.not_modified:
            return SourceRead(url, "unchanged", not_modified=True)
        kind: str = sniff(fetched.body, fetched.content_type)
        found = _Found()
        if kind == "html" and self.feed:
            kind = self._discovered(fetched, found, seen)
        elif kind in ("feed", "json-feed"):
            self._feed(fetched, kind, found, seen)
        elif kind == "sitemap":
            self._sitemap(fetched, found, seen, depth=0)
        else:
            found.add(self.page(fetched, kind))
        return SourceRead(
            url,
            kind,
            tuple(found.articles),
            tuple(found.problems),
            tuple(found.keys),
            fetched.etag,
            fetched.last_modified,
        )

    def page(self, fetched: Fetched, kind: str | None = None) -> Article | Problem:
        """The article of a fetched HTML page or PDF."""
        kind = kind or sniff(fetched.body, fetched.content_type)
        url, final = fetched.url, fetched.final_url
        if kind == "pdf":
            name = urlsplit(final).path.rstrip("/").rpartition("/")[2] or final
            item = pdf_article(fetched.body, url, stable_id(final), name, url=final)
        elif kind == "html":
            item = html_article(fetched.text(), url, stable_id(final), final, url=final)
        else:
            return Problem(
                url,
                f"not an HTML page, feed, sitemap or PDF (content type {fetched.content_type!r})",
                "give the URL of an article page, a feed, a sitemap or a PDF",
            )
        if isinstance(item, Article) and len(item.text.encode()) > self.max_bytes:
            return Problem(url, "article text over the size limit", "raise --max-article-mb")
        return item

    def fetch_page(self, url: str) -> Article | Problem:
        try:
            return self.page(self.fetcher.get(url))
        except FetchError as exc:
            return exc.problem

    def _discovered(self, fetched: Fetched, found: _Found, seen: frozenset[str]) -> str:
        links = feed_links(fetched.text(), fetched.final_url)
        if not links:
            found.problems.append(
                Problem(
                    fetched.url,
                    'the page links no feed (no <link rel="alternate"> of a feed type)',
                    "give the feed's URL itself, or leave out --feed to read the page",
                )
            )
            return "html"
        try:
            feed = self.fetcher.get(links[0])
        except FetchError as exc:
            found.problems.append(exc.problem)
            return "feed"
        kind = sniff(feed.body, feed.content_type)
        self._feed(feed, kind if kind == "json-feed" else "feed", found, seen)
        return "feed"

    def _feed(self, fetched: Fetched, kind: str, found: _Found, seen: frozenset[str]) -> None:
        try:
            if kind == "json-feed":
                feed = parse_json_feed(fetched.body, fetched.final_url)
            else:
                feed = parse_feed(fetched.body, fetched.final_url)
        except FeedError as exc:
            found.problems.append(
                Problem(fetched.url, str(exc), "fix the feed, or ask its publisher")
            )
            return
        items = [i for i in feed.items if _item_key(i) not in seen]
        found.keys.extend(_item_key(i) for i in feed.items if _item_key(i) in seen)
        read = self._parallel(items, lambda i: self._item(i, fetched.url, feed.title))
        for item, result in zip(items, read, strict=True):
            found.add(result)
            if isinstance(result, Article):
                found.keys.append(_item_key(item))

    def _item(self, item: FeedItem, feed_url: str, feed_title: str) -> Article | Problem:
        if word_count(item.text) >= FULL_TEXT_WORDS or (item.text and not item.link):
            return Article(
                id=stable_id(item.link) if item.link else stable_id(feed_url, item.key),
                title=item.title or item.text.split("\n")[0][:120],
                text=item.text,
                source=feed_title or urlsplit(feed_url).hostname,
                author=item.author,
                published=item.published,
                url=item.link,
                origin=item.link or feed_url,
            )
        if not item.link:
            return Problem(
                feed_url,
                f"item {item.title or item.key!r} has no text and no link",
                "nothing to read; ask the feed's publisher",
                skipped=True,
            )
        page = self.fetch_page(item.link)
        if isinstance(page, Article):
            return Article(
                id=page.id,
                title=page.title or item.title,
                text=page.text,
                source=page.source or feed_title or None,
                author=page.author or item.author,
                published=page.published or item.published,
                url=page.url,
                origin=page.origin,
                pages=page.pages,
            )
        return page

    def _sitemap(self, fetched: Fetched, found: _Found, seen: frozenset[str], depth: int) -> None:
        try:
            sitemap = parse_sitemap(fetched.body, fetched.final_url)
        except FeedError as exc:
            found.problems.append(Problem(fetched.url, str(exc), "fix the sitemap"))
            return
        for child in sitemap.children:
            if depth + 1 > MAX_SITEMAP_DEPTH:
                found.problems.append(
                    Problem(child, "sitemap nested too deep", "give the inner sitemap's URL")
                )
                continue
            try:
                inner = self.fetcher.get(child)
            except FetchError as exc:
                found.problems.append(exc.problem)
                continue
            self._sitemap(inner, found, seen, depth + 1)
        todo, keys = [], []
        for entry in sitemap.entries:
            key = f"{entry.url}@{entry.lastmod or ''}"
            if key in seen:
                found.keys.append(key)
                continue
            if not self.fetcher.allowed_by_robots(entry.url):
                found.problems.append(
                    Problem(
                        entry.url,
                        "robots.txt does not allow newsrag to crawl this page",
                        "leave it out, or save the page yourself and ingest the file",
                    )
                )
                continue
            todo.append(entry.url)
            keys.append(key)
        for key, result in zip(keys, self._parallel(todo, self.fetch_page), strict=True):
            found.add(result)
            if isinstance(result, Article):
                found.keys.append(key)

    def _parallel(
        self, items: Sequence[T], work: Callable[[T], Article | Problem]
    ) -> list[Article | Problem]:
        """``work`` over ``items`` on a few threads (fetching waits on the network), in order."""
        if len(items) <= 1 or self.workers <= 1:
            return [work(i) for i in items]
        with ThreadPoolExecutor(self.workers, thread_name_prefix="newsrag-fetch") as pool:
            return list(pool.map(work, items))


def _item_key(item: FeedItem) -> str:
    return f"{item.key}@{item.updated or ''}"


def load_inputs(
    inputs: Iterable[str | Path],
    max_bytes: int,
    policy: FetchPolicy | None = None,
    *,
    feed: bool = False,
) -> Loaded:
    """Files and folders as :func:`index.loaders.load_paths` reads them, and URLs (anything
    with a scheme, such as https://) fetched under ``policy``."""
    items = list(inputs)
    urls = [str(i) for i in items if isinstance(i, str) and is_url(i)]
    paths = [i for i in items if not (isinstance(i, str) and is_url(i))]
    files = load_paths(paths, max_bytes) if paths else Loaded((), (), 0)
    if not urls:
        return files
    with Fetcher(policy) as fetcher:
        web = WebLoader(fetcher, max_bytes, feed=feed).load(urls)
    return Loaded(files.articles + web.articles, files.problems + web.problems, files.ignored_files)
