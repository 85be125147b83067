"""Crash check at full scale, run by hand: ``kill -9`` a ``newsrag ingest`` of a corpus at random
points, run it again to the end, and compare the index with a clean ingest of the same corpus
(articles and their content hashes, chunk ids and texts, counts, keyword index rows).

    python -m benchmarks.crash_check \\
        --corpus ../shared/data/realtimeqa-2026/articles.jsonl --corpus ../shared/data/seed \\
        --work /tmp/crash --kills 3

``--embedding-model fake:64`` makes a full-corpus run take minutes instead of an hour; the
write path (journal, commit groups, keyword index) is the same for any model. CI runs the same
check on a small synthetic corpus with the real model (tests/index/test_ingest_crash.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from index import NewsIndex, Settings
from index.errors import IndexNotFoundError
from index.store import chunk_fields


def ingest_command(corpus: list[str], index_dir: Path, model: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from assistant.cli import run; run()",
        "ingest",
        *corpus,
        "--index",
        str(index_dir),
        "--embedding-model",
        model,
        "-q",
    ]


def snapshot(index_dir: Path, model: str) -> dict[str, Any]:
    """What must match a clean ingest, read in this (fresh) process."""
    index = NewsIndex.open(settings=Settings(index_dir=index_dir, embedding_model=model))
    articles = _all(index.store.articles, ["metadatas"])
    chunks = _all(index.store.chunks, ["metadatas"])
    keyword = index.keyword.current()
    per_article = Counter(str(m["article_id"]) for _, m, _ in chunks)
    return {
        "articles": {aid: (m["content_hash"], m["chunks"]) for aid, m, _ in articles},
        "chunks": {cid: (m["article_id"], chunk_fields(m)["text"]) for cid, m, _ in chunks},
        "keyword_rows": sorted(row.chunk_id for row in keyword.rows),
        "whole": all(per_article[aid] == m["chunks"] for aid, m, _ in articles),
        "writing": index.store.write_state().writing,
    }


def _all(collection: Any, include: list[str]) -> list[tuple[str, Any, Any]]:
    out: list[tuple[str, Any, Any]] = []
    total = collection.count()
    for offset in range(0, total, 5000):
        got = collection.get(include=include, limit=5000, offset=offset)
        docs = got.get("documents") or [None] * len(got["ids"])
        out += list(zip(got["ids"], got["metadatas"] or [], docs, strict=True))
    return out


def committed(index_dir: Path, model: str) -> int:
    """Articles committed so far, checked whole, in a new process (as a user would look)."""
    code = (
        "import sys; from pathlib import Path; from benchmarks.crash_check import snapshot\n"
        "from index.errors import IndexNotFoundError\n"
        "try:\n"
        "    s = snapshot(Path(sys.argv[1]), sys.argv[2])\n"
        "    assert s['whole'], 'an article is missing passages'\n"
        "    print(len(s['articles']))\n"
        "except IndexNotFoundError:\n"
        "    print(0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(index_dir.absolute()), model],
        cwd=Path(__file__).resolve().parents[1],  # benchmarks/ is not installed: run from the tree
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", action="append", required=True, help="file or folder")
    parser.add_argument("--work", type=Path, required=True, help="scratch folder (emptied)")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--embedding-model", default="all-MiniLM-L6-v2")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    model = args.embedding_model
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}

    clean_dir = args.work / "clean"
    started = time.perf_counter()
    subprocess.run(ingest_command(args.corpus, clean_dir, model), env=env, check=True)
    clean_seconds = time.perf_counter() - started
    print(f"clean ingest: {clean_seconds:.1f} s", flush=True)

    seed = args.seed if args.seed is not None else random.randrange(100_000)
    rng = random.Random(seed)
    crashed = args.work / "crashed"
    kills = []
    for n in range(args.kills):
        delay = rng.uniform(0.1, 0.9) * clean_seconds
        proc = subprocess.Popen(
            ingest_command(args.corpus, crashed, model),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills.append({"after_s": round(delay, 1), "committed": committed(crashed, model)})
        print(f"kill {n + 1}: after {delay:.1f} s, {kills[-1]['committed']} committed", flush=True)
    started = time.perf_counter()
    subprocess.run(ingest_command(args.corpus, crashed, model), env=env, check=True)
    rerun_seconds = time.perf_counter() - started

    try:
        a, b = snapshot(clean_dir, model), snapshot(crashed, model)
    except IndexNotFoundError as exc:
        print(exc)
        return 1
    same = {
        key: a[key] == b[key] for key in ("articles", "chunks", "keyword_rows", "writing", "whole")
    }
    result = {
        "seed": seed,
        "model": model,
        "articles": len(a["articles"]),
        "chunks": len(a["chunks"]),
        "clean_ingest_s": round(clean_seconds, 1),
        "kills": kills,
        "final_rerun_s": round(rerun_seconds, 1),
        "identical": same,
        "keyword_in_step": b["keyword_rows"] == sorted(b["chunks"]),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0 if all(same.values()) and result["keyword_in_step"] else 1


if __name__ == "__main__":
    sys.exit(main())
