"""The default answerer: no LLM, the answer is the passages' own best sentences, quoted verbatim,
each followed by the ``[n]`` of the passage it came from; a refusal when nothing supports one."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.records import Answer, Citation
from index.chunking import sentence_spans
from index.embeddings import Embedder
from index.records import Hit

REFUSAL = "I could not find an answer to that in the indexed articles."
MAX_SENTENCES = 4
MIN_SENTENCE_WORDS = 5
REDUNDANT_COSINE = 0.9

_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")  # words, with straight or curly apostrophes
STOPWORDS = frozenset(
    """
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours out over own same she should so some
such than that the their theirs them then there these they this those through to too under until
up very was we were what when where which while who whom why will with would you your yours say
said says tell told according week weeks month year years today yesterday new many much one two
""".split()
)
# Capitalised words that name no entity the passages must contain.
NOT_ENTITIES = STOPWORDS | frozenset(
    """
january february march april may june july august september october november december monday
tuesday wednesday thursday friday saturday sunday mr mrs ms dr
""".split()
)


def fold(text: str) -> str:
    """Lowercase without accents, so "Nicolás" matches "Nicolas"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def content_words(text: str) -> set[str]:
    return {w for w in (fold(m) for m in _WORD.findall(text)) if w not in STOPWORDS and len(w) > 1}


def question_entities(question: str) -> set[str]:
    """Capitalised words after the first word, and numbers: names the passages must mention."""
    words = _WORD.findall(question)
    return {
        fold(w)
        for w in words[1:]
        if (w[0].isupper() or w[0].isdigit()) and fold(w) not in NOT_ENTITIES
    }


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
        if not self.supported(question, hits):
            return Answer(question, REFUSAL, True, (), tuple(hits))
        sentences = _sentences(hits)
        if not sentences:
            return Answer(question, REFUSAL, True, (), tuple(hits))
        vectors = self.embedder.embed_documents([s.text for s in sentences])
        scores = self._scores(question, sentences, vectors)
        chosen = self._select(sentences, vectors, scores)
        return _compose(question, chosen, hits)

    def supported(self, question: str, hits: Sequence[Hit]) -> bool:
        """Whether the passages can answer: close enough, and mentioning every name asked about."""
        if not hits or hits[0].score < self.min_score:
            return False
        text = fold(" ".join(h.chunk.text for h in hits))
        return all(entity in text for entity in question_entities(question))

    def _scores(
        self, question: str, sentences: Sequence[Sentence], vectors: np.ndarray
    ) -> np.ndarray:
        cosine = vectors @ self.embedder.embed_query(question)
        terms = content_words(question)
        overlap = np.array(
            [len(terms & content_words(s.text)) / len(terms) if terms else 0.0 for s in sentences]
        )
        passage = np.array([s.hit.score for s in sentences])
        # "What did Rutte say ..." is answered from passages about Rutte, not near-misses.
        entities = question_entities(question)
        named = np.array(
            [
                sum(e in fold(s.hit.chunk.text) for e in entities) / len(entities)
                if entities
                else 1.0
                for s in sentences
            ]
        )
        return 0.55 * cosine + 0.25 * passage + 0.20 * overlap + 0.20 * (named - 1.0)

    def _select(
        self, sentences: Sequence[Sentence], vectors: np.ndarray, scores: np.ndarray
    ) -> list[Sentence]:
        """Best sentences first, skipping near-repeats, until the word budget is spent."""
        chosen: list[int] = []
        words = 0
        best = float(scores.max())
        for i in np.argsort(-scores):
            if len(chosen) >= MAX_SENTENCES or (chosen and scores[i] < 0.75 * best):
                break
            if any(float(vectors[i] @ vectors[j]) > REDUNDANT_COSINE for j in chosen):
                continue
            length = len(sentences[i].text.split())
            if chosen and words + length > self.max_words:
                continue
            chosen.append(int(i))
            words += length
        return [sentences[i] for i in chosen]


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
