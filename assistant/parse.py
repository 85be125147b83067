"""A question read once: its kind, wh-word and expected answer type, the names it asks about,
the speaker and topic of a "what did X say" question, its time expression and options. The
answerer, the refusal check and the choice picker all read this one record."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from assistant.questions import (
    AnswerKind,
    answer_kind,
    asks_for_name,
    content_words,
    question_entities,
    required_fact,
    speech_subject,
    speech_topic,
)

QuestionKind = Literal[
    "fact", "said", "why", "how", "broad", "summary", "comparison", "timeline", "choice"
]
KINDS: tuple[QuestionKind, ...] = (
    "fact",
    "said",
    "why",
    "how",
    "broad",
    "summary",
    "comparison",
    "timeline",
    "choice",
)

_WH = re.compile(
    r"\b(how many|how much|how long|how old|how far|how often|who|whom|whose|what|when|where|"
    r"which|why|how)\b",
    re.IGNORECASE,
)
_SUMMARY = re.compile(
    r"^\s*(?:please\s+)?(?:summari[sz]e|give (?:me )?(?:a |the )?(?:summary|rundown|roundup|"
    r"overview)|what are the (?:top|main|biggest|latest) (?:stories|news|headlines))",
    re.IGNORECASE,
)
_BROAD = re.compile(
    r"^\s*(?:what(?:'s| is| was) (?:the )?(?:latest|news|new|going on|happening)\b|"
    r"what (?:happened|has happened|is happening)\b|tell me (?:about|more)\b|"
    r"(?:any )?news (?:about|on)\b|what do (?:we|you) know about\b|"
    r"(?:give me an )?update on\b)",
    re.IGNORECASE,
)
_TIMELINE = re.compile(
    r"\b(?:how (?:has|have|did) .+ (?:develop|developed|evolve|evolved|unfold|unfolded|"
    r"progress|progressed|change|changed)|timeline|chronolog|sequence of events|"
    r"what led up to)\b",
    re.IGNORECASE,
)
_COMPARISON = re.compile(
    r"\b(?:differ|difference|differences|compare|compared|comparison|versus|vs\.?|"
    r"contrast|disagree)\b",
    re.IGNORECASE,
)
_SIDES = re.compile(
    r"\b(?:did|do|does|between)\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)\s+(?:differ|compare|disagree|"
    r"on|over|about|in)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(?:this|last|past|next|previous) (?:week|month|year|weekend)|\btoday\b|\byesterday\b|"
    r"\brecently\b|\bin (?:19|20)\d\d\b|\b(?:january|february|march|april|may|june|july|august|"
    r"september|october|november|december)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Question:
    """What the answerer knows of a question, read once by :func:`parse_question`.

    >>> q = parse_question("What did Rutte say about the Arctic?")
    >>> q.kind, sorted(q.speaker), q.topic
    ('said', ['rutte'], 'the Arctic')
    """

    text: str
    kind: QuestionKind
    wh: str | None  # "who", "how many", ... (lowercase), None without one
    answer_type: AnswerKind | None  # number, date or name
    asks_name: bool  # the answer is a name (who/where/which ...)
    entities: frozenset[str]  # name stems the passages must mention
    speaker: frozenset[str]  # whose words a "what did X say" question asks for
    topic: str | None  # what was said about ("the Arctic"), or None
    time: str | None  # "last week", "in 2025", ... as written
    fact: str | None  # see assistant.questions.required_fact
    terms: frozenset[str]  # content words
    sides: tuple[str, ...] = ()  # the two sides of a comparison
    options: tuple[str, ...] = ()  # a multiple-choice question's options

    @property
    def focus(self) -> str:
        """The text sentences are compared with: the topic of a speech question, else itself."""
        return self.topic or self.text


def parse_question(text: str, options: Sequence[str] = ()) -> Question:
    """The :class:`Question` record of ``text`` (with ``options`` for a multiple-choice one)."""
    wh_match = _WH.search(text)
    wh = " ".join(wh_match.group(1).lower().split()) if wh_match else None
    speaker = frozenset(speech_subject(text))
    time = _TIME.search(text)
    sides = _sides(text)
    return Question(
        text=text,
        kind=_kind(text, wh, bool(speaker), sides, bool(options)),
        wh=wh,
        answer_type=answer_kind(text),
        asks_name=asks_for_name(text),
        entities=frozenset(question_entities(text)),
        speaker=speaker,
        topic=speech_topic(text),
        time=time.group(0) if time else None,
        fact=required_fact(text),
        terms=frozenset(content_words(speech_topic(text) or text)),
        sides=sides,
        options=tuple(options),
    )


def _kind(
    text: str, wh: str | None, said: bool, sides: tuple[str, ...], choice: bool
) -> QuestionKind:
    if choice:
        return "choice"
    if _SUMMARY.search(text):
        return "summary"
    if sides and _COMPARISON.search(text):
        return "comparison"
    if _TIMELINE.search(text):
        return "timeline"
    if _BROAD.search(text):
        return "broad"
    if wh == "why":  # "Why does Rutte think ...": the cause, in Rutte's words if he gave it
        return "why"
    if said:
        return "said"
    if wh == "how":
        return "how"
    return "fact"


def _sides(text: str) -> tuple[str, ...]:
    """The two sides of "How did A and B differ on X?" ("A", "B"), or ()."""
    match = _SIDES.search(text)
    if not match:
        return ()
    return tuple(s.strip(" ,") for s in (match.group("a"), match.group("b")))


def kind_of(text: str, options: Sequence[str] = ()) -> QuestionKind:
    """The kind of question ``text`` is (``newsrag eval --by kind`` groups by it)."""
    return parse_question(text, options).kind
