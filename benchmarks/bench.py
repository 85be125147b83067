"""The speed and memory benchmark: encode rate of each encoder option, `newsrag ingest` against a
bare encode of the same chunk texts in the same run, retrieval quality and latency over the full
corpus, cold start of `newsrag ask`, and the peak memory of ingest, in one table, with the CPU
ceiling: the most chunks per second any encoder of the model could reach on this CPU (see
benchmarks.ceiling).

    python -m benchmarks.bench \\
        --corpus ../shared/data/realtimeqa-2026/articles.jsonl --corpus ../shared/data/seed \\
        --questions ../shared/data/realtimeqa-2026/questions-dev.jsonl --out bench.json

Encode and ingest rates use the chunks of the first ``--ingest-articles`` articles. Quality
(hit@5, MRR@10 of the default ranking) needs every chunk of the corpus embedded by each encoder;
vectors and indexes are cached under ``--cache`` (shared with retrieval_bench), so only the
first run per encoder is slow; ``--no-quality`` skips it.

``--copies 5`` also times retrieval over the corpus held five times under new ids (about
180,000 RealTimeQA chunks), built once in the cache from the same vectors.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import ceiling
from benchmarks.retrieval_bench import build_index, corpus_key, newsrag_search, run_method
from benchmarks.vector_cache import CachingEmbedder, VectorCache, encoder_tag
from eval.qa import QAItem, load_qa
from index.chunking import Chunker
from index.config import ENCODERS, Settings
from index.embeddings import (
    Embedder,
    SentenceTransformerEmbedder,
    load_embedder,
    model_location,
)
from index.encoders.cpu import cpu_features
from index.encoders.mean_pooling import plain_max_length
from index.encoders.onnx_encoder import usable_cores, weight_bits
from index.encoders.torch_encoder import TORCH_ENCODERS
from index.errors import EmbeddingModelError
from index.loaders import load_paths
from index.newsindex import NewsIndex
from index.records import Article
from index.retrieval import Ranking


def chunk_texts(articles: Sequence[Article], settings: Settings) -> list[str]:
    """The texts ingest embeds for ``articles`` under ``settings``."""
    chunker = Chunker(settings.chunk_size, settings.chunk_overlap, settings.chunk_header)
    return [chunker.indexed_text(c) for a in articles for c in chunker.chunk(a)]


def encode_rate(embedder: Embedder, texts: Sequence[str]) -> float:
    """Chunks per second of one bare ``embed_documents`` over ``texts`` in length order (as
    ingest sends them), after a short untimed warm-up."""
    ordered = sorted(texts, key=len)
    embedder.embed_documents(ordered[-8:])
    started = time.perf_counter()
    embedder.embed_documents(ordered)
    return len(ordered) / (time.perf_counter() - started)


def encoder_embedders(encoders: Sequence[str]) -> dict[str, Embedder]:
    """The bundled model under each encoder; the torch encoders share one loaded model."""
    base = load_embedder()
    assert isinstance(base, SentenceTransformerEmbedder)
    return {
        e: SentenceTransformerEmbedder(base.model, base.name, encoder=e)
        if e in TORCH_ENCODERS
        else load_embedder(base.name, encoder=e)
        for e in encoders
    }


def agreement(embedders: dict[str, Embedder], texts: Sequence[str]) -> dict[str, dict[str, float]]:
    """Mean and least cosine of each encoder's vectors of ``texts`` to float32's."""
    exact = embedders["float32"].embed_documents(texts)
    result = {}
    for name, embedder in embedders.items():
        vectors = exact if name == "float32" else embedder.embed_documents(texts)
        cosines = np.sum(exact * vectors, axis=1)
        result[name] = {"mean": float(cosines.mean()), "min": float(cosines.min())}
    return result


def cold_starts(ask: Sequence[str], env: dict[str, str], runs: int) -> list[float]:
    """Wall seconds of ``runs`` fresh `newsrag ask` processes, one after another."""
    return [newsrag(ask, env)[1] for _ in range(runs)]


def newsrag(args: Sequence[str], env: dict[str, str]) -> tuple[str, float]:
    """Run the ``newsrag`` command in a fresh process; its stdout and wall seconds."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", "from assistant.cli import run; run()", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"newsrag {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout, seconds


