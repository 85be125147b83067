"""The retrieval chain, composed from LangChain Runnables: question -> passages -> answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any, Protocol, runtime_checkable

from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from assistant.candidates import statements_of
from assistant.choices import named_options, read_options
from assistant.questions import fold, mentions, speech_subject
from assistant.records import Answer
from index.newsindex import NewsIndex
from index.records import Hit

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


def build_retrieval(index: NewsIndex, default_k: int = 5) -> Runnable[dict[str, Any], list[Hit]]:
    """``{"question": str, "k": int?, "mode": str?, "filters": SearchFilters?, "as_of": str?,
    "choices": [str]?}`` in, the passages to answer from out (see NewsIndex.search for the
    keys). A question about what someone said looks deeper and puts the passages where that
    person speaks first; a multiple-choice question whose passages name no option gets each
    option's best passage too (:func:`option_passages`)."""

    def retrieve(inputs: dict[str, Any]) -> list[Hit]:
        k = inputs.get("k") or default_k

        def search(query: str, depth: int) -> list[Hit]:
            return index.search(
                query,
                depth,
                mode=inputs.get("mode"),
                filters=inputs.get("filters"),
                as_of=inputs.get("as_of", "today"),
            )

        question = inputs["question"]
        hits = answer_passages(question, search(question, search_depth(question, k)), k)
        if inputs.get("choices"):
            depth = max(k, OPTION_DEPTH)
            hits = option_passages(question, hits, inputs["choices"], lambda q: search(q, depth))
        return hits

    return RunnableLambda(retrieve).with_config(run_name="retrieve")


def build_chain(
    index: NewsIndex, answerer: Answerer, default_k: int = 5
) -> Runnable[dict[str, Any], Answer]:
    """The retrieval inputs in (see :func:`build_retrieval`) and ``"choices"`` (the options of a
    multiple-choice question, if any), an :class:`Answer` out.

    >>> chain = build_chain(index, answerer)
    >>> chain.invoke({"question": "What did Rutte say about a European army?"}).answer
    """

    def answer(inputs: dict[str, Any]) -> Answer:
        return answer_with(answerer, inputs["question"], inputs["hits"], inputs.get("choices", ()))

    chain = RunnablePassthrough.assign(hits=build_retrieval(index, default_k)) | RunnableLambda(
        answer
    ).with_config(run_name="answer")
    return chain.with_config(run_name="newsrag")
