"""Safe HTTP fetching for URLs, feeds, sitemaps and PDFs.

http(s) only; hosts that resolve to private, loopback, link-local or reserved addresses are
refused unless ``allow_private``; every redirect hop is checked again; bodies are capped in size
and time; the content type must be one newsrag reads. Every failure is a :class:`FetchError`
whose ``problem`` reads ``URL: reason — fix``, so a run reports it and goes on.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import urllib.robotparser
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from index.errors import NewsragError
from index.records import Problem

USER_AGENT = "newsrag/0.1 (news reader; +https://github.com/newsrag/newsrag)"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
        "application/feed+json",
        "application/json",
        "text/plain",  # robots.txt, and feeds served by servers that do not know better
    }
)
READABLE_TYPES = HTML_TYPES | PDF_TYPES | FEED_TYPES


@dataclass(frozen=True)
class FetchPolicy:
    """Limits of one run's fetching (defaults suit news pages and reports).

    >>> FetchPolicy(allow_private=True, max_bytes=5_000_000).max_redirects
    5
    """

    allow_private: bool = False
    max_bytes: int = 20_000_000
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0  # a server that trickles bytes is cut off after this
    max_redirects: int = 5
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class Fetched:
    """A response newsrag accepted: ``url`` as asked, ``final_url`` after redirects."""

    url: str
    final_url: str
    status: int
    content_type: str  # lower case, without parameters ("text/html")
    body: bytes = b""
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def text(self) -> str:
        return self.body.decode(self.charset or "utf-8", errors="replace")


class FetchError(NewsragError):
    """A URL could not be read; ``problem`` is the ``URL: reason — fix`` line for the report.
    ``transient`` marks failures worth retrying (timeouts, refused connections, 5xx)."""

    def __init__(self, url: str, reason: str, fix: str, *, transient: bool = False) -> None:
        super().__init__(f"{url}: {reason} — {fix}")
        self.url, self.reason, self.fix, self.transient = url, reason, fix, transient

    @property
    def problem(self) -> Problem:
        return Problem(self.url, self.reason, self.fix)


def is_url(text: str) -> bool:
    """True when ``text`` reads as a web address (any scheme://), not a file path."""
    parts = urlsplit(text)
    return bool(parts.scheme) and len(parts.scheme) > 1 and bool(parts.netloc)


class Fetcher:
    """One HTTP client for a run, with its policy. Close it when done (or use ``with``).

    >>> with Fetcher(FetchPolicy(allow_private=True)) as fetcher:
    ...     page = fetcher.get("http://127.0.0.1:8000/story.html", HTML_TYPES)
    >>> page.content_type
    'text/html'
    """

    def __init__(self, policy: FetchPolicy | None = None) -> None:
        self.policy = policy or FetchPolicy()
        p = self.policy
        self.client = httpx.Client(
            timeout=httpx.Timeout(p.read_timeout, connect=p.connect_timeout),
            follow_redirects=False,  # each hop is checked here
            headers={"User-Agent": p.user_agent},
            trust_env=False,  # the address checked is the address connected to
        )
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def get(
        self,
        url: str,
        accept: Iterable[str] = READABLE_TYPES,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        """GET ``url`` following up to ``max_redirects`` checked redirects; raises FetchError.
        With ``etag``/``last_modified`` a 304 answer comes back as ``not_modified``."""
        accepted = frozenset(accept)
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        seen: list[str] = []
        current = url
        while True:
            self.check_address(current, original=url)
            if current in seen:
                raise FetchError(url, "redirect loop", "fix the link, or use the page's final URL")
            seen.append(current)
            if len(seen) > self.policy.max_redirects + 1:
                raise FetchError(
                    url,
                    f"more than {self.policy.max_redirects} redirects",
                    "use the page's final URL",
                )
            response = self._send(url, current, headers)
            if isinstance(response, str):
                current = response
                continue
            return self._accept(url, current, response, accepted)

    def _send(
        self, url: str, current: str, headers: dict[str, str]
    ) -> str | tuple[httpx.Response, bytes]:
        """One request: the redirect target (str), or the response with its capped body."""
        started = time.monotonic()
        try:
            with self.client.stream("GET", current, headers=headers) as response:
                if response.status_code == 304:
                    return (response, b"")
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    if not location:
                        raise FetchError(url, "redirect without a Location", "fix the server")
                    return urljoin(current, location)
                self._check_status(url, response)
                self._check_length(url, response)
                body = bytearray()
                for piece in response.iter_bytes():
                    body.extend(piece)
                    if len(body) > self.policy.max_bytes:
                        raise self._too_large(url)
                    if time.monotonic() - started > self.policy.total_timeout:
                        raise FetchError(
                            url,
                            f"took over {self.policy.total_timeout:.0f} s to download",
                            "try again later, or save the page and ingest the file",
                            transient=True,
                        )
                return (response, bytes(body))
        except httpx.TimeoutException as exc:
            kind = "connecting" if isinstance(exc, httpx.ConnectTimeout) else "waiting for data"
            raise FetchError(
                url,
                f"timed out {kind}",
                "check that the site is up and try again later",
                transient=True,
            ) from exc
        except httpx.InvalidURL as exc:
            raise FetchError(url, f"not a valid URL ({exc})", "check the address") from exc
        except httpx.TransportError as exc:
            raise FetchError(
                url,
                f"cannot connect ({exc or type(exc).__name__})",
                "check the address and your network",
                transient=True,
            ) from exc

    def _check_status(self, url: str, response: httpx.Response) -> None:
        code = response.status_code
        if code < 400:
            return
        if code in (401, 403):
            fix = "the site refuses newsrag; save the page in a browser and ingest the file"
        elif code in (404, 410):
            fix = "check the address (the page may have moved or been removed)"
        else:
            fix = "try again later"
        raise FetchError(url, f"HTTP {code} {response.reason_phrase}", fix, transient=code >= 500)

    def _check_length(self, url: str, response: httpx.Response) -> None:
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.policy.max_bytes:
            raise self._too_large(url)

    def _too_large(self, url: str) -> FetchError:
        return FetchError(
            url,
            f"larger than the {self.policy.max_bytes / 1_000_000:g} MB download limit",
            "download it yourself and ingest the file",
        )

    def _accept(
        self,
        url: str,
        final: str,
        sent: tuple[httpx.Response, bytes],
        accepted: frozenset[str],
    ) -> Fetched:
        response, body = sent
        raw = response.headers.get("content-type", "")
        kind = raw.split(";")[0].strip().lower()
        if response.status_code != 304 and kind not in accepted:
            raise FetchError(
                url,
                f"not a page, feed or PDF newsrag reads (content type {kind or 'missing'!r})",
                "give the URL of an HTML page, an RSS/Atom/JSON feed, a sitemap or a PDF",
            )
        charset = response.charset_encoding if kind not in PDF_TYPES else None
        return Fetched(
            url=url,
            final_url=final,
            status=response.status_code,
            content_type=kind,
            body=body,
            charset=charset,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
        )

    def check_address(self, url: str, original: str | None = None) -> None:
        """Raise FetchError unless ``url`` is http(s) on a public address (or private ones are
        allowed)."""
        named = original or url
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError(
                named,
                f"unsupported scheme {parts.scheme or '(none)'!r}",
                "use an http:// or https:// address",
            )
        host = parts.hostname
        if not host:
            raise FetchError(named, "no host in the address", "check the address")
        if self.policy.allow_private:
            return
        for address in _addresses(named, host, parts.port or 443):
            if not address.is_global or address.is_multicast:
                raise FetchError(
                    named,
                    f"{host} is a private, loopback or link-local address ({address})",
                    "newsrag only fetches public addresses; pass --allow-private to read it",
                )

    def allowed_by_robots(self, url: str) -> bool:
        """Whether the site's robots.txt lets newsrag's User-Agent crawl ``url`` (a missing or
        unreadable robots.txt allows everything)."""
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}"
        parser = self._robots.get(root)
        if parser is None:
            parser = urllib.robotparser.RobotFileParser(root + "/robots.txt")
            try:
                got = self.get(root + "/robots.txt", {"text/plain"})
                parser.parse(got.text().splitlines())
            except FetchError:
                parser.parse([])
            self._robots[root] = parser
        return parser.can_fetch(self.policy.user_agent, url)


def _addresses(
    url: str, host: str, port: int
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FetchError(
            url,
            f"cannot resolve the host {host} ({exc.strerror})",
            "check the address and your network",
            transient=True,
        ) from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
