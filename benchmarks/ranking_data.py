"""What training and judging a query-side ranking needs, read once from a built index and cached:
every passage's stored vector and metadata, the questions' base vectors, their BM25 candidates
and, per question, which passages hold its gold answer (eval.metrics.is_relevant).

    python -m benchmarks.ranking_data --index .newsrag/idx-2025 \\
        --questions ../shared/data/realtimeqa-2025/questions-train.jsonl \\
        --out .newsrag/ranking/2025

Nothing is re-encoded: passage vectors come out of Chroma as stored; only the questions are
embedded, by the index's own model and encoder. The index is opened read-only.
"""

from __future__ import annotations

import argparse
import bisect
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.metrics import is_relevant, normalize
from eval.qa import QAItem, load_qa
from index.config import Settings
from index.newsindex import NewsIndex

BM25_DEPTH = 100
ID_BATCH = 2000


@dataclass(frozen=True)
class Split:
    """One cached (index, question set): arrays in memory, loaded by :func:`load_split`."""

    name: str
    chunk_ids: np.ndarray  # (n,) str
    vectors: np.ndarray  # (n, d) float32, as stored
    article_ids: np.ndarray  # (n,) str
    published: np.ndarray  # (n,) int YYYYMMDD, 0 undated
    positions: np.ndarray  # (n,) int, 0 = an article's lead
    questions: tuple[QAItem, ...]
    query_vectors: np.ndarray  # (m, d) float32, the base model's
    bm25_rows: np.ndarray  # (m, BM25_DEPTH) int passage rows, -1 padding
    relevant: tuple[frozenset[int], ...]  # per question, passage rows holding the answer


def dump_passages(index: NewsIndex, out: Path, log: object = print) -> int:
    """Write ids, vectors and metadata of every passage of ``index`` under ``out``."""
    chunks = index.store.chunks
    total = chunks.count()
    ids: list[str] = []
    for offset in range(0, total, ID_BATCH):
        ids.extend(chunks.get(include=[], limit=ID_BATCH, offset=offset)["ids"])
    ids.sort()
    vectors = np.zeros((len(ids), index.store.build.embedding_dimension), dtype=np.float32)
    article_ids, published, positions, texts = [], [], [], []
    for start in range(0, len(ids), ID_BATCH):
        part = ids[start : start + ID_BATCH]
        got = index.store.get_chunks(part)
        for offset, cid in enumerate(part):
            chunk, vector = got[cid]
            vectors[start + offset] = vector
            article_ids.append(chunk.article_id)
            day = (chunk.published or "").replace("-", "")
            published.append(int(day) if day.isdigit() else 0)
            positions.append(chunk.index)
            texts.append(chunk.text)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "vectors.npy", vectors)
    np.savez(
        out / "passages.npz",
        chunk_ids=np.array(ids),
        article_ids=np.array(article_ids),
        published=np.array(published, dtype=np.int64),
        positions=np.array(positions, dtype=np.int64),
    )
    with (out / "texts.jsonl").open("w", encoding="utf-8") as f:
        for text in texts:
            f.write(json.dumps(text) + "\n")
    return len(ids)


def relevant_rows(texts: Sequence[str], items: Sequence[QAItem]) -> list[list[int]]:
    """Per question, the passages holding its answer: a substring scan of all normalised texts
    joined, each candidate then checked with eval.metrics.is_relevant (whole words)."""
    normal = [normalize(t) for t in texts]
    starts: list[int] = []
    pos = 0
    for t in normal:
        starts.append(pos)
        pos += len(t) + 1
    joined = "\n".join(normal)
    result = []
    for item in items:
        rows: set[int] = set()
        for needle in item.evidence or item.gold:
            wanted = normalize(needle)
            if not wanted:
                continue
            at = joined.find(wanted)
            while at >= 0:
                rows.add(bisect.bisect_right(starts, at) - 1)
                at = joined.find(wanted, at + 1)
        result.append(sorted(r for r in rows if is_relevant(texts[r], item)))
    return result


def dump_questions(index: NewsIndex, questions: Path, out: Path) -> int:
    items = [q for q in load_qa(questions) if q.answerable and (q.gold or q.evidence)]
    ids = np.load(out / "passages.npz")["chunk_ids"]
    row_of = {str(c): i for i, c in enumerate(ids)}
    embedder = index.embedder
    qv = np.stack([embedder.embed_query(q.question) for q in items]).astype(np.float32)
    keyword = index.keyword.current()
    bm25 = np.full((len(items), BM25_DEPTH), -1, dtype=np.int64)
    for i, item in enumerate(items):
        tokens = index.keyword.tokenize([item.question])[0]
        found = keyword.search(tokens, BM25_DEPTH)
        for j, (row, _) in enumerate(found):
            bm25[i, j] = row_of[keyword.rows[row].chunk_id]
    texts = [json.loads(line) for line in (out / "texts.jsonl").open(encoding="utf-8")]
    relevant = relevant_rows(texts, items)
    np.save(out / "query_vectors.npy", qv)
    np.save(out / "bm25_rows.npy", bm25)
    with (out / "questions.jsonl").open("w", encoding="utf-8") as f:
        for item, rows in zip(items, relevant, strict=True):
            record = {
                "id": item.id,
                "question": item.question,
                "gold": list(item.gold),
                "evidence": list(item.evidence),
                "choices": list(item.choices),
                "question_date": item.question_date,
                "relevant": rows,
            }
            f.write(json.dumps(record) + "\n")
    return len(items)


def load_split(folder: Path, name: str = "") -> Split:
    """The cached split in ``folder`` (written by this module's main)."""
    meta = np.load(folder / "passages.npz")
    items, relevant = [], []
    for line in (folder / "questions.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        items.append(
            QAItem(
                r["id"],
                r["question"],
                answer=r["gold"][0] if r["gold"] else None,
                answers=tuple(r["gold"][1:]),
                evidence=tuple(r["evidence"]),
                choices=tuple(r["choices"]),
                question_date=r["question_date"],
            )
        )
        relevant.append(frozenset(r["relevant"]))
    return Split(
        name or folder.name,
        meta["chunk_ids"],
        np.load(folder / "vectors.npy"),
        meta["article_ids"],
        meta["published"],
        meta["positions"],
        tuple(items),
        np.load(folder / "query_vectors.npy"),
        np.load(folder / "bm25_rows.npy"),
        tuple(relevant),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ranking_data", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--index", type=Path, required=True, help="A built newsrag index.")
    parser.add_argument("--questions", type=Path, required=True, help="Q&A JSONL.")
    parser.add_argument("--out", type=Path, required=True, help="Cache folder to write.")
    args = parser.parse_args(argv)
    settings = Settings.from_env().replace(index_dir=args.index)
    index = NewsIndex.open(settings=settings)
    started = time.perf_counter()
    if not (args.out / "passages.npz").exists():
        n = dump_passages(index, args.out)
        print(f"{n} passages in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    m = dump_questions(index, args.questions, args.out)
    print(f"{m} questions in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
