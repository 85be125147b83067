"""Retrieval: dense (Chroma), keyword (BM25) or both fused, shaped by time, diversified, and
optionally reranked by a cross-encoder. A question in, the best passages out."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol, cast

import numpy as np
from chromadb.api.types import Where

from index.chunking import article_id_of
from index.config import SEARCH_MODES
from index.embeddings import Embedder
from index.errors import ConfigError
from index.keyword import KeywordIndex, KeywordSync
from index.query_adapter import QueryAdapter
from index.records import Hit
from index.store import ChromaStore
from index.timeframe import TimePreference, TimeWindow, day_number, parse_day, time_window

Mode = Literal["hybrid", "dense", "keyword"]
MODES = cast(tuple[Mode, ...], SEARCH_MODES)


@dataclass(frozen=True)
class SearchFilters:
    """Hard limits on what may be retrieved: sources, a date range (inclusive), articles.

    >>> SearchFilters(sources=("Reuters",), since=date(2026, 1, 1)).where()
    {'$and': [{'source': {'$in': ['Reuters']}}, {'published_int': {'$gte': 20260101}}]}
    """

    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    article_ids: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        sources: Sequence[str] = (),
        since: str | date | None = None,
        until: str | date | None = None,
        article_ids: Sequence[str] = (),
    ) -> SearchFilters:
        """Filters from user input; dates may be strings (``2026-01-14``)."""
        start, end = parse_day(since, "since"), parse_day(until, "until")
        if start and end and start > end:
            raise ConfigError(
                f"since={start} is after until={end} — swap them, or drop one of the two."
            )
        clean = tuple(s.strip() for s in sources if s.strip())
        return cls(clean, start, end, tuple(article_ids))

    def __bool__(self) -> bool:
        return bool(self.sources or self.since or self.until or self.article_ids)

    def where(self) -> Where | None:
        """The Chroma ``where`` clause for these filters (dates compare as YYYYMMDD integers)."""
        clauses: list[dict[str, Any]] = []
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if self.article_ids:
            clauses.append({"article_id": {"$in": list(self.article_ids)}})
        if self.since:
            clauses.append({"published_int": {"$gte": day_number(self.since)}})
        if self.until:
            clauses.append({"published_int": {"$lte": day_number(self.until)}})
        if not clauses:
            return None
        return cast(Where, clauses[0] if len(clauses) == 1 else {"$and": clauses})

    def mask(self, keyword: KeywordIndex) -> np.ndarray | None:
        """The same filters as a boolean mask over the keyword index's rows."""
        if not self:
            return None
        keep = np.ones(len(keyword), dtype=bool)
        if self.sources:
            keep &= np.isin(keyword.sources, list(self.sources))
        if self.article_ids:
            keep &= np.isin(keyword.article_ids, list(self.article_ids))
        if self.since:
            keep &= keyword.published >= day_number(self.since)
        if self.until:
            keep &= (keyword.published <= day_number(self.until)) & (keyword.published > 0)
        return keep

    def describe(self) -> str:
        """``source: Reuters · 2026-01-01 to 2026-01-31`` (or ``since …`` / ``until …``) for
        showing what is applied."""
        parts = []
        if self.sources:
            parts.append("source: " + ", ".join(self.sources))
        if self.since and self.until:
            parts.append(f"{self.since} to {self.until}")
        elif self.since:
            parts.append(f"since {self.since}")
        elif self.until:
            parts.append(f"until {self.until}")
        if self.article_ids:
            parts.append("articles: " + ", ".join(self.article_ids))
        return " · ".join(parts)


@dataclass(frozen=True)
class SearchRequest:
    """One search: the text, how many passages, how, within which limits, as of which day.

    Built once where input arrives (CLI, UI, API) and passed through unchanged to the
    retriever. ``k`` and ``mode`` left None take the index's settings (``top_k``,
    ``search_mode``); ``as_of`` is the day the question is asked on (default today; None turns
    the time preference off).

    >>> SearchRequest.build("Who won the derby?", 3, mode="keyword", as_of="2025-08-20").as_of
    datetime.date(2025, 8, 20)
    """

    text: str
    k: int | None = None
    mode: Mode | None = None
    filters: SearchFilters = field(default_factory=SearchFilters)
    as_of: date | None = field(default_factory=date.today)

    def __post_init__(self) -> None:
        if self.mode is not None and self.mode not in MODES:
            raise ConfigError(
                f"Unknown search mode {self.mode!r} — use one of: {', '.join(MODES)}."
            )
        if self.k is not None and (isinstance(self.k, bool) or not isinstance(self.k, int)):
            raise ConfigError(f"k={self.k!r} is not a number of passages — use 1 or more.")

    @classmethod
    def build(
        cls,
        text: str,
        k: int | None = None,
        *,
        mode: str | None = None,
        filters: SearchFilters | None = None,
        as_of: str | date | None = "today",
    ) -> SearchRequest:
        """A request from user input: ``as_of`` may be a string (``2026-01-14``, ``today``)."""
        return cls(
            text, k, cast(Mode | None, mode), filters or SearchFilters(), parse_day(as_of, "as_of")
        )

    def with_defaults(self, k: int, mode: str) -> SearchRequest:
        """This request with ``k`` and ``mode`` filled in where they were left None."""
        return dataclasses.replace(
            self,
            k=k if self.k is None else self.k,
            mode=cast(Mode, mode) if self.mode is None else self.mode,
        )


