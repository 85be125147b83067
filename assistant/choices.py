"""Reading a multiple-choice question: where the passages name each of its options, and how well
the sentences that name one answer the question. The best-supported option is the pick."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import numpy as np

from assistant.questions import STOPWORDS, content_words, fold, overlap
from index.errors import ConfigError
from index.records import Hit

# Numbers spelled out, so "Four" matches "4 times" and "5 years" matches "five years".
NUMBER_WORDS = {
    word: str(n)
    for n, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {
    word: str(10 * n)
    for n, word in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), start=3)
}
MONTHS = frozenset(
    "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june "
    "july august september october november december".split()
)
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")
NEAR = 5  # words either side of a mention in which the question's words count as near it


@dataclass(frozen=True)
class ChoiceWeights:
    """How the support of an option adds up (see :func:`rank_options`). Each sentence naming it
    scores by what it shares with the question and where it stands; the option takes its best
    sentence's score, plus a little for each article that names it."""

    cosine: float = 0.40  # similarity of the sentence to the question
    overlap: float = 0.40  # share of the question's words in it (half for the sentence before)
    passage: float = 0.25  # similarity of its passage to the question
    rank: float = 0.10  # divided by its passage's rank (retrieval prefers the dates asked about)
    title: float = 0.20  # its passage's headline names the option
    spread: float = 0.10  # per article naming the option, times that passage's similarity
    partial: float = 0.50  # a mention by some of its words ("the Seahawks") counts this much
    near: float = 0.10  # share of the question's words within NEAR words of the mention
    # added to the answer score of a sentence naming the pick in full: at 1.0 the answer, after
    # its lead, quotes such sentences only (others fall below answerer.KEEP_RATIO of the best)
    follow: float = 1.0


class Quotable(Protocol):
    """A sentence of a retrieved passage (``assistant.answerer.Sentence``)."""

    @property
    def hit(self) -> Hit: ...

    @property
    def text(self) -> str: ...

    @property
    def before(self) -> str: ...


S = TypeVar("S", bound=Quotable)


@dataclass(frozen=True)
class Support(Generic[S]):
    """How well the passages support ``option``: ``score``, and the sentence that names it and
    best answers the question (an answer leads with it)."""

    option: str
    score: float
    sentence: S


def check_choices(choices: Sequence[str]) -> tuple[str, ...]:
    """``choices`` stripped, each once (ignoring case and accents); raises ConfigError on an
    empty one."""
    kept: dict[str, str] = {}
    for n, choice in enumerate(choices, start=1):
        if not isinstance(choice, str) or not choice.strip():
            raise ConfigError(
                f"Choice {n} ({choice!r}) is empty — give every option some text, "
                "e.g. --choice Venezuela --choice Cuba."
            )
        kept.setdefault(" ".join(fold(choice).split()), choice.strip())
    return tuple(kept.values())


def tokens(text: str) -> list[tuple[str, bool]]:
    """Folded words and numbers of ``text`` — plurals off, numbers as digits ("Four Oscars" ->
    "4", "oscar"; "16,000" -> "16000"; "20%" -> "20", "percent") — each with whether it is
    capitalised (a first word only when it is an acronym: "TSA")."""
    text = text.replace("%", " percent").replace("per cent", "percent")
    out = []
    for n, raw in enumerate(_TOKEN.findall(text)):
        token = fold(raw)
        if token[0].isdigit():
            token = token.replace(",", "")
        else:
            token = NUMBER_WORDS.get(token, token)
            if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
                token = token[:-1]
        out.append((token, raw[0].isupper() and (n > 0 or (len(raw) > 1 and raw.isupper()))))
    return out


@dataclass(frozen=True)
class Option:
    """An option as it is looked for: its words, and those that tell it from the others."""

    text: str
    words: tuple[str, ...]  # its tokens, without a leading "the"
    distinct: frozenset[str]  # content words no other option (nor the question) has
    names: frozenset[str]  # its words that are names: a sentence must capitalise them

    def mention(self, sentence: Sequence[tuple[str, bool]]) -> float:
        """How fully a sentence (its :func:`tokens`) names the option: 1.0 for the whole
        option, else the share of its distinctive words it holds ("the Patriots" names half of
        "New England Patriots"); a number that is the day of a date ("Feb. 4") does not count."""
        return self.find(sentence)[0]

    def find(self, sentence: Sequence[tuple[str, bool]]) -> tuple[float, list[int]]:
        """:meth:`mention`, and the positions of the words that name the option."""
        words = [t for t, _ in sentence]
        n = len(self.words)
        whole = [
            i
            for i in range(len(words) - n + 1)
            if tuple(words[i : i + n]) == self.words and not _day_of_date(words, i, n)
        ]
        if whole or not self.distinct:
            return (1.0 if whole else 0.0), [i + j for i in whole for j in range(n)]
        found = [
            i
            for i, (t, cap) in enumerate(sentence)
            if t in self.distinct and (cap or t not in self.names)
        ]
        return len({words[i] for i in found}) / len(self.distinct), found


