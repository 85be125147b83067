"""The retrieval benchmark: keyword, dense, hybrid, hybrid + time and the default ranking of
newsrag (hybrid + time + lead bonus), and an external peer (txtai, hybrid), over the same chunks
and the same embedding model, in one run.

    python -m benchmarks.retrieval_bench \\
        --corpus ../shared/data/realtimeqa-2026/articles.jsonl \\
        --questions ../shared/data/realtimeqa-2026/questions-dev.jsonl \\
        --out bench-retrieval.json --plot bench-retrieval.png

A question counts as a hit at k when a gold answer (or evidence) appears, as whole words, in one
of the top k passages. "choice" is the accuracy of a reader that picks the answer choice
mentioned most often in the top 5 passages. Built indexes and passage vectors are cached under
``--cache``, so a second run only queries. The peer needs ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.vector_cache import CachingEmbedder, VectorCache, encoder_tag
from eval.metrics import RANK_DEPTH, chosen_choice, first_relevant_rank, percentile, same_choice
from eval.qa import QAItem, load_qa
from index.config import ENCODERS, Settings
from index.embeddings import Embedder, load_embedder, model_location
from index.newsindex import NewsIndex
from index.query_adapter import QueryAdapter, resolve
from index.retrieval import Mode, Ranking, Retriever
from index.timeframe import parse_day

CHOICE_DEPTH = 5
KS = tuple(range(1, RANK_DEPTH + 1))

Search = Callable[[QAItem], list[str]]  # a question in, the top passages' texts out


@dataclass
class MethodResult:
    """One method's ranks and latencies over the questions."""

    name: str
    ranks: list[int | None] = field(default_factory=list)
    choices_right: list[bool] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        n = len(self.ranks)
        hits = {k: sum(1 for r in self.ranks if r is not None and r <= k) / n for k in KS}
        mrr = sum(1.0 / r for r in self.ranks if r is not None) / n
        return {
            "method": self.name,
            "questions": n,
            "hit@1": round(hits[1], 4),
            "hit@5": round(hits[5], 4),
            "hit@10": round(hits[10], 4),
            "mrr@10": round(mrr, 4),
            "choice_accuracy": (
                round(sum(self.choices_right) / len(self.choices_right), 4)
                if self.choices_right
                else None
            ),
            "p50_ms": round(percentile(self.ms, 50) or 0.0, 2),
            "p95_ms": round(percentile(self.ms, 95) or 0.0, 2),
            "hit_curve": [round(hits[k], 4) for k in KS],
        }


def run_method(name: str, search: Search, items: Sequence[QAItem]) -> MethodResult:
    """Query every item once (after one warm-up query) and score the ranking."""
    result = MethodResult(name)
    if items:
        search(items[0])  # warm caches and lazy loads; not timed
    for item in items:
        started = time.perf_counter()
        passages = search(item)
        result.ms.append((time.perf_counter() - started) * 1000)
        result.ranks.append(first_relevant_rank(passages, item))
        if item.choices:
            picked = chosen_choice("\n".join(passages[:CHOICE_DEPTH]), item.choices)
            result.choices_right.append(same_choice(picked, item.correct_choice))
    return result