def as_request(
    query: str | SearchRequest,
    k: int | None = None,
    mode: str | None = None,
    filters: SearchFilters | None = None,
    as_of: str | date | None = "today",
) -> SearchRequest:
    """``query`` itself if it is a SearchRequest, else the request the keyword arguments make
    (the keyword API of ``NewsIndex.search`` and ``Assistant.ask``). A request and keywords
    beside it would disagree, so that is a TypeError."""
    if not isinstance(query, SearchRequest):
        return SearchRequest.build(query, k, mode=mode, filters=filters, as_of=as_of)
    if k is not None or mode is not None or filters is not None or as_of != "today":
        raise TypeError("Pass k, mode, filters and as_of inside the SearchRequest, not beside it.")
    return query


@dataclass(frozen=True)
class Ranking:
    """How candidates become the top k. Defaults are the values the retrieval benchmark chose.

    Fusion is reciprocal-rank fusion of the dense and keyword lists, normalised to [0, 1];
    ``time_weight`` adds a date preference (see TimePreference) and ``lead_weight`` a bonus for
    an article's first passage; ``max_per_article`` caps how many passages of one article the
    top k holds while other articles qualify.
    """

    candidates: int = 100
    rrf_k: int = 60
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    time_weight: float = 0.3
    half_life_days: float = 30.0
    max_per_article: int = 2
    rerank_candidates: int = 30
    future_half_life_days: float = 0.0
    lead_weight: float = 0.1  # news puts the key facts first: a bonus for an article's lead


class Reranker(Protocol):
    """Scores (query, passage) pairs; higher is more relevant."""

    def score(self, query: str, passages: Sequence[str]) -> Sequence[float]: ...


@dataclass(frozen=True)
class Candidate:
    chunk_id: str
    article_id: str
    published: int
    position: int = 0
    relevance: float = 0.0
    cosine: float | None = None  # known for passages the dense search returned