def read_options(question: str, choices: Sequence[str]) -> list[Option]:
    """The ``choices`` of ``question`` ready to be looked for in sentences."""
    asked = {t for t, _ in tokens(question)}
    words = []
    for choice in choices:
        ws = tuple(t for t, _ in tokens(choice))
        words.append(ws[1:] if len(ws) > 1 and ws[0] == "the" else ws)
    options = []
    for i, choice in enumerate(choices):
        others = {t for j, ws in enumerate(words) if j != i for t in ws}
        distinct = {
            t for t in words[i] if t not in others | asked and t not in STOPWORDS and len(t) > 1
        }
        options.append(Option(choice, words[i], frozenset(distinct), _names(choice)))
    return options


def _names(choice: str) -> frozenset[str]:
    """The words of ``choice`` that are names: all of a title-case phrase ("Seattle Seahawks"),
    else its capitalised words after the first and its acronyms ("AI-powered robot": "ai")."""
    cased = tokens(choice)
    words = [raw for raw in _TOKEN.findall(choice) if fold(raw) not in STOPWORDS]
    if len(words) > 1 and all(w[0].isupper() or w[0].isdigit() for w in words):
        return frozenset(t for t, _ in cased)
    return frozenset(t for t, cap in cased if cap)


def _day_of_date(words: Sequence[str], i: int, n: int) -> bool:
    return n == 1 and words[i].isdigit() and i > 0 and words[i - 1] in MONTHS


def rank_options(
    question: str,
    choices: Sequence[str],
    sentences: Sequence[S],
    cosines: np.ndarray,
    weights: ChoiceWeights = ChoiceWeights(),
) -> list[Support[S]]:
    """The options some sentence names, best supported first (ties keep the options' order).

    ``cosines[i]`` is the similarity of ``sentences[i]`` to the question. A sentence naming an
    option scores ``cosine``, ``overlap`` (the question's words in it), ``passage`` (its
    passage's similarity), ``rank``, ``title`` and ``near`` (the question's words next to the
    mention; see :class:`ChoiceWeights`), times how fully it names the option; the option
    scores its best sentence plus ``spread`` per article that names it.
    """
    w = weights
    options = read_options(question, choices)
    terms = content_words(question)
    asked = {t for t, _ in tokens(" ".join(terms))}
    titles: dict[str, list[tuple[str, bool]]] = {}
    best: dict[int, tuple[float, int]] = {}  # option -> (score, sentence)
    spread: dict[int, dict[str, float]] = {}  # option -> article -> passage similarity
    for i, sentence in enumerate(sentences):
        said = tokens(sentence.text)
        chunk = sentence.hit.chunk
        title = titles.setdefault(chunk.id, tokens(chunk.title))
        fit = (
            w.cosine * float(cosines[i])
            + w.overlap * overlap(terms, sentence.text, sentence.before)
            + w.passage * sentence.hit.score
            + w.rank / max(sentence.hit.rank, 1)
        )
        for o, option in enumerate(options):
            named, at = option.find(said)
            if not named:
                continue
            close = _near(asked, said, at)
            score = (fit + w.title * option.mention(title) + w.near * close) * (
                1.0 if named == 1.0 else w.partial * named
            )
            if o not in best or score > best[o][0]:
                best[o] = (score, i)
            articles = spread.setdefault(o, {})
            seen = articles.get(chunk.article_id, 0.0)
            articles[chunk.article_id] = max(seen, sentence.hit.score)
    ranked = [
        Support(options[o].text, score + w.spread * sum(spread[o].values()), sentences[i])
        for o, (score, i) in best.items()
    ]
    order = {option.text: n for n, option in enumerate(options)}
    return sorted(ranked, key=lambda s: (-s.score, order[s.option]))


def _near(asked: set[str], sentence: Sequence[tuple[str, bool]], at: Sequence[int]) -> float:
    """Share of the question's words (``asked``) within NEAR words of the mention at ``at``
    ("the 95 percent level that experts say is needed" answers "what level do experts say")."""
    if not asked or not at:
        return 0.0
    start, end = max(min(at) - NEAR, 0), max(at) + NEAR + 1
    return len(asked & {t for t, _ in sentence[start:end]}) / len(asked)


def named_options(text: str, options: Sequence[Option]) -> dict[str, float]:
    """The options ``text`` names, each with how fully (see :meth:`Option.mention`)."""
    said = tokens(text)
    found = {option.text: option.mention(said) for option in options}
    return {option: share for option, share in found.items() if share > 0}
