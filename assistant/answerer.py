"""The default answerer: no LLM, the answer is the passages' own best sentences, quoted verbatim,
each followed by the ``[n]`` of the passage it came from; a refusal when nothing supports one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.questions import (
    answer_kind,
    content_words,
    fold,
    holds_fact,
    holds_kind,
    mentions,
    question_entities,
    required_fact,
)
from assistant.records import Answer, Citation
from index.chunking import sentence_spans
from index.embeddings import Embedder
from index.records import Hit

REFUSAL = "I could not find an answer to that in the indexed articles."
MAX_SENTENCES = 4
MIN_SENTENCE_WORDS = 5
REDUNDANT_COSINE = 0.9
KEEP_RATIO = 0.6  # a sentence joins the answer if it scores at least this share of the best
MANY_NAMES = 4  # with this many names in a question, one may be missing from the passages


@dataclass(frozen=True)
class Sentence:
    hit: Hit
    start: int  # offsets into the article
    end: int
    text: str


class ExtractiveAnswerer:
    """Composes an answer from the retrieved passages' sentences, or refuses.

    >>> answerer = ExtractiveAnswerer(embedder, max_words=80, min_score=0.3)
    >>> answerer.answer("What did Rutte say about a European army?", hits).citations[0].title
    """

    def __init__(self, embedder: Embedder, max_words: int = 80, min_score: float = 0.30) -> None:
        self.embedder = embedder
        self.max_words = max_words
        self.min_score = min_score

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        """An Answer for ``question`` from ``hits`` (best first)."""
        entities = question_entities(question)
        if not self.supported(question, hits, entities):
            return Answer(question, REFUSAL, True, (), tuple(hits))
        sentences = _sentences(hits)
        fact = required_fact(question)
        # the figure asked for must sit in a passage about what was asked (a "how much"
        # question about a museum is not answered by a lottery article's jackpot)
        about = [s for s in sentences if _share_named(s.hit, entities) == 1.0] or sentences
        if not sentences or (fact and not any(holds_fact(s.text, fact) for s in about)):
            return Answer(question, REFUSAL, True, (), tuple(hits))
        vectors = self.embedder.embed_documents([s.text for s in sentences])
        scores = self._scores(question, sentences, vectors, entities)
        chosen = self._select(sentences, vectors, scores)
        return _compose(question, chosen, hits)

    def supported(
        self, question: str, hits: Sequence[Hit], entities: set[str] | None = None
    ) -> bool:
        """Whether the passages can answer: close enough, and mentioning every name asked about
        (``entities``, read from the question when not given)."""
        if not hits or hits[0].score < self.min_score:
            return False
        text = fold(" ".join(f"{h.chunk.title}\n{h.chunk.text}" for h in hits))
        entities = question_entities(question) if entities is None else entities
        missing = sum(not mentions(text, entity) for entity in entities)
        # A long question names many things; one of them may go unmentioned (a first name).
        return missing == 0 or (len(entities) >= MANY_NAMES and missing == 1)

    def _scores(
        self,
        question: str,
        sentences: Sequence[Sentence],
        vectors: np.ndarray,
        entities: set[str],
    ) -> np.ndarray:
        """Similarity to the question, passage score, shared words, names asked about, and
        whether the sentence holds the kind of answer asked for (a number for "how many")."""
        cosine = vectors @ self.embedder.embed_query(question)
        terms = content_words(question)
        overlap = np.array(
            [len(terms & content_words(s.text)) / len(terms) if terms else 0.0 for s in sentences]
        )
        passage = np.array([s.hit.score for s in sentences])
        # "What did Rutte say ..." is answered from passages about Rutte, not near-misses.
        named = np.array([_share_named(s.hit, entities) for s in sentences])
        kind = answer_kind(question)
        typed = np.array([holds_kind(s.text, kind, question) for s in sentences], dtype=float)
        scores = 0.55 * cosine + 0.25 * passage + 0.20 * overlap + 0.20 * (named - 1.0)
        scores += 0.10 * typed
        if named.max() == 1.0:  # passages about everyone asked about exist: use only those
            scores[named < 1.0] = -np.inf
        return scores

    def _select(
        self, sentences: Sequence[Sentence], vectors: np.ndarray, scores: np.ndarray
    ) -> list[Sentence]:
        """Best sentences first, skipping near-repeats, until the word budget is spent."""
        chosen: list[int] = []
        words = 0
        best = float(scores.max())
        for i in np.argsort(-scores):
            if len(chosen) >= MAX_SENTENCES or (chosen and scores[i] < KEEP_RATIO * best):
                break
            if any(float(vectors[i] @ vectors[j]) > REDUNDANT_COSINE for j in chosen):
                continue
            length = len(sentences[i].text.split())
            if chosen and words + length > self.max_words:
                continue
            chosen.append(int(i))
            words += length
        return [sentences[i] for i in chosen]


def _share_named(hit: Hit, entities: set[str]) -> float:
    if not entities:
        return 1.0
    text = fold(f"{hit.chunk.title}\n{hit.chunk.text}")
    return sum(mentions(text, e) for e in entities) / len(entities)


def _sentences(hits: Sequence[Hit]) -> list[Sentence]:
    """Each distinct sentence of the passages once, credited to the best passage holding it."""
    found: dict[tuple[str, int], Sentence] = {}
    for hit in hits:
        chunk = hit.chunk
        for start, end in sentence_spans(chunk.text, offset=chunk.start):
            text = chunk.text[start - chunk.start : end - chunk.start]
            key = (chunk.article_id, start)
            if len(text.split()) >= MIN_SENTENCE_WORDS and key not in found:
                found[key] = Sentence(hit, start, end, text)
    return list(found.values())


def _compose(question: str, chosen: Sequence[Sentence], hits: Sequence[Hit]) -> Answer:
    """Order sentences by article (best article first), then by position, and number sources."""
    article_rank: dict[str, int] = {}
    for s in chosen:
        article_rank.setdefault(s.hit.chunk.article_id, len(article_rank))
    ordered = sorted(chosen, key=lambda s: (article_rank[s.hit.chunk.article_id], s.start))
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    parts: list[str] = []
    for s in ordered:
        if s.hit.chunk.id not in numbers:
            numbers[s.hit.chunk.id] = len(numbers) + 1
            citations.append(Citation.from_hit(numbers[s.hit.chunk.id], s.hit))
        parts.append(f"{s.text} [{numbers[s.hit.chunk.id]}]")
    return Answer(question, " ".join(parts), False, tuple(citations), tuple(hits))
