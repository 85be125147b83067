"""The learned answerer (``NEWSRAG_READER=learned``, opt-in): no LLM, the answer is the passages'
own best units, quoted verbatim, each followed by the ``[n]`` of the passage it came from; a
refusal when nothing supports one. The default is :mod:`assistant.answerer`'s hand-weighted one,
which still scores better on the dev and sample sets (docs/reader.md).

A short pipeline: the question is read once (assistant.parse), the passages' units are the
candidates (assistant.candidates), the trained reader scores them and decides whether to
refuse or which option to pick (assistant.reader), and the question's kind lays the answer out
(assistant.compose)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

import numpy as np

from assistant.answerer import (
    MANY_NAMES,
    REFUSAL,
    names_any,
    no_option,
    no_statement,
    refusal,
    text_pieces,
)
from assistant.candidates import Unit, statements_of, units_of
from assistant.choices import tokens as _tokens
from assistant.compose import (
    Scored,
    compose,
    compose_sides,
    compose_stories,
    compose_timeline,
    dated,
    lead_in,
    per_story,
    select,
    side_units,
)
from assistant.parse import Question, parse_question
from assistant.questions import content_words, fold, holds_fact, mentions
from assistant.reader import ReaderModels, option_features, question_features, unit_features
from assistant.records import Answer
from index.embeddings import Embedder, canonical_model_name
from index.records import Hit

__all__ = ["LearnedAnswerer", "lead_in", "statements_of"]

SAID_TEMPERATURE = 0.05  # cosine gap at which a statement's weight falls by e
TOPICAL = ("broad", "summary", "comparison", "timeline")  # kinds answered by what is there


class LearnedAnswerer:
    """Composes an answer from the retrieved passages' units, or refuses.

    >>> answerer = LearnedAnswerer(embedder, max_words=80, min_score=0.3)
    >>> answerer.answer("What did Rutte say about a European army?", hits).citations[0].title
    """

    def __init__(
        self,
        embedder: Embedder,
        max_words: int = 80,
        min_score: float = 0.30,
        models: ReaderModels | None = None,
    ) -> None:
        self.embedder = embedder
        self.max_words = max_words
        self.min_score = min_score
        self.models = models if models is not None else ReaderModels.load()
        # the refusal model is calibrated on its embedding model's cosines; under another
        # model (a test's fake one) only the names check refuses
        self.calibrated = canonical_model_name(embedder.name) == self.models.embedding_model

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        """An Answer for ``question`` from ``hits`` (best first)."""
        q = parse_question(question)
        if not self._close(hits):
            return refusal(question, hits)
        found = self.score(q, hits)
        if q.speaker and not found.units:
            return refusal(question, hits, no_statement(question, q.speaker))
        if not self.answerable(q, hits, found):
            named = covers(q, " ".join(f"{h.chunk.title}\n{h.chunk.text}" for h in hits))
            text = no_statement(question, q.speaker) if q.speaker and named else REFUSAL
            return refusal(question, hits, text)
        return self._write(q, found, hits)

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        """The answer text sentence by sentence (each with its ``[n]`` and the space after
        it; together exactly ``Answer.answer``), then the Answer, as an LLM streams."""
        answer = self.answer(question, hits)
        yield from text_pieces(answer.answer)
        yield answer

    def choose(self, question: str, hits: Sequence[Hit], choices: Sequence[str]) -> Answer:
        """An Answer to a multiple-choice ``question``: ``Answer.choice`` is the option of
        ``choices`` the trained option model rates best, and the answer leads with the unit
        naming it that best answers the question, followed by units that name no other option.
        When no passage names any option, a notice says so and the answer is the open one."""
        if not self._close(hits):
            return refusal(question, hits)
        q = parse_question(question, choices)
        units = units_of(hits)
        found = self._scored(q, units)
        x = self._features(q, units, found)
        options, table = option_features(q, units, x, found.probs)
        if not len(table) or not table[:, 0].any():
            answer = self.answer(question, hits)
            return replace(answer, notices=(*answer.notices, no_option(choices)))
        pick = options[int(np.argmax(self.models.options.prob(table)))]
        names = [{o.text: o.mention(_tokens(u.text)) for o in options} for u in units]
        allowed = np.array([not any(v for k, v in n.items() if k != pick.text) for n in names])
        naming = [i for i, n in enumerate(names) if n[pick.text] > 0]
        lead = None  # the pick may be named by no unit (the model weighs more than mentions)
        if naming:
            lead = max(naming, key=lambda i: (names[i][pick.text], float(found.probs[i])))
            allowed[lead] = True
        chosen = select(found, self.max_words, lead=lead, allowed=allowed)
        chosen = chosen or select(found, self.max_words)
        return replace(compose(question, chosen, hits, chosen[0]), choice=pick.text)

    def supported(self, question: str, hits: Sequence[Hit]) -> bool:
        """Whether the passages can answer ``question`` (the trained refusal check)."""
        q = parse_question(question)
        return self._close(hits) and self.answerable(q, hits, self.score(q, hits))

    def score(self, q: Question, hits: Sequence[Hit]) -> Scored:
        """The candidate units of ``hits`` for ``q`` with their probabilities; for a question
        about what someone said, only that person's attributed words when they speak at all."""
        units = units_of(hits)
        if q.speaker:
            units = [u for u in units if u.speaker and names_any(u.speaker, q.speaker)]
        found = self._scored(q, units)
        if q.kind == "said" and len(units):
            # the unit model learned quiz answers (a name, a figure); the speaker's words on a
            # topic are ranked by the bundled model's similarity to the topic instead
            probs = np.exp((found.cosines - found.cosines.max()) / SAID_TEMPERATURE)
            found = replace(found, probs=probs)
        return found

    def answerable(self, q: Question, hits: Sequence[Hit], found: Scored) -> bool:
        """Whether to answer: the passages name what ``q`` asks about (:func:`covers`), and the
        trained refusal model, at its operating point, says they hold an answer. The model is
        trained on quiz questions (a fact, why, how): a broad, summary, comparison or timeline
        question needs only the names; "what did X say about Y" needs X's own words on Y."""
        if not found.units:
            return False
        text = " ".join(f"{h.chunk.title}\n{h.chunk.text}" for h in hits)
        if not covers(q, text):
            return False
        if q.fact and not any(holds_fact(u.text, q.fact) for u in found.units):
            # "how many X" / "how much did it cost" with no such figure in any unit: on train
            # this refuses 0.44 of made-unanswerable questions against 0.22 of answerable ones
            # (python -m benchmarks.hand_rules), the one hand gate the data keeps
            return False
        if q.kind == "said":  # the speaker's own words on the topic: no quiz answer to weigh
            return _on_topic(q, found.units)
        if q.kind in TOPICAL or not self.calibrated:
            return True
        x = self._features(q, list(found.units), found)
        row = question_features(q, found.units, x, found.probs, [h.score for h in hits], text)
        refusal_model = self.models.refusal
        return bool(refusal_model.prob(row[None, :])[0] >= refusal_model.threshold)

    def _close(self, hits: Sequence[Hit]) -> bool:
        return bool(hits) and hits[0].score >= self.min_score

    def _scored(self, q: Question, units: Sequence[Unit]) -> Scored:
        if not units:
            return Scored((), np.zeros((0, 1)), np.zeros(0), np.zeros(0))
        vectors = self.embedder.embed_documents([u.text for u in units])
        cosines = vectors @ self.embedder.embed_query(q.focus)
        x = unit_features(q, units, cosines)
        return Scored(tuple(units), vectors, self.models.units.prob(x), cosines)

    def _features(self, q: Question, units: Sequence[Unit], found: Scored) -> np.ndarray:
        return unit_features(q, units, found.cosines)

    def _write(self, q: Question, found: Scored, hits: Sequence[Hit]) -> Answer:
        if q.kind == "summary":
            return compose_stories(q.text, per_story(found, self.max_words, True), hits)
        if q.kind == "broad":
            return compose_stories(q.text, per_story(found, self.max_words, False), hits)
        if q.kind == "timeline":
            allowed = dated(found)
            chosen = per_story(_only(found, allowed), self.max_words, False)
            return compose_timeline(q.text, chosen, hits)
        if q.kind == "comparison":
            sides = side_units(q, found)
            if len(sides) == len(q.sides):
                return compose_sides(q.text, sides, hits)
        chosen = select(found, self.max_words)
        return compose(q.text, chosen, hits, chosen[0] if chosen else None)


