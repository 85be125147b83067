"""Feeds and sitemaps: RSS 2.0 / RSS 1.0 / Atom (feedparser), JSON Feed, sitemaps and news
sitemaps, told apart by their content; and the feed links an HTML page advertises."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin

from index.metadata import clean_text, parse_date

Kind = Literal["html", "pdf", "feed", "json-feed", "sitemap", "unknown"]
FULL_TEXT_WORDS = 80  # an item whose content has fewer words is a summary: read its page

_ROOT = re.compile(r"<(?:[\w.-]+:)?(rss|feed|RDF|urlset|sitemapindex|html)\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")


class FeedError(ValueError):
    """A feed or sitemap that cannot be read; the message is the reason."""


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed: ``text`` is its full content when the feed carries it, else ''."""

    key: str  # guid, else link: what tells items apart between polls
    link: str | None
    title: str
    summary: str
    text: str
    author: str | None = None
    published: str | None = None
    updated: str | None = None


@dataclass(frozen=True)
class Feed:
    title: str
    items: tuple[FeedItem, ...]
    warning: str | None = None  # read, but not well-formed


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    lastmod: str | None = None
    title: str | None = None  # news sitemaps name the headline
    published: str | None = None


@dataclass(frozen=True)
class Sitemap:
    entries: tuple[SitemapEntry, ...]
    children: tuple[str, ...]  # the sitemaps a sitemap index lists


def sniff(body: bytes, content_type: str) -> Kind:
    """What a response holds, from its first bytes (servers mislabel feeds often)."""
    if content_type in ("application/pdf", "application/x-pdf") or body[:5] == b"%PDF-":
        return "pdf"
    head = body[:4096].decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if head.startswith("{"):
        return "json-feed" if "jsonfeed.org" in head[:2000] else "unknown"
    match = _ROOT.search(_strip_prolog(head))
    if match:
        root = match.group(1).lower()
        if root in ("rss", "feed", "rdf"):
            return "feed"
        if root in ("urlset", "sitemapindex"):
            return "sitemap"
        return "html"
    if content_type in ("text/html", "application/xhtml+xml"):
        return "html"
    return "unknown"


def _strip_prolog(head: str) -> str:
    return re.sub(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", "", head, flags=re.DOTALL).lstrip()


def parse_feed(body: bytes, url: str) -> Feed:
    """The items of an RSS or Atom feed; FeedError when it is not well-formed and yields none."""
    import feedparser

    parsed = feedparser.parse(body, response_headers={"content-location": url})
    items = [_rss_item(entry, url) for entry in parsed.entries]
    found = tuple(i for i in items if i is not None)
    error = parsed.get("bozo_exception")
    if parsed.get("bozo") and hasattr(error, "getLineNumber"):  # not well-formed XML
        where = f" at line {error.getLineNumber()}"
        if not found:
            raise FeedError(f"malformed feed XML ({_reason(error)}{where})")
        warning = f"the feed's XML is not well-formed ({_reason(error)}{where}); read anyway"
        return Feed(str(parsed.feed.get("title", "")), found, warning)
    return Feed(str(parsed.feed.get("title", "")), found)


def _reason(error: object) -> str:
    text = str(getattr(error, "getMessage", lambda: error)() or error)
    return text.split(":")[-1].strip() or type(error).__name__


def _rss_item(entry: Any, base: str) -> FeedItem | None:
    get = functools.partial(dict.get, entry)  # plain lookups: no feedparser key aliasing
    link = get("link") or None
    link = urljoin(base, link) if link else None
    contents = get("content") or []
    text = html_to_text(" ".join(str(c.get("value", "")) for c in contents))
    summary = html_to_text(str(get("summary", "")))
    title = html_to_text(str(get("title", "")))
    key = str(get("id") or link or "")
    if not key or not (link or text or summary):
        return None
    return FeedItem(
        key=key,
        link=link,
        title=title,
        summary=summary,
        text=text,
        author=str(get("author")) if get("author") else None,
        published=parse_date(get("published") or get("updated")),
        updated=str(get("updated") or get("published") or "") or None,
    )


def parse_json_feed(body: bytes, url: str) -> Feed:
    """The items of a JSON Feed (https://jsonfeed.org, versions 1 and 1.1)."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedError(f"malformed JSON Feed ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise FeedError("a JSON Feed needs an 'items' list")
    items: list[FeedItem] = []
    for raw in data["items"]:
        if not isinstance(raw, dict):
            continue
        link = raw.get("url") or raw.get("external_url")
        link = urljoin(url, str(link)) if link else None
        text = str(raw.get("content_text") or "") or html_to_text(str(raw.get("content_html", "")))
        authors = raw.get("authors") or ([raw["author"]] if raw.get("author") else [])
        author = ", ".join(str(a.get("name")) for a in authors if isinstance(a, dict)) or None
        key = str(raw.get("id") or link or "")
        if key:
            items.append(
                FeedItem(
                    key=key,
                    link=link,
                    title=str(raw.get("title") or ""),
                    summary=str(raw.get("summary") or ""),
                    text=clean_text(text),
                    author=author,
                    published=parse_date(raw.get("date_published")),
                    updated=str(raw.get("date_modified") or raw.get("date_published") or "")
                    or None,
                )
            )
    return Feed(str(data.get("title", "")), tuple(items))


def parse_sitemap(body: bytes, url: str) -> Sitemap:
    """The pages (with news titles and dates) of a sitemap, or the sitemaps of an index."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"malformed sitemap XML ({exc.msg})") from exc
    entries: list[SitemapEntry] = []
    children: list[str] = []
    for node in root:
        if not isinstance(node.tag, str):
            continue
        fields = {_local(e.tag): (e.text or "").strip() for e in node.iter() if _is_tag(e)}
        loc = fields.get("loc")
        if not loc:
            continue
        if _local(node.tag) == "sitemap":
            children.append(urljoin(url, loc))
        else:
            entries.append(
                SitemapEntry(
                    urljoin(url, loc),
                    fields.get("lastmod") or None,
                    fields.get("title") or None,
                    parse_date(fields.get("publication_date")),
                )
            )
    return Sitemap(tuple(entries), tuple(children))


def _is_tag(element: Any) -> bool:
    return isinstance(element.tag, str)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def feed_links(html: str, base: str) -> list[str]:
    """The feeds a page advertises with ``<link rel="alternate" type="application/rss+xml">``."""
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(html)
    except (ValueError, TypeError):  # an empty or undecodable document
        return []
    links = []
    for node in tree.iter("link"):
        rel = str(node.get("rel", "")).lower().split()
        kind = str(node.get("type", "")).lower()
        href = node.get("href")
        if "alternate" in rel and kind in _FEED_TYPES and href:
            links.append(urljoin(base, str(href)))
    return links


def html_to_text(fragment: str) -> str:
    """Plain text of a feed's HTML fragment, paragraphs on their own lines."""
    if "<" not in fragment:
        return clean_text(_unescape(fragment))
    text = re.sub(r"(?i)<\s*(/p|/div|/li|/h\d|/blockquote)\s*>", "\n\n", fragment)
    text = re.sub(r"(?i)<\s*br\s*/?>", "\n", text)
    text = _unescape(_TAG.sub("", text))
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return clean_text("\n\n".join(p for p in paragraphs if p))


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def word_count(text: str) -> int:
    return len(text.split())
