"""The reader's training and validation material: for each question, the passages it is
answered from, and the passages left when its answer-bearing articles are taken away (a
made-unanswerable twin), cached as JSON lines so training runs cost no retrieval.

With ``--index`` (a built index of the questions' year, e.g. .newsrag/idx-2025 for train
and .newsrag/idx-2026 for dev) the passages are retrieved exactly as `newsrag eval` retrieves
them (:func:`index_case`). Without one, ``--articles`` gives a stand-in retrieval over the year's
own articles, chunked like the index: BM25 over the passages, its best ``POOL`` re-ranked by
fusing BM25's order with the bundled model's cosine (reciprocal ranks, as the hybrid search
does); it finds the answer for fewer questions (2025 train: 46 % vs 51 % from the real index)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from eval.metrics import contains
from index.chunking import Chunker
from index.embeddings import Embedder
from index.keyword import KeywordIndex, Tokenizer, keyword_row
from index.records import Chunk, Hit, Statement

POOL = 10  # BM25 passages the train retrieval re-ranks by cosine
DEEP = 60  # how deep to look for passages of other articles for the made-unanswerable twin
K = 5  # passages an answer is composed from (the default top_k)
RRF = 60


@dataclass(frozen=True)
class Case:
    """One question with its passages: ``hits`` as asked, ``blind`` without the articles that
    hold its answer, ``extra`` the option passages a multiple-choice question adds."""

    id: str
    question: str
    answer: str
    choices: tuple[str, ...]
    question_date: str | None
    hits: tuple[Hit, ...]
    blind: tuple[Hit, ...]
    extra: tuple[Hit, ...] = ()


def hit_to_dict(hit: Hit) -> dict[str, Any]:
    chunk = asdict(hit.chunk)
    return {"chunk": chunk, "score": hit.score, "rank": hit.rank, "relevance": hit.relevance}


def hit_from_dict(data: dict[str, Any]) -> Hit:
    c = dict(data["chunk"])
    statements = c.pop("statements")
    chunk = Chunk(
        **c,
        statements=None if statements is None else tuple(Statement(**s) for s in statements),
    )
    return Hit(chunk, float(data["score"]), int(data["rank"]), float(data["relevance"]))


def write_cases(cases: Sequence[Case], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for c in cases:
            record = {
                "id": c.id,
                "question": c.question,
                "answer": c.answer,
                "choices": list(c.choices),
                "question_date": c.question_date,
                "hits": [hit_to_dict(h) for h in c.hits],
                "blind": [hit_to_dict(h) for h in c.blind],
                "extra": [hit_to_dict(h) for h in c.extra],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_cases(path: Path) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        cases.append(
            Case(
                r["id"],
                r["question"],
                r["answer"],
                tuple(r["choices"]),
                r["question_date"],
                tuple(hit_from_dict(h) for h in r["hits"]),
                tuple(hit_from_dict(h) for h in r["blind"]),
                tuple(hit_from_dict(h) for h in r["extra"]),
            )
        )
    return cases


def bearing(hits: Sequence[Hit], answer: str, text_of: Callable[[str], str]) -> set[str]:
    """The articles among ``hits`` whose full text holds ``answer`` (whole words)."""
    ids = {h.chunk.article_id for h in hits}
    return {a for a in ids if contains(text_of(a), answer)}


def without(hits: Sequence[Hit], articles: set[str], k: int = K) -> tuple[Hit, ...]:
    kept = [h for h in hits if h.chunk.article_id not in articles][:k]
    return tuple(Hit(h.chunk, h.score, n, h.relevance) for n, h in enumerate(kept, start=1))


class LocalRetrieval:
    """BM25 + cosine over one year's articles, chunked as the index chunks them."""

    def __init__(self, articles_jsonl: Path, embedder: Embedder) -> None:
        from index.loaders import load_paths

        loaded = load_paths([articles_jsonl])
        self.texts = {a.id: a.text for a in loaded.articles}
        chunker = Chunker(160, 30)
        self.chunks = [c for a in loaded.articles for c in chunker.chunk(a)]
        self.tokenizer = Tokenizer()
        tokens = self.tokenizer([c.text for c in self.chunks])
        rows = [keyword_row(c, t) for c, t in zip(self.chunks, tokens, strict=True)]
        self.keyword = KeywordIndex.build(rows, generation=1)
        self.embedder = embedder

    def bm25(self, query: str, as_of: str | None, n: int) -> list[int]:
        mask = None
        if as_of:
            day = int(date.fromisoformat(as_of).strftime("%Y%m%d"))
            mask = self.keyword.published <= day
        return [i for i, _ in self.keyword.search(self.tokenizer([query])[0], n, mask)]

    def fuse(self, query: str, rows: Sequence[int], k: int = K) -> tuple[Hit, ...]:
        if not rows:
            return ()
        chunks = [self.chunks[i] for i in rows]
        cos = self.embedder.embed_documents([c.text for c in chunks]) @ self.embedder.embed_query(
            query
        )
        by_cos = {int(i): r for r, i in enumerate(np.argsort(-cos))}
        fused = [1 / (RRF + n) + 1 / (RRF + by_cos[n]) for n in range(len(chunks))]
        order = sorted(range(len(chunks)), key=lambda n: -fused[n])[:k]
        return tuple(
            Hit(chunks[n], float(cos[n]), r, float(fused[n])) for r, n in enumerate(order, 1)
        )

    def case(self, item: dict[str, Any]) -> Case:
        q, as_of, answer = item["question"], item.get("question_date"), item["answer"]
        deep = self.bm25(q, as_of, DEEP)
        hits = self.fuse(q, deep[:POOL])
        gone = {
            self.chunks[i].article_id
            for i in deep
            if contains(self.texts[self.chunks[i].article_id], answer)
        }
        blind_rows = [i for i in deep if self.chunks[i].article_id not in gone][:POOL]
        blind = self.fuse(q, blind_rows)
        extra = self.extra(q, as_of, item.get("choices") or (), hits)
        return Case(
            item["id"], q, answer, tuple(item.get("choices") or ()), as_of, hits, blind, extra
        )

    def extra(
        self, q: str, as_of: str | None, choices: Sequence[str], hits: Sequence[Hit]
    ) -> tuple[Hit, ...]:
        """As assistant.chain.option_passages: each option's best passage naming it, when the
        question's own passages name none."""
        from assistant.choices import named_options, read_options

        options = read_options(q, choices)
        if not options or any(named_options(h.chunk.text, options) for h in hits):
            return ()
        out: list[Hit] = []
        seen = {h.chunk.id for h in hits}
        for option in options:
            for i in self.bm25(f"{q} {option.text}", as_of, 5):
                c = self.chunks[i]
                if c.id not in seen and named_options(c.text, [option]):
                    out.extend(self.fuse(q, [i], 1))
                    seen.add(c.id)
                    break
        return tuple(
            Hit(h.chunk, h.score, len(hits) + n, h.relevance) for n, h in enumerate(out, 1)
        )