def _only(found: Scored, allowed: np.ndarray) -> Scored:
    """``found`` with the units not ``allowed`` left out (all kept when none is allowed)."""
    if not allowed.any():
        return found
    keep = np.flatnonzero(allowed)
    return Scored(
        tuple(found.units[i] for i in keep),
        found.vectors[keep],
        found.probs[keep],
        found.cosines[keep],
    )


def covers(q: Question, text: str) -> bool:
    """Whether ``text`` (the passages) mentions every name ``q`` asks about. A long question
    names many things and one may go unmentioned (a first name); a question asking for a name
    may describe it with one the passages need not repeat ("which Texas city")."""
    folded = fold(text)
    missing = sum(not mentions(folded, e) for e in q.entities)
    return missing == 0 or (missing == 1 and (len(q.entities) >= MANY_NAMES or q.asks_name))


# the end of a sentence of an answer: its [n] or its stop, and the space before the next one


def _on_topic(q: Question, statements: Sequence[Unit]) -> bool:
    """Whether the speaker's statements touch the topic asked about: "What did Corvasier say
    about nuclear deterrence?" needs a statement (or the sentence before it) naming deterrence
    or nuclear; names in the topic were already checked against the passages."""
    terms = {t for t in content_words(q.topic or "") if t not in q.entities and t.isalpha()}
    if not terms:
        return True
    return any(terms & content_words(f"{u.before} {u.text}") for u in statements)