def corpus_key(paths: Sequence[Path], *parts: object) -> str:
    """A short name for (the corpus files as they are now, build settings)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            stat = f.stat()
            digest.update(f"{f.resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    digest.update(repr(parts).encode())
    return digest.hexdigest()[:16]


def build_index(
    corpus: Sequence[Path],
    cache: Path,
    embedder: Embedder,
    header: bool,
    log: Callable[[str], None],
    chunking: tuple[int, int] | None = None,
) -> NewsIndex:
    """The newsrag index of ``corpus`` with chunk headers on or off, built once and cached.

    ``chunking`` is (chunk size, overlap) in words; None keeps newsrag's defaults.
    """
    size, overlap = chunking or (None, None)
    settings = Settings(
        index_dir=cache / "tmp",
        embedding_model=embedder.name,
        chunk_header=header,
        encoder=embedder.encoder,
    ).replace(chunk_size=size, chunk_overlap=overlap)
    parts: tuple[object, ...] = (settings.chunk_size, settings.chunk_overlap, header)
    if embedder.encoder != "float32":  # float32 indexes keep the folder names they had
        parts += (encoder_tag(embedder.encoder),)
    key = corpus_key(corpus, embedder.name, *parts)
    folder = cache / f"newsrag-{'header' if header else 'plain'}-{key}"
    settings = settings.replace(index_dir=folder)
    index = NewsIndex.open(settings=settings, embedder=embedder, create=True)
    started = time.perf_counter()
    report = index.ingest(corpus)
    articles, chunks = index.store.counts()
    log(
        f"index {folder.name}: {articles} articles, {chunks} chunks "
        f"({len(report.added) + len(report.updated)} articles written in "
        f"{time.perf_counter() - started:.0f} s)"
    )
    return index


def newsrag_search(
    index: NewsIndex,
    mode: Mode,
    ranking: Ranking,
    use_time: bool,
    depth: int = RANK_DEPTH,
    adapter: QueryAdapter | None = None,
) -> Search:
    retriever = Retriever(index.store, index.keyword, index.embedder, ranking, adapter=adapter)

    def search(item: QAItem) -> list[str]:
        as_of = (parse_day(item.question_date) or date.today()) if use_time else None
        return [
            h.chunk.text for h in retriever.search(item.question, depth, mode=mode, as_of=as_of)
        ]

    return search


def txtai_search(
    index: NewsIndex, cache: Path, vectors: str, depth: int, log: Callable[[str], None]
) -> Search:
    """txtai's hybrid search (its BM25 + dense, its fusion) over newsrag's chunks.

    ``vectors="own"``: txtai loads the same local MiniLM folder and embeds by itself.
    ``vectors="shared"``: txtai gets newsrag's vectors for the same texts (same model, no
    re-embedding) through its external-vectors hook.
    """
    try:
        from txtai import Embeddings
    except ImportError:
        raise SystemExit(
            "txtai is not installed — pip install -e '.[bench]', or pass --no-peer."
        ) from None
    chunks = list(index.store.iter_chunks())
    texts = {c.id: c.text for c in chunks}
    embedder = index.embedder
    config: dict[str, Any] = {"hybrid": True, "content": False}
    if vectors == "own":
        config["path"] = model_location(embedder.name)
    else:
        config["method"] = "external"
        config["transform"] = lambda batch: embedder.embed_documents(list(batch))
    key = hashlib.sha256("\n".join(sorted(texts)).encode()).hexdigest()[:16]
    folder = cache / f"txtai-{vectors}-{key}"
    embeddings = Embeddings(config)
    if (folder / "config.json").exists() or (folder / "config").exists():
        embeddings.load(str(folder), config=config)
        log(f"txtai index {folder.name}: loaded from the cache")
    else:
        started = time.perf_counter()
        embeddings.index([(c.id, index.chunker.indexed_text(c), None) for c in chunks])
        embeddings.save(str(folder))
        log(f"txtai index {folder.name}: built in {time.perf_counter() - started:.0f} s")

    def search(item: QAItem) -> list[str]:
        return [texts[str(uid)] for uid, _ in embeddings.search(item.question, depth)]

    return search


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    head = (
        f"{'method':<32} {'hit@1':>6} {'hit@5':>6} {'hit@10':>6} {'MRR@10':>6} {'choice':>6} "
        f"{'p50 ms':>7} {'p95 ms':>7}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        choice = "-" if r["choice_accuracy"] is None else f"{r['choice_accuracy']:.3f}"
        lines.append(
            f"{r['method']:<32} {r['hit@1']:>6.3f} {r['hit@5']:>6.3f} {r['hit@10']:>6.3f} "
            f"{r['mrr@10']:>6.3f} {choice:>6} {r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f}"
        )
    return "\n".join(lines)


def plot(rows: Sequence[dict[str, Any]], path: Path, title: str) -> None:
    """hit@k curves, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    palette = plt.get_cmap("tab10")
    colors = iter([palette(i) for i in range(10)])
    by_base: dict[str, Any] = {}
    for r in rows:
        name = r["method"]
        base = name.replace(" +headers", "")
        if base not in by_base:
            by_base[base] = "black" if name.startswith("txtai") else next(colors)
        style = "--" if name.endswith("+headers") else "-"
        ax.plot(
            KS, r["hit_curve"], style, color=by_base[base], marker="o", markersize=3, label=name
        )
    ax.set_xlabel("k (passages)")
    ax.set_ylabel("hit@k (gold answer in the top k)")
    ax.set_xticks(KS)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.retrieval_bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        required=True,
        help="Articles (file or folder); repeatable.",
    )
    parser.add_argument(
        "--questions", type=Path, required=True, help="Q&A JSONL (newsrag or RealTimeQA format)."
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(".newsrag/bench-cache"),
        help="Where built indexes and vectors are kept (default .newsrag/bench-cache).",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("bench-retrieval.json"),
        help="JSON results (default bench-retrieval.json).",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        default=Path("bench-retrieval.png"),
        help="PNG of hit@k curves (default bench-retrieval.png).",
    )
    parser.add_argument(
        "--embedding-model",
        default=Settings().embedding_model,
        help="sentence-transformers model name or folder (default the bundled MiniLM).",
    )
    parser.add_argument(
        "--headers",
        choices=("off", "on", "both"),
        default="both",
        help="Chunk headers (title and date) for newsrag's rows (default both, side by side).",
    )
    parser.add_argument(
        "--peer-vectors",
        choices=("own", "shared"),
        default="own",
        help="txtai embeds with the same model folder itself (own) or is given newsrag's "
        "vectors of the same texts (shared).",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=Settings().chunk_size,
        help="Words per passage (default newsrag's, %(default)s).",
    )
    parser.add_argument(
        "--chunk-overlap",
        type=int,
        default=Settings().chunk_overlap,
        help="Words shared by neighbouring passages (default %(default)s).",
    )
    parser.add_argument(
        "--encoder",
        choices=ENCODERS,
        default=Settings().encoder,
        help="How the model runs (default newsrag's, %(default)s); vectors are cached per encoder.",
    )
    parser.add_argument(
        "--query-adapter",
        default="none",
        metavar="none|default|PATH",
        help="Add a 'newsrag default + query adapter' row with this adapter (default none).",
    )
    parser.add_argument("--no-peer", action="store_true", help="Skip the txtai row.")
    parser.add_argument("--limit", type=int, default=0, help="Only the first N questions.")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    items = [q for q in load_qa(args.questions) if q.answerable and (q.gold or q.evidence)]
    if args.limit:
        items = items[: args.limit]
    cache = args.cache.expanduser().absolute()
    embedder = CachingEmbedder(
        load_embedder(args.embedding_model, encoder=args.encoder), VectorCache(cache / "vectors")
    )
    log(f"{len(items)} questions; corpus {', '.join(map(str, args.corpus))}")
    defaults = Settings.from_env({})
    ranking = Ranking(
        time_weight=defaults.time_weight,
        lead_weight=defaults.lead_weight,
        max_per_article=defaults.max_per_article,
    )
    pure = dataclasses.replace(ranking, time_weight=0.0, lead_weight=0.0)
    timed = dataclasses.replace(ranking, lead_weight=0.0)
    variants = {"off": [False], "on": [True], "both": [False, True]}[args.headers]
    rows: list[dict[str, Any]] = []
    peer_index = None
    for header in variants:
        index = build_index(
            args.corpus, cache, embedder, header, log, (args.chunk_size, args.chunk_overlap)
        )
        suffix = " +headers" if header else ""
        methods: list[tuple[str, Search]] = [
            (f"keyword (bm25s){suffix}", newsrag_search(index, "keyword", pure, False)),
            (f"dense (Chroma){suffix}", newsrag_search(index, "dense", pure, False)),
            (f"hybrid{suffix}", newsrag_search(index, "hybrid", pure, False)),
            (f"hybrid + time{suffix}", newsrag_search(index, "hybrid", timed, True)),
            (f"newsrag default{suffix}", newsrag_search(index, "hybrid", ranking, True)),
        ]
        adapter = resolve(args.query_adapter, embedder.name)
        if adapter is not None:
            adapter.check(embedder.name, embedder.dimension, str(index.settings.index_dir))
            search = newsrag_search(index, "hybrid", ranking, True, adapter=adapter)
            methods.append((f"newsrag default + query adapter{suffix}", search))
        for name, search in methods:
            log(f"running {name}")
            rows.append(run_method(name, search, items).summary())
            log(format_table(rows[-1:]).splitlines()[-1])
        if not header or peer_index is None:
            peer_index = index
    if not args.no_peer and peer_index is not None:
        name = f"txtai hybrid ({args.peer_vectors} vectors)"
        log(f"running {name}")
        search = txtai_search(peer_index, cache, args.peer_vectors, RANK_DEPTH, log)
        rows.append(run_method(name, search, items).summary())
    table = format_table(rows)
    print(table)
    result = {
        "corpus": [str(p) for p in args.corpus],
        "questions": str(args.questions),
        "n_questions": len(items),
        "embedding_model": embedder.name,
        "encoder": embedder.encoder,
        "chunk_size": args.chunk_size,
        "chunk_overlap": args.chunk_overlap,
        "ranking": ranking.__dict__,
        "rows": rows,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    plot(rows, args.plot, f"{args.questions.name}: {len(items)} questions, {embedder.name}")
    print(f"Wrote {args.out} and {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
