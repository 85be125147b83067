"""A real HTTP server on 127.0.0.1 for the fetching tests: pages, feeds, sitemaps, PDFs and the
ways a site fails (slow, huge, 404, redirect loops, wrong types, broken XML)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Route:
    body: bytes
    content_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None


class LocalSite:
    """Serves ``routes`` (path -> Route or a handler function) and records requests.

    >>> with LocalSite() as site:
    ...     site.page("/a.html", "<html>...</html>")
    ...     site.url("/a.html")
    'http://127.0.0.1:PORT/a.html'
    """

    def __init__(self) -> None:
        self.routes: dict[str, Route | Handler] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append((self.path, dict(self.headers.items())))
                route = site.routes.get(self.path)
                if route is None:
                    self._reply(404, "text/html", b"<h1>not found</h1>")
                elif isinstance(route, Route):
                    self._serve(route)
                else:
                    route(self)

            def _serve(self, route: Route) -> None:
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                if route.last_modified and self.headers.get("If-Modified-Since") == (
                    route.last_modified
                ):
                    self.send_response(304)
                    self.end_headers()
                    return
                headers = dict(route.headers)
                if route.etag:
                    headers["ETag"] = route.etag
                if route.last_modified:
                    headers["Last-Modified"] = route.last_modified
                self._reply(route.status, route.content_type, route.body, headers)

            def _reply(
                self, status: int, ctype: str, body: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet test output

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> LocalSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: str | bytes, content_type: str, **kw: Any) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(data, content_type, **kw)
        return self.url(path)

    def page(self, path: str, html: str, **kw: Any) -> str:
        return self.add(path, html, "text/html; charset=utf-8", **kw)

    def handler(self, path: str, func: Handler) -> str:
        self.routes[path] = func
        return self.url(path)

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)


def http_date(seconds: float) -> str:
    return formatdate(seconds, usegmt=True)


def slow(delay: float) -> Handler:
    """A handler that sends headers, then waits ``delay`` seconds before any body."""

    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.end_headers()
        h.wfile.flush()
        time.sleep(delay)
        try:
            h.wfile.write(b"<html><body><p>late</p></body></html>")
        except (BrokenPipeError, ConnectionResetError):
            return

    return handle


def endless(chunk: int = 65536) -> Handler:
    """A handler that streams HTML without a Content-Length until the client hangs up."""

    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.end_headers()
        try:
            for _ in range(10_000):
                h.wfile.write(b"<p>" + b"x" * chunk + b"</p>")
        except (BrokenPipeError, ConnectionResetError):
            return

    return handle


def redirect(to: str, status: int = 302) -> Handler:
    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Location", to)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return handle


def article_html(title: str, body: str, *, author: str = "", date: str = "", url: str = "") -> str:
    """An article page as news sites write them (meta tags, canonical link, nav, footer)."""
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    meta = f'<meta name="author" content="{author}">' if author else ""
    if date:
        meta += f'<meta property="article:published_time" content="{date}">'
    if url:
        meta += f'<link rel="canonical" href="{url}">'
    return (
        f"<html><head><title>{title}</title>{meta}"
        '<meta property="og:site_name" content="Local Gazette"></head><body>'
        "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article>"
        "<footer>Copyright Local Gazette</footer></body></html>"
    )


def make_pdf(pages: list[str], *, title: str = "", author: str = "", created: str = "") -> bytes:
    """A text PDF with one page per item of ``pages`` (fpdf2), with metadata when given
    (``created``: YYYY-MM-DD)."""
    from datetime import datetime

    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    if created:
        pdf.set_creation_date(datetime.fromisoformat(created).replace(tzinfo=UTC))
    for text in pages:
        pdf.add_page()
        for paragraph in text.split("\n\n"):
            pdf.multi_cell(0, 6, paragraph)
            pdf.ln(3)
    return bytes(pdf.output())


def scanned_pdf(pages: int = 2) -> bytes:
    """A PDF whose pages hold only drawings, as a scan without a text layer does."""
    from fpdf import FPDF

    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.rect(20, 20, 100, 60, style="F")
    return bytes(pdf.output())
