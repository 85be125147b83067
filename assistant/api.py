"""Assistant: the public Python entry point — retrieve passages and ask for cited answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from assistant.answerer import ExtractiveAnswerer
from assistant.chain import build_chain
from assistant.records import Answer
from assistant.retriever import NewsRetriever
from index.config import Settings
from index.embeddings import Embedder
from index.newsindex import NewsIndex
from index.records import Hit
from index.retrieval import SearchFilters


class Assistant:
    """Answers questions over a newsrag index with citations of verbatim passages.

    >>> assistant = Assistant.open("./idx")
    >>> answer = assistant.ask("What did Rutte say about a European army?")
    >>> answer.answer, answer.citations[0].passage
    """

    def __init__(self, index: NewsIndex, answerer: ExtractiveAnswerer | None = None) -> None:
        self.index = index
        self.settings = index.settings
        self.answerer = answerer or ExtractiveAnswerer(
            index.embedder, self.settings.answer_words, self.settings.min_score
        )
        self.chain = build_chain(index, self.answerer, self.settings.top_k)

    @classmethod
    def open(
        cls,
        index_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
    ) -> Assistant:
        """Open an existing index (default ``NEWSRAG_INDEX``) and build the answerer on it."""
        return cls(NewsIndex.open(index_dir, settings=settings, embedder=embedder))

    def ask(
        self,
        question: str,
        k: int | None = None,
        *,
        mode: str | None = None,
        filters: SearchFilters | None = None,
        as_of: str | date | None = "today",
    ) -> Answer:
        """Answer ``question`` from the ``k`` best passages (default ``settings.top_k``).

        ``mode``, ``filters`` and ``as_of`` shape retrieval as in :meth:`retrieve`.
        """
        return self.chain.invoke(
            {
                "question": question,
                "k": k or self.settings.top_k,
                "mode": mode,
                "filters": filters,
                "as_of": as_of,
            }
        )

    def retrieve(
        self,
        query: str,
        k: int | None = None,
        *,
        mode: str | None = None,
        filters: SearchFilters | None = None,
        as_of: str | date | None = "today",
    ) -> list[Hit]:
        """The ``k`` best passages for ``query``, scored, with their article metadata.

        ``mode``: hybrid (default), dense or keyword. ``filters``: hard limits on sources and
        dates (``SearchFilters.build(sources=["Reuters"], since="2026-01-01")``). ``as_of``: the
        date the question is asked on (default today; None turns the time preference off).
        """
        return self.index.search(query, k, mode=mode, filters=filters, as_of=as_of)

    def answer_from(self, question: str, hits: Sequence[Hit]) -> Answer:
        """Answer from passages already retrieved (the eval uses this to score both at once)."""
        return self.answerer.answer(question, hits)

    def as_retriever(
        self,
        k: int | None = None,
        *,
        mode: str | None = None,
        filters: SearchFilters | None = None,
    ) -> NewsRetriever:
        """A LangChain retriever over this index (as of the day each query runs)."""
        return NewsRetriever(
            index=self.index, k=k or self.settings.top_k, mode=mode, filters=filters
        )
