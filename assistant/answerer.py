"""The default answerer: no LLM, the answer is the passages' own best sentences, quoted verbatim,
each followed by the ``[n]`` of the passage it came from; a refusal when nothing supports one."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace

import numpy as np

from assistant.candidates import statements_of
from assistant.choices import ChoiceWeights, named_options, rank_options, read_options
from assistant.claims import MARKER
from assistant.compose import lead_in
from assistant.questions import (
    TIME_UNITS,
    WORD,
    answer_kind,
    asks_for_name,
    capitalised_names,
    content_words,
    doer_verb,
    focus_noun,
    fold,
    holds_fact,
    holds_focus,
    holds_kind,
    mentions,
    overlap,
    question_entities,
    required_fact,
    speech_subject,
    speech_topic,
)
from assistant.records import Answer, Citation
from index.chunking import sentence_spans
from index.embeddings import Embedder
from index.records import Hit

REFUSAL = "I could not find an answer to that in the indexed articles."
RELATED = 3  # passages shown as "related" with a refusal
MAX_SENTENCES = 4


@dataclass(frozen=True)
class Weights:
    """How sentence features add up to its score (see ExtractiveAnswerer._scores)."""

    cosine: float = 0.70  # similarity of the sentence to the question (or the topic)
    passage: float = 0.25  # similarity of its passage
    overlap: float = 0.20  # share of the question's words it holds
    named: float = 0.20  # penalty per share of the names asked about its passage lacks
    typed: float = 0.10  # holds the kind of answer asked for (a number, a date, a name)
    exact: float = 0.15  # holds the figure a "how many X" question asks for
    voted: float = 0.15  # names what most passages put forward, for who/which questions


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
    speaker: str | None = None  # who speaks in it (index.attribution), if anyone
    before: str = ""  # the sentence before it in the passage, which often sets its topic


class ExtractiveAnswerer:
    """Composes an answer from the retrieved passages' sentences, or refuses.

    >>> answerer = ExtractiveAnswerer(embedder, max_words=80, min_score=0.3)
    >>> answerer.answer("What did Rutte say about a European army?", hits).citations[0].title
    """

    def __init__(
        self,
        embedder: Embedder,
        max_words: int = 80,
        min_score: float = 0.30,
        weights: Weights = Weights(),
        choice_weights: ChoiceWeights | None = None,
    ) -> None:
        self.embedder = embedder
        self.max_words = max_words
        self.min_score = min_score
        self.weights = weights
        self.choice_weights = choice_weights or ChoiceWeights()

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        """An Answer for ``question`` from ``hits`` (best first): the candidate sentences, the
        checks that they can answer it, then their scores and the composed answer."""
        entities = question_entities(question)
        if not self.supported(question, hits, entities):
            return refusal(question, hits)
        sentences = _sentences(hits)
        speaker = speech_subject(question)
        if speaker:
            # "What did Rutte say ...": only Rutte's own attributed words answer it
            sentences = [s for s in sentences if s.speaker and names_any(s.speaker, speaker)]
            if not sentences or not _on_topic(question, sentences, entities):
                return refusal(question, hits, no_statement(question, speaker))
        dating = [i for i, s in enumerate(sentences) if _dates(s, question, entities)]
        if not sentences or _lacks_what_is_asked(question, sentences, dating, entities):
            return refusal(question, hits)
        return self._compose_from(question, sentences, dating, entities, hits)

    def _compose_from(
        self,
        question: str,
        sentences: Sequence[Sentence],
        dating: Sequence[int],
        entities: set[str],
        hits: Sequence[Hit],
    ) -> Answer:
        """The answer from the scored ``sentences``; a "When ...?" question leads with its best
        dated sentence (``dating``: the indexes of the sentences dating what was asked)."""
        vectors = self.embedder.embed_documents([s.text for s in sentences])
        scores = self._scores(question, sentences, vectors, entities)
        first: int | None = None
        if answer_kind(question) == "date":
            first = max(dating, key=lambda i: float(scores[i]))
            first = first if np.isfinite(scores[first]) else None
        chosen = self._select(sentences, vectors, scores, lead=first)
        lead = chosen[0] if answer_kind(question) and chosen else None
        return _compose(question, chosen, hits, lead)

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        """The answer text sentence by sentence (each with its ``[n]`` and the space after
        it; together exactly ``Answer.answer``), then the Answer, as an LLM streams."""
        answer = self.answer(question, hits)
        yield from text_pieces(answer.answer)
        yield answer

    def choose(self, question: str, hits: Sequence[Hit], choices: Sequence[str]) -> Answer:
        """An Answer to a multiple-choice ``question``: ``Answer.choice`` is the option of
        ``choices`` the passages support best (see assistant.choices), and the answer leads with
        the cited sentence that names it, followed by sentences that name no other option.
        When no passage names any option, a notice says so and the answer is the open one."""
        entities = question_entities(question)
        if not self.supported(question, hits, entities):
            return refusal(question, hits)
        sentences = _sentences(hits)
        options = read_options(question, choices)
        names = [named_options(s.text, options) for s in sentences]
        if not any(names):
            answer = self.answer(question, hits)
            return replace(answer, notices=(*answer.notices, no_option(choices)))
        vectors = self.embedder.embed_documents([s.text for s in sentences])
        cosines = vectors @ self.embedder.embed_query(question)
        pick = rank_options(question, choices, sentences, cosines, self.choice_weights)[0]
        scores = self._scores(question, sentences, vectors, entities)
        for i, found in enumerate(names):
            if found and pick.option not in found:
                scores[i] = -np.inf  # a sentence for another option would muddle the answer
            elif found.get(pick.option) == 1.0:
                scores[i] += self.choice_weights.follow
        chosen = self._select(sentences, vectors, scores, lead=sentences.index(pick.sentence))
        return replace(_compose(question, chosen, hits, chosen[0]), choice=pick.option)

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
        # A long question names many things; one of them may go unmentioned (a first name). A
        # question asking for a name may describe it with one the passages need not repeat
        # ("which Texas city", "a city in the Midwest").
        return missing == 0 or (
            missing == 1 and (len(entities) >= MANY_NAMES or asks_for_name(question))
        )

    def _scores(
        self,
        question: str,
        sentences: Sequence[Sentence],
        vectors: np.ndarray,
        entities: set[str],
    ) -> np.ndarray:
        """Similarity to the question, passage score, shared words, names asked about, and
        whether the sentence holds the kind of answer asked for (a number for "how many").
        "What did X say about Y?" is scored against Y: all of X's sentences name X."""
        topic = speech_topic(question) or question
        cosine = vectors @ self.embedder.embed_query(topic)
        terms = content_words(topic)
        shared = np.array([overlap(terms, s.text, s.before) for s in sentences])
        passage = np.array([s.hit.score for s in sentences])
        # "What did Rutte say ..." is answered from passages about Rutte, not near-misses.
        named = np.array([_share_named(s.hit, entities) for s in sentences])
        kind = answer_kind(question)
        typed = np.array([holds_kind(s.text, kind, question) for s in sentences], dtype=float)
        fact = required_fact(question)
        exact = np.array(
            [fact is not None and _holds(s, fact, entities) for s in sentences], dtype=float
        )
        w = self.weights
        scores = w.cosine * cosine + w.passage * passage + w.overlap * shared
        scores += w.named * (named - 1.0) + w.typed * typed + w.exact * exact
        if asks_for_name(question):
            # the name most of the passages put forward is likely the answer (redundancy)
            best = _voted_name(question, sentences)
            if best:
                voted = np.array([mentions(fold(s.text), best) for s in sentences], dtype=float)
                scores += w.voted * voted
        if named.max() == 1.0:  # passages about everyone asked about exist: use only those
            scores[named < 1.0] = -np.inf
        return scores

    def _select(
        self,
        sentences: Sequence[Sentence],
        vectors: np.ndarray,
        scores: np.ndarray,
        lead: int | None = None,
    ) -> list[Sentence]:
        """Best sentences first (``sentences[lead]`` before all, if given), skipping
        near-repeats, until the word budget (which counts the "According to ..." lead of each
        article) is spent."""
        chosen: list[int] = []
        articles: set[str] = set()
        words = 0
        best = float(scores.max())
        order = np.argsort(-scores)
        if lead is not None:
            order = np.concatenate([[lead], order[order != lead]])
        for i in order:
            if chosen and (len(chosen) >= MAX_SENTENCES or scores[i] < KEEP_RATIO * best):
                break
            if chosen and not np.isfinite(scores[i]):
                break
            if any(float(vectors[i] @ vectors[j]) > REDUNDANT_COSINE for j in chosen):
                continue
            hit = sentences[i].hit
            length = len(sentences[i].text.split())
            if hit.chunk.article_id not in articles:
                length += len(lead_in(hit, first=not articles).split())
            if chosen and words + length > self.max_words:
                continue  # a shorter sentence may still fit
            chosen.append(int(i))
            articles.add(hit.chunk.article_id)
            words += length
        return [sentences[i] for i in chosen]