def index_case(index: Any, item: dict[str, Any]) -> Case:
    """A Case from a real index (``index.newsindex.NewsIndex``), retrieved as `newsrag eval`
    asks (eval.runner.score_question): the question as of its date, ``max(RANK_DEPTH,
    search_depth)`` deep, answered from ``answer_passages``; the options' passages as
    ``option_passages`` adds them. The made-unanswerable twin: a ``DEEP`` search with the
    articles whose full text holds the answer taken out, answered from the same way."""
    from assistant.chain import OPTION_DEPTH, answer_passages, option_passages, search_depth
    from eval.metrics import RANK_DEPTH

    q, as_of, answer = item["question"], item.get("question_date"), item["answer"]
    when = as_of or "today"
    hits = answer_passages(q, index.search(q, max(RANK_DEPTH, search_depth(q, K)), as_of=when), K)
    deep = index.search(q, max(DEEP, search_depth(q, K)), as_of=when)
    texts: dict[str, str] = {}

    def text_of(article_id: str) -> str:
        if article_id not in texts:
            texts[article_id] = index.article(article_id).text
        return texts[article_id]

    gone = bearing(deep, answer, text_of)
    blind = without(
        answer_passages(q, [h for h in deep if h.chunk.article_id not in gone], K), set()
    )
    choices = tuple(item.get("choices") or ())
    full = option_passages(
        q, hits, choices, lambda query: index.search(query, max(K, OPTION_DEPTH), as_of=when)
    )
    return Case(item["id"], q, answer, choices, as_of, tuple(hits), blind, tuple(full[len(hits) :]))


def main(argv: Sequence[str] | None = None) -> None:
    import argparse
    import sys
    import time

    from index.newsindex import NewsIndex

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("questions", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--articles", type=Path, help="a train year's articles.jsonl (local retrieval)")
    p.add_argument("--index", type=Path, help="a built index of the questions' year")
    p.add_argument("--embedder-index", type=Path, default=Path(".newsrag/idx-2026"))
    p.add_argument("--limit", type=int, default=0)
    a = p.parse_args(argv)
    items = [json.loads(x) for x in a.questions.read_text(encoding="utf-8").splitlines() if x]
    items = items[: a.limit] if a.limit else items
    started = time.perf_counter()
    if a.index:
        index = NewsIndex.open(a.index)
        cases = []
        for n, item in enumerate(items, 1):
            cases.append(index_case(index, item))
            if n % 20 == 0:
                print(f"{n}/{len(items)} {time.perf_counter() - started:.0f}s", file=sys.stderr)
    else:
        embedder = NewsIndex.open(a.embedder_index).embedder
        local = LocalRetrieval(a.articles, embedder)
        print(f"{len(local.chunks)} chunks {time.perf_counter() - started:.0f}s", file=sys.stderr)
        cases = []
        for n, item in enumerate(items, 1):
            cases.append(local.case(item))
            if n % 20 == 0:
                print(f"{n}/{len(items)} {time.perf_counter() - started:.0f}s", file=sys.stderr)
    write_cases(cases, a.out)
    print(f"{len(cases)} cases -> {a.out} in {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