def ingest_rate(articles: Sequence[Article], folder: Path, env: dict[str, str]) -> dict[str, Any]:
    """`newsrag ingest` of ``articles`` into a new index: chunks/s (the command's own timing,
    after the model has loaded) and the peak RSS of its process."""
    source = folder / "articles.jsonl"
    with source.open("w", encoding="utf-8") as out:
        for a in articles:
            record = {k: v for k, v in dataclasses.asdict(a).items() if k != "origin"}
            out.write(json.dumps(record) + "\n")
    stdout, wall = newsrag(
        ["ingest", str(source), "--index", str(folder / "idx"), "-q", "--json"], env
    )
    report = json.loads(stdout)
    # the largest finished child so far: this ingest is the first child the benchmark runs
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "chunks": report["chunks_written"],
        "chunks_per_s": report["chunks_written"] / report["seconds"],
        "wall_s": wall,
        "peak_rss_mb": peak,
    }


def ingest_pair(ingest: float, encode: float) -> dict[str, float]:
    """One ingest rate with the bare encode rate measured right after it."""
    return {"ingest": ingest, "encode": encode, "ratio": ingest / encode}


def median_ingest(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The ingests in one record: median rate and wall time, the largest peak RSS."""
    return {
        "chunks": runs[0]["chunks"],
        "chunks_per_s": statistics.median(r["chunks_per_s"] for r in runs),
        "wall_s": statistics.median(r["wall_s"] for r in runs),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "runs": len(runs),
    }


def quality(
    corpus: Sequence[Path],
    questions: Path,
    cache: Path,
    embedder: Embedder,
    log: Callable[[str], None],
) -> tuple[dict[str, Any], Path]:
    """hit@5, MRR@10 and latency of newsrag's default ranking over the full corpus embedded
    by ``embedder``; and the index folder (for the cold start)."""
    items = scored_items(questions)
    caching = CachingEmbedder(embedder, VectorCache(cache / "vectors"))
    index = build_index(corpus, cache, caching, False, log)
    search = newsrag_search(index, "hybrid", default_ranking(), True)
    summary = run_method(embedder.encoder, search, items)
    return summary.summary() | {"chunks": index.store.counts()[1]}, index.settings.index_dir


def scored_items(questions: Path) -> list[QAItem]:
    """The questions retrieval can be scored on (answerable, with a gold answer or evidence)."""
    return [q for q in load_qa(questions) if q.answerable and (q.gold or q.evidence)]


def default_ranking() -> Ranking:
    s = Settings()
    return Ranking(
        time_weight=s.time_weight, lead_weight=s.lead_weight, max_per_article=s.max_per_article
    )


def scaled_latency(
    corpus: Sequence[Path],
    questions: Path,
    cache: Path,
    embedder: Embedder,
    copies: int,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Retrieval p50 / p95 of the default ranking, model warm, over an index that holds the
    corpus ``copies`` times (each further copy's articles under new ids: RealTimeQA's 35,734
    chunks x 5 = 178,670). The index is built once under ``cache``; its vectors come from the
    vector cache the quality run fills, so only texts missing there are embedded."""
    settings = Settings(embedding_model=embedder.name, encoder=embedder.encoder)
    key = corpus_key(
        corpus,
        embedder.name,
        settings.chunk_size,
        settings.chunk_overlap,
        encoder_tag(embedder.encoder),
        copies,
    )
    folder = cache / f"newsrag-copies-{key}"
    caching = CachingEmbedder(embedder, VectorCache(cache / "vectors"))
    index = NewsIndex.open(
        settings=settings.replace(index_dir=folder), embedder=caching, create=True
    )
    articles = load_paths(corpus).articles
    for copy in range(copies):
        started = time.perf_counter()
        batch = [a if copy == 0 else dataclasses.replace(a, id=f"{a.id}~{copy}") for a in articles]
        report = index.ingest_articles(batch)
        log(
            f"copy {copy + 1} of {copies}: {len(report.added) + len(report.updated)} articles "
            f"written in {time.perf_counter() - started:.0f} s"
        )
    search = newsrag_search(index, "hybrid", default_ranking(), True)
    summary = run_method("scaled", search, scored_items(questions)).summary()
    return {
        "copies": copies,
        "chunks": index.store.counts()[1],
        "p50_ms": summary["p50_ms"],
        "p95_ms": summary["p95_ms"],
    }


def cpu_ceiling(name: str, texts: Sequence[str]) -> ceiling.Ceiling:
    """The most chunks per second this CPU could embed ``texts`` with the model ``name`` (see
    benchmarks.ceiling)."""
    folder = Path(model_location(name))
    max_length = plain_max_length(folder)
    if max_length is None or not (folder / "config.json").is_file():
        raise EmbeddingModelError(
            f"Cannot work out the CPU ceiling for {name!r}: it is not a plain mean-pooling "
            "model folder with config.json and tokenizer.json — use the bundled model."
        )
    counts = ceiling.token_counts(folder, texts, max_length)
    return ceiling.measure(folder, counts, usable_cores())


def machine() -> dict[str, Any]:
    """The CPU the figures come from: its model and instruction sets, the cores this process
    may use, and the int8 encoder's weight width there (7 on x86 without VNNI)."""
    return {"cpu": cpu_features().describe(), "cores": usable_cores(), "int8_bits": weight_bits()}


def format_table(result: dict[str, Any]) -> str:
    enc, ing = result["encode"], result["ingest"]
    default = result["default_encoder"]
    lines = []
    if "machine" in result:
        m = result["machine"]
        lines += [f"machine: {m['cpu']}; {m['cores']} cores; int8 weights {m['int8_bits']}-bit", ""]
    lines += [
        f"{'measure':<44} {'value':>12}",
        "-" * 57,
        f"{'raw encode, ' + default + ' (chunks/s)':<44} {enc[default]:>12.1f}",
        f"{'newsrag ingest, ' + default + ' (chunks/s)':<44} {ing['chunks_per_s']:>12.1f}",
    ]
    pairs = result.get("ingest_pairs")
    if pairs:
        ratios = [p["ratio"] for p in pairs]
        lines.append(
            f"{'ingest / raw encode, median of ' + str(len(ratios)) + ' pairs':<44} "
            f"{statistics.median(ratios):>12.2f}  ({min(ratios):.2f}-{max(ratios):.2f})"
        )
    else:
        lines.append(f"{'ingest / raw encode':<44} {ing['chunks_per_s'] / enc[default]:>12.2f}")
    lines.append(f"{'peak RSS of ingest (MB)':<44} {ing['peak_rss_mb']:>12.0f}")
    if "ceiling" in result:
        c = result["ceiling"]
        lines += [
            f"{'matrix products fp32 / int8 (GMAC/s/core)':<44} "
            + f"{c['fp32_gmacs_per_core']:.1f} / {c['int8_gmacs_per_core']:.1f}".rjust(12),
            f"{'model work per chunk (GMAC, mean tokens)':<44} "
            f"{c['gmacs_per_chunk']:>12.2f}  ({c['mean_tokens']:.0f} tokens)",
            f"{'CPU ceiling (chunks/s, x float32)':<44} {c['chunks_per_s']:>12.1f}  "
            f"({c['chunks_per_s'] / enc['float32']:.2f} x)",
        ]
    if "cold_start_s" in result:
        runs = result.get("cold_start_runs") or [result["cold_start_s"]]
        lines.append(
            f"{'cold start of newsrag ask (s), median of ' + str(len(runs)):<44} "
            f"{result['cold_start_s']:>12.2f}  ({min(runs):.2f}-{max(runs):.2f})"
        )
    quality = result.get("quality", {})
    sizes = [quality[default]] if default in quality else []
    sizes += [result["scaled"]] if "scaled" in result else []
    for q in sizes:
        lines.append(
            f"{'retrieval p50 / p95 (ms), ' + str(q['chunks']) + ' chunks':<44} "
            f"{q['p50_ms']:>5.1f} / {q['p95_ms']:<5.1f}"
        )
    lines += [
        "",
        f"{'encoder':<10} {'chunks/s':>9} {'x float32':>9} {'cos mean':>9} {'cos min':>8} "
        f"{'hit@5':>7} {'MRR@10':>7}",
    ]
    for name, rate in enc.items():
        q = quality.get(name)
        hit = f"{q['hit@5']:>7.3f} {q['mrr@10']:>7.3f}" if q else f"{'-':>7} {'-':>7}"
        c = result.get("cosine", {}).get(name)
        cos = f"{c['mean']:>9.5f} {c['min']:>8.5f}" if c else f"{'-':>9} {'-':>8}"
        lines.append(f"{name:<10} {rate:>9.1f} {rate / enc['float32']:>9.2f} {cos} {hit}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        required=True,
        help="Articles (file or folder); repeatable.",
    )
    parser.add_argument("--questions", type=Path, required=True, help="Q&A JSONL.")
    parser.add_argument("--out", type=Path, default=Path("bench.json"), help="JSON results.")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path("bench-cache"),
        help="Vectors and indexes kept between runs (default %(default)s).",
    )
    parser.add_argument(
        "--ingest-articles",
        type=int,
        default=150,
        help="Articles whose chunks are encoded and ingested (default %(default)s).",
    )
    parser.add_argument(
        "--encoders",
        default=",".join(ENCODERS),
        help="Encoder options to compare (default %(default)s).",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="Ingests, each followed by a bare encode of the same texts with the default "
        "encoder; the table shows the median ratio of the pairs (default %(default)s).",
    )
    parser.add_argument(
        "--cold-runs",
        type=int,
        default=5,
        help="Cold `newsrag ask` runs; the table shows their median (default %(default)s).",
    )
    parser.add_argument(
        "--no-quality",
        action="store_true",
        help="Skip hit@5 over the full corpus (and the latency and cold start).",
    )
    parser.add_argument(
        "--cold-index",
        type=Path,
        help="Index to time a cold `newsrag ask` on (default: the quality run's full-corpus "
        "index of the default encoder).",
    )
    parser.add_argument(
        "--copies",
        type=int,
        default=0,
        help="Also time retrieval over the corpus held this many times under new ids (5: "
        "about 180,000 RealTimeQA chunks; built once under --cache from the quality run's "
        "vectors). Default 0: off.",
    )
    args = parser.parse_args(argv)
    encoders = [e for e in args.encoders.split(",") if e]
    if "float32" not in encoders or any(e not in ENCODERS for e in encoders):
        parser.error(f"--encoders must include float32 and name only {', '.join(ENCODERS)}")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    default = Settings().encoder
    cache = args.cache.expanduser().absolute()
    articles = load_paths(args.corpus).articles[: args.ingest_articles]
    texts = chunk_texts(articles, Settings())
    embedders = encoder_embedders(encoders if default in encoders else [*encoders, default])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NEWSRAG_ENCODER": default}
    result: dict[str, Any] = {
        "machine": machine(),
        "default_encoder": default,
        "texts": len(texts),
        "encode": {},
    }
    ingests, pairs = [], []
    with tempfile.TemporaryDirectory(prefix="newsrag-bench-") as tmp:
        for run in range(max(1, args.repeats)):
            log(f"ingesting {len(articles)} articles ({len(texts)} chunks) with {default}")
            folder = Path(tmp) / f"run{run}"
            folder.mkdir()
            ingests.append(ingest_rate(articles, folder, env))
            bare = encode_rate(embedders[default], texts)
            pairs.append(ingest_pair(ingests[-1]["chunks_per_s"], bare))
            log(f"ingest {pairs[-1]['ingest']:.1f}, bare encode {bare:.1f} chunks/s")
    result["ingest"] = median_ingest(ingests)
    result["ingest_pairs"] = pairs
    for name, embedder in embedders.items():
        if name == default:  # the median of the runs that alternated with the ingests
            result["encode"][name] = statistics.median(p["encode"] for p in pairs)
        else:
            result["encode"][name] = encode_rate(embedder, texts)
        log(f"encode {name}: {result['encode'][name]:.1f} chunks/s")
    result["cosine"] = agreement(embedders, texts)
    result["ceiling"] = cpu_ceiling(embedders["float32"].name, texts).as_dict()
    if not args.no_quality:
        result["quality"] = {}
        for name, embedder in embedders.items():
            summary, folder = quality(args.corpus, args.questions, cache, embedder, log)
            result["quality"][name] = summary
            log(f"quality {name}: hit@5 {summary['hit@5']:.3f}")
            if name == default and args.cold_index is None:
                args.cold_index = folder
    if args.copies > 0:
        result["scaled"] = scaled_latency(
            args.corpus, args.questions, cache, embedders[default], args.copies, log
        )
    if args.cold_index is not None:
        question = load_qa(args.questions)[0].question
        ask = ["ask", question, "--index", str(args.cold_index)]
        runs = cold_starts(ask, env, max(1, args.cold_runs))
        result["cold_start_runs"] = runs
        result["cold_start_s"] = statistics.median(runs)
    table = format_table(result)
    print(table)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
