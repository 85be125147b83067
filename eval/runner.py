"""The eval runner: ask every question once, score retrieval and answer from the same passages,
and summarise into an :class:`EvalReport`."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from assistant.chain import OPTION_DEPTH, answer_passages, option_passages, search_depth
from assistant.parse import kind_of
from assistant.records import Answer
from eval.metrics import (
    RANK_DEPTH,
    answer_hit,
    chosen_choice,
    citation_valid,
    contains,
    first_relevant_rank,
    hit_at,
    is_relevant,
    mean,
    mrr_at,
    percentile,
    same_choice,
    strip_markers,
    word_count,
)
from eval.qa import QAItem
from eval.report import EvalReport, QuestionResult
from index.config import Settings
from index.errors import ArticleNotFoundError, ConfigError
from index.records import Article, Hit

Progress = Callable[[int], None]


class Named(Protocol):
    @property
    def name(self) -> str: ...


class ArticleSource(Protocol):
    """What the runner needs of an index: full articles, and the model that embedded them."""

    @property
    def embedder(self) -> Named: ...

    def article(self, article_id: str) -> Article: ...


class Evaluable(Protocol):
    """What the runner needs of an assistant (``assistant.Assistant`` fits; tests use fakes)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def index(self) -> ArticleSource: ...

    def retrieve(
        self, query: str, k: int | None = None, *, mode: str | None = None, as_of: str | None = ...
    ) -> list[Hit]: ...

    def answer_from(
        self, question: str, hits: Sequence[Hit], choices: Sequence[str] = ()
    ) -> Answer: ...


class ArticleTexts:
    """Article texts fetched from the index once each; None for an id the index lacks."""

    def __init__(self, index: ArticleSource) -> None:
        self._index = index
        self._texts: dict[str, str | None] = {}

    def get(self, article_id: str) -> str | None:
        if article_id not in self._texts:
            try:
                self._texts[article_id] = self._index.article(article_id).text
            except ArticleNotFoundError:
                self._texts[article_id] = None  # a citation of a missing article is invalid
        return self._texts[article_id]


def run_eval(
    assistant: Evaluable,
    items: Sequence[QAItem],
    k: int | None = None,
    progress: Callable[[int], Progress] | None = None,
    mode: str | None = None,
    choices: bool = True,
    by: str | None = None,
) -> EvalReport:
    """Score ``assistant`` on ``items``.

    Each question is retrieved once, ``max(10, k)`` deep, for the retrieval metrics, and answered
    from the first ``k`` of those passages (default ``settings.top_k``), so both are scored on
    one run of the chain; the time of both is the question's latency. Each question is asked as
    of its ``question_date`` (today when it has none); ``mode`` picks the search mode (default:
    the settings'). ``choices``: give the assistant each multiple-choice item's options, so it
    picks one (``Answer.choice``); with False it answers openly and the option its answer names
    counts as its pick. ``progress(total)`` returns a callback that is told how many questions
    each step finished. ``by``: also report each group of questions that share a value of that
    Q&A field (``QAItem.labels``), e.g. RealTimeQA's ``answer_in_search_results``.
    """
    if by is not None:
        check_group_field(items, by)
    k = assistant.settings.top_k if k is None else k
    if k < 1:
        raise ConfigError(f"k={k} passages cannot answer a question — use k of at least 1.")
    advance = progress(len(items)) if progress else None
    texts = ArticleTexts(assistant.index)
    results = []
    for item in items:
        results.append(score_question(assistant, item, k, texts, mode, choices))
        if advance:
            advance(1)
    where, model = assistant.settings.location, assistant.index.embedder.name
    report = summarize(results, k, where, model, choices)
    if by is None:
        return report
    groups = group_results(results, by)
    return dataclasses.replace(
        report,
        by=by,
        groups=tuple(
            (value, summarize(group, k, where, model, choices)) for value, group in groups
        ),
    )


MISSING = "(none)"  # the group of questions without the ``--by`` field


KIND = "kind"  # ``--by kind``: the kind of question (assistant.parse), read from its text


def label_of(item: QAItem, field: str) -> str | None:
    """The item's ``field`` for ``--by``; ``kind`` is the question's kind unless the Q&A file
    has a field of that name."""
    value = item.label(field)
    if value is None and field == KIND:
        return kind_of(item.question)
    return value


def check_group_field(items: Sequence[QAItem], field: str) -> None:
    """Refuse a ``--by`` field that no question has, naming the fields they do have."""
    if field == KIND or any(item.label(field) is not None for item in items):
        return
    known = sorted(
        {
            key
            for item in items
            for key in (*dict(item.labels), "answerable", "question_date")
            if item.label(key) is not None
        }
    )
    raise ConfigError(
        f"No question has the field {field!r} to group by — use one of the fields they have: "
        f"{', '.join(known)}."
    )