def _voted_name(question: str, sentences: Sequence[Sentence]) -> str | None:
    """The name (not one the question uses) that the passages mention most, each mention
    weighted by its passage's similarity to the question."""
    asked = content_words(question) | question_entities(question)
    votes: dict[str, float] = {}
    for s in sentences:
        for name in set(capitalised_names(s.text)):
            words = content_words(name)
            if words and not words & asked:
                votes[fold(name)] = votes.get(fold(name), 0.0) + max(s.hit.score, 0.0)
    return max(votes, key=lambda n: (votes[n], n)) if votes else None


def no_option(choices: Sequence[str]) -> str:
    """The notice of a multiple-choice answer that picks none of ``choices``."""
    return (
        f"None of the options ({', '.join(choices)}) appears in the passages found, so none is "
        "picked; the answer is the one to the question alone."
    )


# the end of a sentence of an answer: its [n] or its stop, and the space before the next one
_PIECE_END = re.compile(r"(?:\[\d+\]|[.!?])\s+(?!\[\d)")


def text_pieces(text: str) -> list[str]:
    """``text`` cut after each sentence (and its citation markers), for streaming;
    ``"".join(text_pieces(t)) == t``.

    >>> text_pieces("Rutte spoke. [1] He left. [2]")
    ['Rutte spoke. [1] ', 'He left. [2]']
    """
    pieces, start = [], 0
    for match in _PIECE_END.finditer(text):
        pieces.append(text[start : match.end()])
        start = match.end()
    if start < len(text) or not pieces:
        pieces.append(text[start:])
    return pieces


