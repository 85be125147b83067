"""Syndication on a real corpus: how many story groups form, how similar the grouped pairs are,
and the titles of some groups, to check their precision by eye.

    python -m benchmarks.syndication_bench ../shared/data/realtimeqa-2026/articles.jsonl --show 30

Reads the JSONL by path (never copies it); prints figures only.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np

from index.metadata import parse_date
from index.syndication import THRESHOLD, Copy, Stories, shingles


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--show", type=int, default=30, help="groups to print")
    parser.add_argument("--limit", type=int, default=0, help="read only this many articles")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    records = []
    with args.corpus.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            if args.limit and n >= args.limit:
                break
            r = json.loads(line)
            records.append(r)
    texts = {str(r["doc_id"]): str(r.get("text") or "") for r in records}
    started = time.perf_counter()
    stories = Stories(Path("/nonexistent"), args.threshold)  # in memory; never saved
    stories.add(
        (
            str(r["doc_id"]),
            texts[str(r["doc_id"])],
            Copy(
                str(r["doc_id"]),
                _site(r.get("url")),
                str(r.get("title") or ""),
                r.get("url"),
                parse_date(r.get("publish_date")),
            ),
        )
        for r in records
    )
    seconds = time.perf_counter() - started
    groups = stories.groups()
    grouped = sum(len(g) for g in groups)
    print(f"articles: {len(records)}  (signatures + grouping: {seconds:.1f} s)")
    print(f"threshold (estimated Jaccard, 5-word shingles): {args.threshold}")
    print(f"story groups of 2+ articles: {len(groups)}  articles in them: {grouped}")
    sizes = np.bincount([len(g) for g in groups]) if groups else np.array([])
    print("group sizes: " + ", ".join(f"{s}: {c}" for s, c in enumerate(sizes) if c))
    exact = [jaccard(texts[g[0].article_id], texts[m.article_id]) for g in groups for m in g[1:]]
    if exact:
        print(
            "exact Jaccard of grouped pairs (member vs first): "
            f"min {min(exact):.2f}  median {float(np.median(exact)):.2f}  max {max(exact):.2f}"
        )
        below = sum(e < args.threshold for e in exact)
        print(f"grouped pairs with exact Jaccard < threshold: {below}")
        bands = np.histogram(exact, bins=[0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.01])[0]
        print(
            "by exact Jaccard: "
            + ", ".join(
                f"{lo}-{hi}: {n}"
                for lo, hi, n in zip(
                    [0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8],
                    [0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0],
                    bands,
                    strict=True,
                )
            )
        )
    rng = random.Random(args.seed)
    shown = rng.sample(groups, min(args.show, len(groups)))
    print(f"\n{len(shown)} groups drawn at random (seed {args.seed}):")
    for n, group in enumerate(shown, start=1):
        first = group[0]
        scores = [jaccard(texts[first.article_id], texts[m.article_id]) for m in group[1:]]
        print(f"{n:2}. [{len(group)}] J={min(scores):.2f}")
        for member in group:
            print(f"      {member.title[:90]}  ({member.url or member.source or '-'})")


def _site(url: object) -> str | None:
    """The publisher as a headline names it ("USA Today", "CNN"), from the URL's host."""
    from urllib.parse import urlsplit

    host = (urlsplit(str(url)).hostname or "") if url else ""
    return SITES.get(host.removeprefix("www."), host or None)


SITES = {"usatoday.com": "USA Today", "cnn.com": "CNN Business", "theweek.co.uk": "The Week"}


if __name__ == "__main__":
    main()