def group_results(
    results: Sequence[QuestionResult], field: str
) -> list[tuple[str, list[QuestionResult]]]:
    """``results`` grouped by their item's ``field`` value, groups in order of first
    appearance; questions without the field form the group "(none)", last."""
    groups: dict[str, list[QuestionResult]] = {}
    for r in results:
        groups.setdefault(label_of(r.item, field) or MISSING, []).append(r)
    return sorted(groups.items(), key=lambda pair: pair[0] == MISSING)


def score_question(
    assistant: Evaluable,
    item: QAItem,
    k: int,
    texts: ArticleTexts,
    mode: str | None = None,
    choices: bool = True,
) -> QuestionResult:
    """Retrieve, answer and score one question; citations are checked against ``texts``. With
    ``choices``, the item's options (if any) go to the assistant, and its pick is the choice."""
    started = time.perf_counter()
    depth = max(RANK_DEPTH, search_depth(item.question, k))
    hits = assistant.retrieve(item.question, depth, mode=mode, as_of=item.question_date or "today")
    passages = answer_passages(item.question, hits, k)  # the ones `newsrag ask` answers from
    if choices and item.choices:
        as_of = item.question_date or "today"
        passages = option_passages(
            item.question,
            passages,
            item.choices,
            lambda query: assistant.retrieve(query, max(k, OPTION_DEPTH), mode=mode, as_of=as_of),
        )
        answer = assistant.answer_from(item.question, passages, item.choices)
    else:
        answer = assistant.answer_from(item.question, passages)
    ms = (time.perf_counter() - started) * 1000
    scored = item.answerable and bool(item.gold or item.evidence)
    chosen = None
    if item.choices:
        # the assistant's pick; an answer that picked none may still name one
        chosen = answer.choice or chosen_choice(answer.answer, item.choices, answer.refused)
    return QuestionResult(
        item=item,
        answer=answer,
        ms=ms,
        first_relevant_rank=(
            first_relevant_rank([h.chunk.text for h in hits], item) if scored else None
        ),
        answer_hit=answer_hit(answer.answer, item, answer.refused) if scored else None,
        evidence_cited=(
            any(is_relevant(c.passage, item) for c in answer.citations) if scored else None
        ),
        evidence_all_cited=all_cited(answer, item) if scored else None,
        chosen_choice=chosen,
        correct_choice=same_choice(chosen, item.correct_choice) if item.choices else None,
        invalid_citations=tuple(
            c.n for c in answer.citations if not citation_valid(c, texts.get(c.article_id) or "")
        ),
    )


def all_cited(answer: Answer, item: QAItem) -> bool:
    """Whether every evidence span of ``item`` (its gold answers when it has none) is in the
    answer or in one of its cited passages; a refusal cites nothing."""
    if answer.refused:
        return False
    texts = [strip_markers(answer.answer), *(c.passage for c in answer.citations)]
    needles = item.evidence or item.gold
    return all(any(contains(t, n) for t in texts) for n in needles)


def summarize(
    results: Sequence[QuestionResult],
    k: int,
    index: str,
    embedding_model: str,
    choices_given: bool = True,
) -> EvalReport:
    """The report over ``results``: each metric averaged over the questions it applies to."""
    scored = [r for r in results if r.answer_hit is not None]
    ranks = [r.first_relevant_rank for r in scored]
    answerable = [r for r in results if r.item.answerable]
    unanswerable = [r for r in results if not r.item.answerable]
    with_choices = [r for r in results if r.correct_choice is not None]
    n_citations = sum(len(r.answer.citations) for r in results)
    n_invalid = sum(len(r.invalid_citations) for r in results)
    latencies = [r.ms for r in results]
    return EvalReport(
        n=len(results),
        n_answerable=len(answerable),
        n_unanswerable=len(unanswerable),
        n_with_choices=len(with_choices),
        choices_given=choices_given,
        k=k,
        index=index,
        embedding_model=embedding_model,
        hit_at_1=_round(hit_at(ranks, 1)),
        hit_at_5=_round(hit_at(ranks, 5)),
        hit_at_10=_round(hit_at(ranks, 10)),
        mrr_at_10=_round(mrr_at(ranks, 10)),
        answer_recall=_round(_share([bool(r.answer_hit) for r in scored])),
        evidence_cited=_round(_share([bool(r.evidence_cited) for r in scored])),
        evidence_all_cited=_round(_share([bool(r.evidence_all_cited) for r in scored])),
        choice_accuracy=_round(_share([bool(r.correct_choice) for r in with_choices])),
        refusal_accuracy=_round(_share([r.answer.refused for r in unanswerable])),
        false_refusal_rate=_round(_share([r.answer.refused for r in answerable])),
        citation_validity=_round((n_citations - n_invalid) / n_citations if n_citations else None),
        mean_answer_words=_round(
            mean([word_count(r.answer.answer) for r in results if not r.answer.refused])
        ),
        p50_ms=_round(percentile(latencies, 50), 1),
        p95_ms=_round(percentile(latencies, 95), 1),
        results=tuple(results),
    )


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)