def refusal(question: str, hits: Sequence[Hit], text: str = REFUSAL) -> Answer:
    """A refusal that shows the closest passages as "related"."""
    related = tuple(Citation.from_hit(n, h) for n, h in enumerate(hits[:RELATED], start=1))
    return Answer(question, text, True, (), tuple(hits), related=related)


def _lacks_what_is_asked(
    question: str, sentences: Sequence[Sentence], dating: Sequence[int], entities: set[str]
) -> bool:
    """Whether no sentence about what was asked holds the kind of thing asked for: the figure
    of "how much" (a museum's price is not a lottery article's jackpot), the thing of "the
    winning numbers", the doer of "who developed" (not who built its turbines), or a date of
    "When" (``dating``: the indexes of the sentences dating what was asked)."""
    about = [s for s in sentences if _share_named(s.hit, entities) == 1.0] or list(sentences)
    fact = required_fact(question)
    if fact and not any(_holds(s, fact, entities) for s in about):
        return True
    focus = focus_noun(question)
    if focus and not any(holds_focus(s.text, focus) for s in about):
        return True
    verb = doer_verb(question)
    if verb and not any(_says(s, {verb}) for s in about):
        return True
    return answer_kind(question) == "date" and not any(sentences[i] in about for i in dating)


def _on_topic(question: str, statements: Sequence[Sentence], entities: set[str]) -> bool:
    """Whether the speaker's statements touch the topic asked about: "What did Corvasier say
    about nuclear deterrence?" needs a statement (or the sentence that introduces it) naming
    deterrence or nuclear; names in the topic were already checked against the passages."""
    topic = speech_topic(question)
    terms = {t for t in content_words(topic or "") if t not in entities and t.isalpha()}
    if not terms:
        return True
    return any(terms & content_words(f"{s.before} {s.text}") for s in statements)


def no_statement(question: str, speaker: AbstractSet[str]) -> str:
    """ "I found no statement by Rutte on that ..." with the name as the question spells it."""
    words = [w for w in WORD.findall(question) if names_any(w, speaker)]
    who = " ".join(dict.fromkeys(re.sub(r"['\u2019]s$", "", w) for w in words)) or "them"
    return f"I could not find a statement by {who} on that in the indexed articles."


def names_any(text: str, stems: AbstractSet[str]) -> bool:
    """Whether ``text`` (a speaker's name) mentions any of the name ``stems`` asked about."""
    folded = fold(text)
    return any(mentions(folded, stem) for stem in stems)


