"""The retrieval chain, composed from LangChain Runnables: question -> passages -> answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from langchain_core.runnables import Runnable, RunnableLambda

from assistant.answerer import refusal, statements_of
from assistant.choices import named_options, read_options
from assistant.questions import fold, mentions, speech_subject
from assistant.records import Answer
from index.newsindex import NewsIndex
from index.records import Hit
from index.retrieval import SearchFilters, SearchRequest
from index.sources import nothing_matches

SPEAKER_POOL = 3  # "What did X say ...": look this many times deeper for passages where X speaks
OPTION_DEPTH = 5  # how deep each option's own search looks for a passage naming it


class Answerer(Protocol):
    """Anything that turns a question and its passages into an Answer (extractive or LLM)."""

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer: ...

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        """Pieces of the answer text as written, the finished Answer last."""
        ...


@runtime_checkable
class ChoiceAnswerer(Answerer, Protocol):
    """An answerer that can also pick one of a multiple-choice question's options."""

    def choose(self, question: str, hits: Sequence[Hit], choices: Sequence[str]) -> Answer: ...


def answer_with(
    answerer: Answerer, question: str, hits: Sequence[Hit], choices: Sequence[str] = ()
) -> Answer:
    """``answerer``'s Answer to ``question`` from ``hits``, picking one of ``choices`` if any
    are given and it can (see :func:`ignored_choices` for one that cannot)."""
    if not choices:
        return answerer.answer(question, hits)
    if isinstance(answerer, ChoiceAnswerer):
        return answerer.choose(question, hits, choices)
    return ignored_choices(answerer.answer(question, hits))


def stream_with(
    answerer: Answerer, question: str, hits: Sequence[Hit], choices: Sequence[str] = ()
) -> Iterator[str | Answer]:
    """Like :func:`answer_with`, as ``Answerer.stream`` yields: text pieces, the Answer last."""
    if choices and isinstance(answerer, ChoiceAnswerer):
        answer = answerer.choose(question, hits, choices)
        yield answer.answer
        yield answer
        return
    for part in answerer.stream(question, hits):
        yield ignored_choices(part) if choices and isinstance(part, Answer) else part


def filtered_out(question: str, filters: SearchFilters) -> Answer:
    """The refusal when no article passes ``filters``: it names them and says to widen them."""
    return refusal(question, (), nothing_matches(filters))


def ignored_choices(answer: Answer) -> Answer:
    """``answer`` from an answerer that cannot pick an option, with a notice that says so."""
    notice = (
        f"The options were not used: {answer.answerer} answers the question alone; the "
        "extractive answerer (without --llm) picks one."
    )
    return replace(answer, notices=(*answer.notices, notice))


def prefer_speaker(hits: Sequence[Hit], speaker: set[str], k: int) -> list[Hit]:
    """The ``k`` best passages, those in which ``speaker`` (name stems) speaks first."""

    def speaks(hit: Hit) -> bool:
        return any(mentions(fold(s.speaker), stem) for s in statements_of(hit) for stem in speaker)

    ordered = sorted(hits, key=lambda h: not speaks(h))[:k]  # stable: best first within each
    return [replace(h, rank=n) for n, h in enumerate(ordered, start=1)]


def search_depth(question: str, k: int) -> int:
    """How many passages to search for to answer from ``k``: deeper for "What did X say"."""
    return k * SPEAKER_POOL if speech_subject(question) else k


def answer_passages(question: str, hits: Sequence[Hit], k: int) -> list[Hit]:
    """The ``k`` passages to answer ``question`` from, out of ``hits`` (best first, at least
    :func:`search_depth` of them): those where the person asked about speaks come first."""
    speaker = speech_subject(question)
    return prefer_speaker(hits, speaker, k) if speaker else list(hits[:k])


def option_passages(
    question: str,
    hits: Sequence[Hit],
    choices: Sequence[str],
    search: Callable[[str], Sequence[Hit]],
) -> list[Hit]:
    """``hits``, and when none of them names any of ``choices``, each option's best passage
    that names it, from ``search`` for the question together with that option: the passages
    found for the question alone may hold the story without the name asked for."""
    options = read_options(question, choices)
    if any(named_options(h.chunk.text, options) for h in hits):
        return list(hits)
    seen = {h.chunk.id for h in hits}
    extra = []
    for option in options:
        for hit in search(f"{question} {option.text}"):
            if hit.chunk.id not in seen and named_options(hit.chunk.text, [option]):
                extra.append(hit)
                seen.add(hit.chunk.id)
                break
    return [replace(h, rank=n) for n, h in enumerate([*hits, *extra], start=1)]


@dataclass(frozen=True)
class Question:
    """What the chain takes: the search for the question and, for a multiple-choice question,
    its options (already checked: see assistant.choices)."""

    request: SearchRequest
    choices: tuple[str, ...] = ()


def build_retrieval(index: NewsIndex, default_k: int = 5) -> Runnable[Question, list[Hit]]:
    """A :class:`Question` in, the passages to answer it from out (``request.k`` of them,
    default ``default_k``). A question about what someone said looks deeper and puts the
    passages where that person speaks first; a multiple-choice question whose passages name no
    option gets each option's best passage too (:func:`option_passages`)."""

    def retrieve(asked: Question) -> list[Hit]:
        request = asked.request
        k = request.k or default_k

        def search(query: str, depth: int) -> list[Hit]:
            return index.search(replace(request, text=query, k=depth))

        question = request.text
        hits = answer_passages(question, search(question, search_depth(question, k)), k)
        if asked.choices:
            depth = max(k, OPTION_DEPTH)
            hits = option_passages(question, hits, asked.choices, lambda q: search(q, depth))
        return hits

    return RunnableLambda(retrieve).with_config(run_name="retrieve")


def build_chain(
    index: NewsIndex, answerer: Answerer, default_k: int = 5
) -> Runnable[Question, Answer]:
    """A :class:`Question` in (see :func:`build_retrieval`), an :class:`Answer` out.

    >>> chain = build_chain(index, answerer)
    >>> chain.invoke(Question(SearchRequest("What did Rutte say about a European army?"))).answer
    """
    retrieval = build_retrieval(index, default_k)

    def answer(asked: Question) -> Answer:
        hits = retrieval.invoke(asked)
        if not hits and asked.request.filters:
            return filtered_out(asked.request.text, asked.request.filters)
        return answer_with(answerer, asked.request.text, hits, asked.choices)

    return RunnableLambda(answer).with_config(run_name="newsrag")
