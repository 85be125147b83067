"""Assistant: the public Python entry point — retrieve passages and ask for cited answers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from assistant.answerer import ExtractiveAnswerer
from assistant.chain import (
    Answerer,
    Question,
    answer_with,
    build_chain,
    build_retrieval,
    filtered_out,
    stream_with,
)
from assistant.choices import check_choices
from assistant.config import AssistantSettings
from assistant.followup import Turn, resolve, turns_from
from assistant.records import Answer
from assistant.retriever import NewsRetriever
from index.config import Settings
from index.embeddings import Embedder, MemoEmbedder
from index.newsindex import NewsIndex
from index.records import Hit
from index.retrieval import SearchFilters, SearchRequest, as_request

History = Sequence[Turn | Mapping[str, Any]]


def _noticed(answer: Answer, notices: Sequence[str]) -> Answer:
    """``answer`` with ``notices`` (about the question's filters) before its own."""
    return replace(answer, notices=(*notices, *answer.notices)) if notices else answer


def _asked(answer: Answer, question: str, resolved: str) -> Answer:
    """The answer to ``resolved``, reported as the answer to what the user typed."""
    if resolved == question:
        return answer
    return replace(answer, question=question, resolved=resolved)


class Assistant:
    """Answers questions over a newsrag index with citations of verbatim passages.

    >>> assistant = Assistant.open("./idx")
    >>> answer = assistant.ask("What did Rutte say about a European army?")
    >>> answer.answer, answer.citations[0].passage
    """

    def __init__(self, index: NewsIndex, answerer: Answerer | None = None) -> None:
        self.index = index
        self.settings = AssistantSettings.of(index.settings)
        self.extractive = ExtractiveAnswerer(
            MemoEmbedder(index.embedder), self.settings.answer_words, self.settings.min_score
        )
        self.answerer: Answerer = answerer or self._default_answerer()
        self.retrieval = build_retrieval(index, self.settings.top_k)
        self.chain = build_chain(index, self.answerer, self.settings.top_k)

    def _default_answerer(self) -> Answerer:
        """The extractive answerer (the learned one with ``reader="learned"``), or the LLM
        named by ``settings.llm`` on top of the extractive one."""
        if not self.settings.llm:
            if self.settings.reader == "learned":
                from assistant.learned import LearnedAnswerer

                return LearnedAnswerer(
                    self.extractive.embedder, self.settings.answer_words, self.settings.min_score
                )
            return self.extractive
        provider, _, name = self.settings.llm.partition(":")
        if provider == "gguf" and name:  # a local GGUF file, run in-process by llama.cpp
            from assistant.grounded import LocalAnswerer
            from assistant.local_models import load_local_model

            return LocalAnswerer(load_local_model(name), self.extractive, spec=self.settings.llm)
        from assistant.llm import LLMAnswerer, load_chat_model  # langchain only when asked for

        model = load_chat_model(self.settings.llm, self.settings.llm_base_url)
        return LLMAnswerer(
            model, self.extractive, spec=self.settings.llm, max_words=self.settings.answer_words
        )

    @classmethod
    def open(
        cls,
        index_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
    ) -> Assistant:
        """Open an existing index (default ``NEWSRAG_INDEX``) and build the answerer on it;
        ``settings`` default to the ``NEWSRAG_*`` variables (:class:`AssistantSettings`)."""
        settings = AssistantSettings.of(settings) if settings else AssistantSettings.from_env()
        return cls(NewsIndex.open(index_dir, settings=settings, embedder=embedder))

    def ask(
        self,
        question: str | SearchRequest,
        k: int | None = None,
        *,
        mode: str | None = None,
        filters: SearchFilters | None = None,
        as_of: str | date | None = "today",
        history: History | None = None,
        choices: Sequence[str] = (),
    ) -> Answer:
        """Answer ``question`` from the ``k`` best passages (default ``settings.top_k``).

        ``question`` is the text, or a whole :class:`SearchRequest` (then give ``k``, ``mode``,
        ``filters`` and ``as_of`` inside it); ``mode``, ``filters`` and ``as_of`` shape
        retrieval as in :meth:`retrieve`. ``history`` is the conversation so far (oldest
        first: :class:`Turn`, ``ask --json`` objects or chat messages); a follow-up such as
        "What about the Arctic?" is resolved against it first, and ``Answer.resolved`` shows
        what was searched for. ``choices`` are the options of a multiple-choice question:
        ``Answer.choice`` is the one the passages support best, and the answer leads with the
        sentence that names it (a notice says when none is named).

        >>> assistant.ask("Where was Maduro captured?", choices=["Cuba", "Venezuela"]).choice
        'Venezuela'
        """
        request, notices = self._matched(as_request(question, k, mode, filters, as_of))
        asked = self._question(request, history, choices)
        answer = _asked(self.chain.invoke(asked), request.text, asked.request.text)
        return _noticed(answer, notices)

    def stream(
        self,
        question: str | SearchRequest,
        k: int | None = None,
        *,
        mode: str | None = None,
        filters: SearchFilters | None = None,
        as_of: str | date | None = "today",
        history: History | None = None,
        choices: Sequence[str] = (),
    ) -> Iterator[str | Answer]:
        """Like :meth:`ask`, but yields the answer text as it is written (pieces of ``str``)
        and the finished :class:`Answer` last. The extractive answerer writes it sentence by
        sentence; an LLM streams its tokens, and the final Answer has its citations checked."""
        request, notices = self._matched(as_request(question, k, mode, filters, as_of))
        asked = self._question(request, history, choices)
        resolved = asked.request.text
        hits = self.retrieval.invoke(asked)
        if not hits and asked.request.filters:
            refused = filtered_out(resolved, asked.request.filters)
            parts: Iterable[str | Answer] = [refused.answer, refused]
        else:
            parts = stream_with(self.answerer, resolved, hits, asked.choices)
        for part in parts:
            if isinstance(part, Answer):
                part = _noticed(_asked(part, request.text, resolved), notices)
            yield part

    def match_filters(
        self, filters: SearchFilters | None
    ) -> tuple[SearchFilters | None, tuple[str, ...]]:
        """``filters`` with their source names as the index spells them (see
        :meth:`NewsIndex.match_filters`), and a notice for each name it does not hold."""
        return self.index.match_filters(filters)

    def _matched(self, request: SearchRequest) -> tuple[SearchRequest, tuple[str, ...]]:
        """``request`` with its source names matched (see :meth:`match_filters`), and the
        notices for names the index does not hold."""
        filters, notices = self.match_filters(request.filters)
        if filters is None or filters == request.filters:
            return request, notices
        return replace(request, filters=filters), notices

    def _question(
        self, request: SearchRequest, history: History | None, choices: Sequence[str]
    ) -> Question:
        """What the chain takes: ``request`` for the question made self-contained against
        ``history``, with ``k`` defaulting to ``settings.top_k``, and the checked options."""
        options = check_choices(choices)
        resolved = self.resolve(request.text, history)
        request = replace(request, text=resolved).with_defaults(
            self.settings.top_k, self.settings.search_mode
        )
        return Question(request, options)

    @staticmethod
    def resolve(question: str, history: History | None) -> str:
        """``question`` made self-contained against ``history`` (see assistant.followup)."""
        if not history:
            return question
        turns: list[Turn] = []
        records: list[Mapping[str, Any]] = []  # chat messages pair up across items
        for item in history:
            if isinstance(item, Turn):
                turns += turns_from(records)
                records = []
                turns.append(item)
            else:
                records.append(item)
        return resolve(question, turns + turns_from(records))

    def retrieve(
        self,
        query: str | SearchRequest,
        k: int | None = None,
        *,
        mode: str | None = None,
        filters: SearchFilters | None = None,
        as_of: str | date | None = "today",
    ) -> list[Hit]:
        """The ``k`` best passages for ``query``, scored, with their article metadata.

        ``query`` is the text, or a whole :class:`SearchRequest`. ``mode``: hybrid (default),
        dense or keyword. ``filters``: hard limits on sources and dates
        (``SearchFilters.build(sources=["Reuters"], since="2026-01-01")``). ``as_of``: the date
        the question is asked on (default today; None turns the time preference off). Source
        names match as in :meth:`match_filters`.
        """
        request, _ = self._matched(as_request(query, k, mode, filters, as_of))
        return self.index.search(request)

    def answer_from(
        self, question: str, hits: Sequence[Hit], choices: Sequence[str] = ()
    ) -> Answer:
        """Answer from passages already retrieved (the eval uses this to score both at once),
        picking one of ``choices`` if given (see :meth:`ask`)."""
        return answer_with(self.answerer, question, hits, check_choices(choices))

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