def _holds(sentence: Sentence, fact: str, entities: set[str]) -> bool:
    """Whether ``sentence`` holds the figure asked for, about what was asked: a number of seats
    for the Rural Alliance must name the Rural Alliance, in the sentence or the headline."""
    if not holds_fact(sentence.text, fact):
        return False
    context = fold(f"{sentence.hit.chunk.title}\n{sentence.text}")
    return all(mentions(context, e) for e in entities)


def _dates(sentence: Sentence, question: str, entities: set[str]) -> bool:
    """Whether ``sentence`` gives a date for what a "when" question asks about: it holds a date
    and one of the question's words besides the names ("When will the Crosstown Line be
    extended to the airport?" is not answered by the day the line opened)."""
    if not holds_kind(sentence.text, "date", question):
        return False
    terms = {
        t
        for t in content_words(question) - TIME_UNITS  # "each year" says nothing of the topic
        if len(t) > 2 and not any(mentions(t, e) for e in entities)
    }
    return not terms or _says(sentence, terms)


def _says(sentence: Sentence, terms: set[str]) -> bool:
    """Whether ``sentence`` (or the one before it) uses a form of one of ``terms``."""
    words = content_words(f"{sentence.before} {sentence.text}")
    return any(_akin(t, w) for t in terms for w in words)


def _akin(a: str, b: str) -> bool:
    """Whether two words look like forms of one ("open"/"opened", "extend"/"extension")."""
    short, long = sorted((a, b), key=len)
    if len(short) < 4:
        return short == long
    return long.startswith(short) or (len(short) >= 6 and short[:5] == long[:5])


def _share_named(hit: Hit, entities: set[str]) -> float:
    if not entities:
        return 1.0
    text = fold(f"{hit.chunk.title}\n{hit.chunk.text}")
    return sum(mentions(text, e) for e in entities) / len(entities)


def _sentences(hits: Sequence[Hit]) -> list[Sentence]:
    """Each distinct sentence of the passages once, credited to the best passage holding it
    (of two copies of a story, the one that names its source and date), with its speaker."""
    found: dict[str, Sentence] = {}
    for hit in hits:
        chunk = hit.chunk
        speakers = {s.start: s.speaker for s in statements_of(hit)}
        before = ""
        for start, end in sentence_spans(chunk.text, offset=chunk.start):
            text = chunk.text[start - chunk.start : end - chunk.start]
            key = " ".join(fold(text).split())  # the same story filed twice counts once
            seen = found.get(key)
            if _quotable(text) and (seen is None or _described(hit) > _described(seen.hit)):
                found[key] = Sentence(hit, start, end, text, speakers.get(start), before)
            before = text
    return list(found.values())


_QUESTION = re.compile(r"\?[\"'\u201d\u2019)\]]*$")


def _quotable(text: str) -> bool:
    """A statement worth quoting: long enough, not a question the article asks its readers
    ("How difficult was it ...?") — a question answers nothing — and holding nothing shaped
    like a citation marker: quoted, an article's "[9]" would pass for the answer's own."""
    return (
        len(text.split()) >= MIN_SENTENCE_WORDS
        and _QUESTION.search(text) is None
        and MARKER.search(text) is None
    )


def _described(hit: Hit) -> int:
    """How much an answer can say about where a passage comes from (source, date)."""
    return bool(hit.chunk.source) + bool(hit.chunk.published)


def _compose(
    question: str, chosen: Sequence[Sentence], hits: Sequence[Hit], lead: Sentence | None = None
) -> Answer:
    """Group sentences by article, the article of the best sentence first, each group led by
    where it comes from and read in article order; ``lead`` (the sentence holding the person,
    place, date or number asked for) opens the answer. Sources are numbered as they appear."""
    article_rank: dict[str, int] = {}
    for s in chosen:
        article_rank.setdefault(s.hit.chunk.article_id, len(article_rank))
    ordered = sorted(
        chosen, key=lambda s: (article_rank[s.hit.chunk.article_id], s is not lead, s.start)
    )
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    parts: list[str] = []
    current: str | None = None  # the article being quoted
    for s in ordered:
        if s.hit.chunk.article_id != current:
            parts.append(lead_in(s.hit, first=current is None))
            current = s.hit.chunk.article_id
        if s.hit.chunk.id not in numbers:
            numbers[s.hit.chunk.id] = len(numbers) + 1
            citations.append(Citation.from_hit(numbers[s.hit.chunk.id], s.hit))
        parts.append(f"{s.text} [{numbers[s.hit.chunk.id]}]")
    return Answer(question, " ".join(parts), False, tuple(citations), tuple(hits))
