"""Web ingest speed: the same articles ingested as HTML files and as a summary-only RSS feed of
pages served by a local HTTP server (every page fetched, checked and extracted).

    python -m benchmarks.sources_bench ../shared/data/realtimeqa-2025/articles.jsonl -n 200
    python -m benchmarks.sources_bench ... --embedder fake:384   # the loading cost alone

Articles are read by path and rendered to pages in a temporary folder (never into the repo).
Prints articles/s of each and their ratio (target: web >= 0.8x files).
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from index import NewsIndex, Settings, load_embedder
from index.fetch import FetchPolicy


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def render(record: dict[str, Any], url: str) -> str:
    paragraphs = "".join(
        f"<p>{html.escape(p)}</p>" for p in str(record.get("text") or "").split("\n") if p.strip()
    )
    title = html.escape(str(record.get("title") or ""))
    return (
        f'<html><head><title>{title}</title><link rel="canonical" href="{url}">'
        f'<meta property="article:published_time" content="{record.get("publish_date", "")}">'
        f"</head><body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{paragraphs}"
        "</article><footer>Footer</footer></body></html>"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--embedder", default="", help="e.g. fake:384 (default: the real model)")
    args = parser.parse_args(argv)

    records = []
    with args.corpus.open(encoding="utf-8") as lines:
        for line in lines:
            records.append(json.loads(line))
            if len(records) == args.n:
                break
    work = Path(tempfile.mkdtemp(prefix="newsrag-sources-bench-"))
    try:
        site = work / "site"
        (site / "p").mkdir(parents=True)
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(site)))
        base = f"http://127.0.0.1:{server.server_address[1]}"
        items = []
        for n, record in enumerate(records):
            url = f"{base}/p/{n}.html"
            (site / "p" / f"{n}.html").write_text(render(record, url), encoding="utf-8")
            items.append(
                f"<item><title>{html.escape(str(record.get('title') or ''))}</title>"
                f"<link>{url}</link><guid>{n}</guid><description>summary</description></item>"
            )
        (site / "feed.xml").write_text(
            f"<?xml version='1.0'?><rss version='2.0'><channel><title>Bench</title>"
            f"{''.join(items)}</channel></rss>",
            encoding="utf-8",
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        embedder = load_embedder(args.embedder) if args.embedder else load_embedder()
        print(f"articles: {len(records)}  embedder: {embedder.name} ({embedder.encoder})")
        warm = NewsIndex.open(
            work / "idx-warm", settings=Settings(), embedder=embedder, create=True
        )
        warm.ingest([site / "p" / "0.html"])  # imports and first-call costs, timed by neither
        rates = {}
        for name, inputs in (("files", [site / "p"]), ("feed", [f"{base}/feed.xml"])):
            index = NewsIndex.open(
                work / f"idx-{name}", settings=Settings(), embedder=embedder, create=True
            )
            started = time.perf_counter()
            report = index.ingest(inputs, fetch=FetchPolicy(allow_private=True))
            seconds = time.perf_counter() - started
            rates[name] = len(report.added) / seconds
            print(
                f"{name:>5}: {len(report.added)} added, {len(report.problems)} problems, "
                f"{report.chunks_written} chunks in {seconds:.1f} s = {rates[name]:.1f} articles/s"
            )
        print(f"feed/files rate: {rates['feed'] / rates['files']:.2f}x (target >= 0.8x)")
        server.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