class Retriever:
    """Finds the passages for a question in a ChromaStore and its keyword index.

    >>> retriever = Retriever(store, keyword_sync, embedder)
    >>> retriever.search("What did Rutte say about a European army?", k=5, as_of=date.today())
    [Hit(chunk=Chunk(...), score=0.61, rank=1, relevance=0.93), ...]
    """

    def __init__(
        self,
        store: ChromaStore,
        keyword: KeywordSync,
        embedder: Embedder,
        ranking: Ranking | None = None,
        reranker: Reranker | None = None,
        adapter: QueryAdapter | None = None,
    ) -> None:
        self.store = store
        self.keyword = keyword
        self.embedder = embedder
        self.ranking = ranking or Ranking()
        self.reranker = reranker
        self.adapter = adapter

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        mode: Mode = "hybrid",
        filters: SearchFilters | None = None,
        as_of: date | None = None,
    ) -> list[Hit]:
        """The ``k`` best passages for ``query``, best first (see :meth:`find`)."""
        return self.find(SearchRequest(query, k, mode, filters or SearchFilters(), as_of))

    def find(self, request: SearchRequest) -> list[Hit]:
        """The ``request.k`` (default 5) best passages for ``request.text``, best first.

        ``as_of`` turns on the time preference: relative expressions in the query ("last
        week") are read from that date, and without one, passages from shortly before it are
        preferred. ``filters`` are hard limits. [] for an empty query or index.
        """
        query, filters, as_of = request.text, request.filters, request.as_of
        k = 5 if request.k is None else request.k
        mode = request.mode or "hybrid"
        if not query.strip() or k < 1:
            return []
        r = self.ranking
        vector = self.embedder.embed_query(query)
        # the adapter moves the question only for the dense search; a hit's score stays the
        # base cosine, so thresholds on it (min_score) keep their meaning
        searched = self.adapter.apply(vector) if self.adapter else vector
        state = self.store.write_state()
        self.store.follow(state)  # another process may have written
        keyword = self.keyword.current(state)
        lists: dict[str, list[tuple[str, float]]] = {}
        tokens = self.keyword.tokenize([query])[0] if mode != "dense" else []
        if mode in ("hybrid", "dense"):
            lists["dense"] = self.store.nearest(searched, r.candidates, filters.where())
        if mode in ("hybrid", "keyword"):
            found = keyword.search(tokens, r.candidates, filters.mask(keyword))
            lists["keyword"] = [(keyword.rows[row].chunk_id, score) for row, score in found]
        candidates = self._fuse(lists, keyword)
        if state.uncommitted:  # half-written articles of a write under way (or one that died)
            candidates = [c for c in candidates if c.article_id not in state.uncommitted]
        window = time_window(query, as_of) if as_of else None
        candidates = _apply_priors(candidates, as_of, window, r)
        if self.reranker is not None:
            candidates = self._rerank(query, candidates)
        chosen = _diversify(candidates, k, r.max_per_article)
        return self._hits(chosen, vector)

    def _fuse(
        self, lists: Mapping[str, list[tuple[str, float]]], keyword: KeywordIndex
    ) -> list[Candidate]:
        r = self.ranking
        weights = {"dense": r.dense_weight, "keyword": r.keyword_weight}
        best = sum(weights[name] for name in lists) / (r.rrf_k + 1)
        fused: dict[str, float] = {}
        for name, items in lists.items():
            for rank, (chunk_id, _) in enumerate(items, start=1):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + weights[name] / (r.rrf_k + rank)
        cosines = dict(lists.get("dense", []))
        out = []
        for chunk_id, score in fused.items():
            row = keyword.position.get(chunk_id)
            info = keyword.rows[row] if row is not None else None
            out.append(
                Candidate(
                    chunk_id,
                    info.article_id if info else article_id_of(chunk_id),
                    info.published if info else 0,
                    info.position if info else -1,
                    score / best if best else 0.0,
                    cosines.get(chunk_id),
                )
            )
        out.sort(key=lambda c: (-c.relevance, c.chunk_id))
        return out

    def _rerank(self, query: str, candidates: list[Candidate]) -> list[Candidate]:
        assert self.reranker is not None
        head = candidates[: self.ranking.rerank_candidates]
        chunks = self.store.get_chunks([c.chunk_id for c in head])
        texts = [chunks[c.chunk_id][0].text if c.chunk_id in chunks else "" for c in head]
        scores = list(self.reranker.score(query, texts))
        order = sorted(range(len(head)), key=lambda i: -scores[i])
        r = self.ranking
        reranked = [
            dataclasses.replace(
                head[i], relevance=(r.rrf_k + 1) / (r.rrf_k + rank) + head[i].relevance * 1e-3
            )
            for rank, i in enumerate(order, start=1)
        ]
        return reranked + candidates[len(head) :]

    def _hits(self, chosen: Sequence[Candidate], vector: np.ndarray) -> list[Hit]:
        chunks = self.store.get_chunks([c.chunk_id for c in chosen])
        hits: list[Hit] = []
        for candidate in chosen:
            if candidate.chunk_id not in chunks:
                continue  # deleted between ranking and fetching
            chunk, stored = chunks[candidate.chunk_id]
            cosine = candidate.cosine if self.adapter is None else None
            if cosine is None:
                cosine = float(np.dot(stored, vector))
            hits.append(Hit(chunk, round(cosine, 6), len(hits) + 1, round(candidate.relevance, 6)))
        return hits


def _apply_priors(
    candidates: list[Candidate], as_of: date | None, window: TimeWindow | None, r: Ranking
) -> list[Candidate]:
    """Add the date preference (with an as-of date) and the lead bonus, then re-sort."""
    use_time = as_of is not None and r.time_weight > 0
    if not use_time and r.lead_weight <= 0:
        return candidates
    preference = (
        TimePreference(as_of, window, r.half_life_days, r.future_half_life_days)
        if as_of is not None
        else None
    )
    shaped = []
    for c in candidates:
        bonus = r.lead_weight if c.position == 0 else 0.0
        if use_time and preference is not None:
            bonus += r.time_weight * preference.score(c.published)
        # built directly: dataclasses.replace is slow enough to show in a query's latency
        shaped.append(
            Candidate(
                c.chunk_id, c.article_id, c.published, c.position, c.relevance + bonus, c.cosine
            )
        )
    shaped.sort(key=lambda c: (-c.relevance, c.chunk_id))
    return shaped


def _diversify(candidates: Sequence[Candidate], k: int, cap: int) -> list[Candidate]:
    """The best ``k``, at most ``cap`` per article; passages over the cap fill any slots left
    when too few other articles qualify (so a question about one article still gets k)."""
    chosen: list[Candidate] = []
    overflow: list[Candidate] = []
    per_article: dict[str, int] = {}
    for candidate in candidates:
        if len(chosen) == k:
            break
        count = per_article.get(candidate.article_id, 0)
        if cap and count >= cap:
            overflow.append(candidate)
            continue
        per_article[candidate.article_id] = count + 1
        chosen.append(candidate)
    chosen.extend(overflow[: k - len(chosen)])
    chosen.sort(key=lambda c: (-c.relevance, c.chunk_id))
    return chosen
