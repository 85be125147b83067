"""newsrag's ranking replayed over a cached split (benchmarks.ranking_data), with any query
vectors: exact dense top 100 over the stored passage vectors, the cached BM25 top 100,
reciprocal-rank fusion, the date and lead priors and the per-article cap of index.retrieval.
Fast enough to cross-validate a query adapter in seconds; benchmarks.ranking_bench checks the
figures through the real NewsIndex.search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.ranking_data import Split
from index.retrieval import Candidate, Ranking, _apply_priors, _diversify
from index.timeframe import parse_day, time_window

DEPTH = 10
POOL = 30


@dataclass(frozen=True)
class Scores:
    """Retrieval figures over a set of questions (shares in [0, 1])."""

    questions: int
    hit1: float
    hit5: float
    mrr10: float
    recall30: float
    recall100: float

    def row(self) -> str:
        return (
            f"{self.hit1:.3f} {self.hit5:.3f} {self.mrr10:.3f} {self.recall30:.3f} "
            f"{self.recall100:.3f}"
        )

    def as_dict(self) -> dict[str, float]:
        return {
            "questions": self.questions,
            "hit@1": round(self.hit1, 4),
            "hit@5": round(self.hit5, 4),
            "mrr@10": round(self.mrr10, 4),
            "recall@30": round(self.recall30, 4),
            "recall@100": round(self.recall100, 4),
        }


@dataclass(frozen=True)
class Outcome:
    """One question: the 1-based rank of the first relevant passage in the top 10 (or None),
    and whether the top 30 / the candidate union hold one."""

    rank: int | None
    in30: bool
    in100: bool


def dense_top(split: Split, queries: np.ndarray, n: int) -> np.ndarray:
    """(m, n) passage rows nearest to each query vector, best first (exact cosine)."""
    out = np.zeros((len(queries), n), dtype=np.int64)
    for start in range(0, len(queries), 256):
        sims = queries[start : start + 256] @ split.vectors.T
        part = np.argpartition(-sims, n - 1, axis=1)[:, :n]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1, kind="stable")
        out[start : start + 256] = np.take_along_axis(part, order, axis=1)
    return out


def rank_one(
    split: Split,
    q: int,
    dense: Sequence[int],
    ranking: Ranking,
    use_time: bool = True,
    mode: str = "hybrid",
) -> Outcome:
    r = ranking
    lists: list[tuple[float, Sequence[int]]] = []
    if mode in ("hybrid", "dense"):
        lists.append((r.dense_weight, dense[: r.candidates]))
    if mode in ("hybrid", "keyword"):
        bm = [int(x) for x in split.bm25_rows[q][: r.candidates] if x >= 0]
        lists.append((r.keyword_weight, bm))
    best = sum(w for w, _ in lists) / (r.rrf_k + 1)
    fused: dict[int, float] = {}
    for weight, rows in lists:
        for place, row in enumerate(rows, start=1):
            fused[int(row)] = fused.get(int(row), 0.0) + weight / (r.rrf_k + place)
    cands = [
        Candidate(
            str(split.chunk_ids[row]),
            str(split.article_ids[row]),
            int(split.published[row]),
            int(split.positions[row]),
            score / best,
        )
        for row, score in fused.items()
    ]
    cands.sort(key=lambda c: (-c.relevance, c.chunk_id))
    item = split.questions[q]
    as_of = parse_day(item.question_date) if use_time else None
    window = time_window(item.question, as_of) if as_of else None
    cands = _apply_priors(cands, as_of, window, r)
    row_of = _row_index(split)
    relevant = split.relevant[q]
    in30 = any(row_of[c.chunk_id] in relevant for c in cands[:POOL])
    in100 = any(row in relevant for row in fused)
    chosen = _diversify(cands, DEPTH, r.max_per_article)
    rank = next((i for i, c in enumerate(chosen, start=1) if row_of[c.chunk_id] in relevant), None)
    return Outcome(rank, in30, in100)


_ROWS: dict[int, dict[str, int]] = {}


def _row_index(split: Split) -> dict[str, int]:
    key = id(split.chunk_ids)
    if key not in _ROWS:
        _ROWS[key] = {str(c): i for i, c in enumerate(split.chunk_ids)}
    return _ROWS[key]


def evaluate(
    split: Split,
    queries: np.ndarray,
    ranking: Ranking,
    rows: Sequence[int] | None = None,
    use_time: bool = True,
    mode: str = "hybrid",
) -> list[Outcome]:
    """Outcomes of the questions ``rows`` (default all) ranked with ``queries`` (one vector per
    question of the split)."""
    chosen = list(range(len(split.questions))) if rows is None else list(rows)
    top = dense_top(split, queries[chosen], ranking.candidates)
    return [rank_one(split, q, top[i], ranking, use_time, mode) for i, q in enumerate(chosen)]


def score(outcomes: Sequence[Outcome]) -> Scores:
    n = len(outcomes)
    ranks = [o.rank for o in outcomes]
    return Scores(
        n,
        sum(1 for r in ranks if r is not None and r <= 1) / n,
        sum(1 for r in ranks if r is not None and r <= 5) / n,
        sum(1.0 / r for r in ranks if r is not None) / n,
        sum(o.in30 for o in outcomes) / n,
        sum(o.in100 for o in outcomes) / n,
    )
