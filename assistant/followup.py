"""Follow-up questions, resolved against the conversation before retrieval, offline.

"What about the Arctic?" after "What did Rutte say about a European army?" becomes "What did
Rutte say about the Arctic?"; "Why does he think that?" becomes "Why does Rutte think that about
a European army?". Rules, no model: elliptical questions take the place of the previous topic,
"he"/"she" become the person last asked about, and "that"/"it" carry the previous topic along.

>>> resolve("What about the Arctic?", [Turn("What did Rutte say about a European army?")])
'What did Rutte say about the Arctic?'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.errors import ConfigError
from index.jsonerrors import json_reason

_ELLIPSIS = re.compile(
    r"^\s*(?:and|but|so)?\s*(?:what|how)\s+about\s+(?P<x>[^?]+?)\s*\??\s*$"
    r"|^\s*and\s+(?P<y>[^?]+?)\s*\?\s*$",
    re.IGNORECASE,
)
_ABOUT = re.compile(r"\b(?P<head>about|on|regarding|concerning)\s+(?P<topic>[^?]+?)\s*\??\s*$")
_LAST_PLACE = re.compile(r"\b(?P<head>in|for|at|of|from|to)\s+(?P<topic>[^?]+?)\s*\??\s*$")
_PERSON = re.compile(r"\b(?P<p>he|she|him|his|her|hers)\b", re.IGNORECASE)
_THING = re.compile(
    r"(?:\b(?P<prep>about|on|in|with|to|for|of|from|at|against|over)\s+)?"
    r"\b(?P<thing>that|this|it|they|them|there)\s*[?.!]?\s*$",
    re.IGNORECASE,
)
_NAME = re.compile(
    r"(?<![.?!]\s)(?<!^)\b(?P<name>(?:[A-Z][\w'\u2019-]*\s+)*[A-Z][\w\u2019-]*?)(?:['\u2019]s)?\b"
)
NOT_NAMES = frozenset(
    "I What Who When Where Why How Which NATO EU UN US UK The A An In On At".split()
)


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation; ``resolved`` is what was searched for, if different."""

    question: str
    answer: str = ""
    resolved: str | None = None

    @property
    def asked(self) -> str:
        return self.resolved or self.question


def resolve(question: str, history: Sequence[Turn]) -> str:
    """``question`` made self-contained using ``history`` (oldest first); unchanged when it
    already stands alone or there is no history."""
    if not history:
        return question
    previous = history[-1].asked
    ellipsis = _ELLIPSIS.match(question)
    if ellipsis:
        return _replace_topic(previous, (ellipsis.group("x") or ellipsis.group("y")).strip())
    resolved = question
    person = _last_person(history)
    if person and _PERSON.search(resolved):
        resolved = _PERSON.sub(lambda m: _person_form(m.group("p"), person), resolved)
    topic = _topic(previous)
    thing = _THING.search(resolved)
    if topic and thing and topic.lower() not in resolved.lower():
        if thing.group("prep"):  # "doing about it?" -> "doing about the outbreak?"
            return f"{resolved[: thing.start('thing')]}{topic}?"
        return f"{resolved.rstrip(' ?.!')} about {topic}?"  # "think that" keeps its topic
    return resolved


def _replace_topic(previous: str, topic: str) -> str:
    """The previous question asked about ``topic`` instead."""
    for pattern in (_ABOUT, _LAST_PLACE):
        match = pattern.search(previous)
        if match:
            return f"{previous[: match.start('topic')]}{topic}?"
    return f"{previous.rstrip(' ?')}, and {topic}?"


def _topic(question: str) -> str | None:
    """What a question is about: "... about a European army?", else its last phrase after a
    preposition ("... in the Carrow County outbreak?")."""
    match = _ABOUT.search(question) or _LAST_PLACE.search(question)
    return match.group("topic") if match else None


def _last_person(history: Sequence[Turn]) -> str | None:
    """The person the conversation was last about: a name in the latest question that has one
    (not its first word, which is capitalised anyway)."""
    for turn in reversed(history):
        for match in _NAME.finditer(turn.asked):
            name = match.group("name")
            if name.split()[0] not in NOT_NAMES and not name.isupper():
                return name
    return None


def _person_form(pronoun: str, person: str) -> str:
    """ "his"/"hers" -> "Rutte's"; "he", "him" and "her" (an object as often as a possessive)
    -> "Rutte"."""
    return f"{person}'s" if pronoun.lower() in ("his", "hers") else person


# -- reading a conversation ---------------------------------------------------------------------


def turns_from(records: Iterable[Mapping[str, Any]], origin: str = "history") -> list[Turn]:
    """Turns from ``newsrag ask --json`` objects ({"question", "answer"}) or chat messages
    ({"role": "user"|"assistant", "content"}), oldest first."""
    turns: list[Turn] = []
    pending: str | None = None
    for n, record in enumerate(records, start=1):
        if "question" in record:
            resolved = record.get("resolved_question")
            turns.append(
                Turn(str(record["question"]), str(record.get("answer") or ""), resolved or None)
            )
        elif record.get("role") == "user":
            if pending is not None:
                turns.append(Turn(pending))
            pending = _content(record.get("content"))
        elif record.get("role") == "assistant":
            if pending is not None:
                turns.append(Turn(pending, _content(record.get("content"))))
                pending = None
        else:
            raise ConfigError(
                f"{origin}: item {n} is neither a 'newsrag ask --json' answer (with 'question') "
                "nor a chat message (with 'role' user or assistant) — fix or remove it."
            )
    if pending is not None:
        turns.append(Turn(pending))
    return turns


def _content(value: Any) -> str:
    """A message's text; Gradio and OpenAI may give a list of parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(str(p.get("text", "")) if isinstance(p, Mapping) else str(p) for p in value)
    return "" if value is None else str(value)


HISTORY_FORMAT = (
    "a history file holds what 'newsrag ask --json' writes (answers one after another: "
    "'>> FILE' appends), a JSON list, or chat messages ({role, content}); each line of a JSONL "
    "history is one of them"
)
_SPACE = re.compile(r"\s*")


def load_history(path: Path) -> list[Turn]:
    """A conversation from ``path``: what ``newsrag ask --json`` writes (a pretty-printed
    object, or several of them one after another), JSONL, a JSON list, or chat messages (see
    :func:`turns_from`)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read the history file {path}: {exc} — check the path.") from exc
    return turns_from(json_records(text, str(path)), str(path))


def json_records(text: str, origin: str) -> list[dict[str, Any]]:
    """The JSON objects of ``text``, one after another (whitespace or newlines between them),
    each list among them read as its items; a syntax error names the line, column and fix."""
    decoder = json.JSONDecoder()
    records: list[dict[str, Any]] = []
    pos = _SPACE.match(text, 0).end()  # type: ignore[union-attr]  # \s* always matches
    while pos < len(text):
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{origin}:{exc.lineno}: not valid JSON ({json_reason(exc)}) — {HISTORY_FORMAT}."
            ) from exc
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, dict):
                line = text.count("\n", 0, pos) + 1
                raise ConfigError(
                    f"{origin}:{line}: expected a JSON object, got {type(item).__name__} — "
                    f"{HISTORY_FORMAT}."
                )
            records.append(item)
        pos = _SPACE.match(text, end).end()  # type: ignore[union-attr]
    return records
