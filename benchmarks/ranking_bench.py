"""The ranking through the real path: NewsIndex.search on a built index (Chroma's HNSW, the
keyword index, the date and lead priors), once per query adapter, with search latency.

    python -m benchmarks.ranking_bench --index .newsrag/idx-2026 \\
        --questions ../shared/data/realtimeqa-2026/questions-dev.jsonl \\
        --adapter none --adapter models/query-adapter-minilm.npz

Prints hit@1, hit@5, MRR@10 and search p50 / p95 per adapter (one warm-up query untimed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from eval.metrics import first_relevant_rank, hit_at, mrr_at, percentile
from eval.qa import load_qa
from index.config import Settings
from index.newsindex import NewsIndex


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ranking_bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument(
        "--adapter", action="append", required=True, help="none, default or a file; repeatable."
    )
    parser.add_argument("--mode", choices=("hybrid", "dense", "keyword"), default="hybrid")
    parser.add_argument("--json", type=Path, help="Write the figures here.")
    args = parser.parse_args(argv)
    items = [q for q in load_qa(args.questions) if q.answerable and (q.gold or q.evidence)]
    base = Settings.from_env().replace(index_dir=args.index)
    shared = NewsIndex.open(settings=base)
    rows = []
    for choice in args.adapter:
        index = NewsIndex(shared.store, base.replace(query_adapter=choice), shared.embedder)
        index.search(items[0].question, k=10, as_of=items[0].question_date)
        ranks: list[int | None] = []
        ms: list[float] = []
        for item in items:
            started = time.perf_counter()
            hits = index.search(item.question, k=10, mode=args.mode, as_of=item.question_date)
            ms.append((time.perf_counter() - started) * 1000)
            ranks.append(first_relevant_rank([h.chunk.text for h in hits], item))
        row = {
            "adapter": choice,
            "mode": args.mode,
            "questions": len(items),
            "hit@1": round(hit_at(ranks, 1) or 0.0, 4),
            "hit@5": round(hit_at(ranks, 5) or 0.0, 4),
            "mrr@10": round(mrr_at(ranks, 10) or 0.0, 4),
            "p50_ms": round(percentile(ms, 50) or 0.0, 1),
            "p95_ms": round(percentile(ms, 95) or 0.0, 1),
        }
        rows.append(row)
        print(
            f"{choice:<40} hit@1 {row['hit@1']:.3f} hit@5 {row['hit@5']:.3f} "
            f"MRR@10 {row['mrr@10']:.3f} p50 {row['p50_ms']:.1f} ms p95 {row['p95_ms']:.1f} ms",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
