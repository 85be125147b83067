"""Q&A sets for evaluation: the :class:`QAItem` record and a strict JSONL loader."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from eval.metrics import normalize
from index.errors import NewsragError
from index.jsonerrors import json_reason

ONE_PER_LINE = "write one JSON object per line"


class QAFormatError(NewsragError):
    """A Q&A file is missing, empty or has a line that is not a valid question."""


@dataclass(frozen=True)
class QAItem:
    """One evaluation question with what counts as right.

    ``evidence`` strings mark the passages that support the answer (when absent, a passage that
    contains a gold answer counts); ``choices`` make it a multiple-choice question;
    ``answerable=False`` means the right response is a refusal. ``labels`` keep the item's other
    plain fields (strings, numbers, true/false) as text, for ``newsrag eval --by FIELD``.

    >>> item = QAItem("q1", "Which country poses the biggest threat?", answer="Russia",
    ...               choices=("Russia", "China"))
    >>> item.gold, item.correct_choice
    (('Russia',), 'Russia')
    """

    id: str
    question: str
    answer: str | None = None
    answers: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    answerable: bool = True
    question_date: str | None = None
    labels: tuple[tuple[str, str], ...] = ()

    def label(self, field: str) -> str | None:
        """The item's ``field`` as text ("true"/"false" for booleans), or None without it:
        one of its labels, ``answerable`` or ``question_date``."""
        if field == "answerable":
            return "true" if self.answerable else "false"
        if field == "question_date":
            return self.question_date
        return dict(self.labels).get(field)

    @property
    def gold(self) -> tuple[str, ...]:
        """``answer`` followed by ``answers``, without repeats."""
        both = ((self.answer,) if self.answer is not None else ()) + self.answers
        return tuple(dict.fromkeys(both))

    @property
    def correct_choice(self) -> str | None:
        """The choice equal to a gold answer (ignoring case and accents), or None."""
        golds = {normalize(g) for g in self.gold}
        return next((c for c in self.choices if normalize(c) in golds), None)


def load_qa(path: str | Path) -> list[QAItem]:
    """The questions in the JSONL file at ``path``, in file order; blank lines are skipped.

    Reads newsrag's format and RealTimeQA's (unknown keys are ignored). Raises
    :class:`QAFormatError` naming the file, the line and the fix on the first bad line.

    >>> len(load_qa("eval/sample_qa.jsonl"))
    30
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise QAFormatError(f"No Q&A file at {path} — pass the path of a .jsonl file.") from exc
    except UnicodeDecodeError as exc:
        raise QAFormatError(f"{path} is not UTF-8 text — save it as UTF-8 JSONL.") from exc
    items: list[QAItem] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        item = parse_item(_json_object(line, f"{path}:{lineno}"), f"{path}:{lineno}")
        if item.id in seen:
            raise QAFormatError(
                f"{path}:{lineno}: id {item.id!r} is already used on line "
                f"{seen[item.id]} — give every question its own id."
            )
        seen[item.id] = lineno
        items.append(item)
    if not items:
        raise QAFormatError(f"{path} has no questions — {ONE_PER_LINE} with 'id' and 'question'.")
    return items


def _json_object(line: str, where: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise QAFormatError(
            f"{where}: not valid JSON ({json_reason(exc)}) — {ONE_PER_LINE}."
        ) from exc
    if not isinstance(obj, dict):
        raise QAFormatError(
            f"{where}: expected a JSON object, got {type(obj).__name__} — {ONE_PER_LINE}."
        )
    return obj


def parse_item(obj: dict[str, Any], where: str) -> QAItem:
    """A :class:`QAItem` from one decoded JSON object; ``where`` ("file:line") goes in errors."""
    item = QAItem(
        id=_id(obj, where),
        question=_text(obj, "question", where, required=True) or "",
        answer=_text(obj, "answer", where),
        answers=_strings(obj, "answers", where),
        evidence=_strings(obj, "evidence", where),
        choices=_strings(obj, "choices", where),
        answerable=_flag(obj, "answerable", where),
        question_date=_date(obj, where),
        labels=_labels(obj),
    )
    if item.choices and item.correct_choice is None:
        raise QAFormatError(
            f"{where}: no gold answer is one of the choices {list(item.choices)} "
            "— set 'answer' to the right choice."
        )
    return item


OWN = ("id", "question", "answer", "answers", "evidence", "choices", "answerable", "question_date")


def _labels(obj: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The plain fields of ``obj`` (strings, numbers, true/false) that are not a QAItem's own,
    as text: RealTimeQA's ``source`` and ``answer_in_search_results``, say."""
    out = []
    for key, value in obj.items():
        if key in OWN:
            continue
        if isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        elif isinstance(value, str | int | float):
            out.append((key, str(value)))
    return tuple(out)


def _id(obj: dict[str, Any], where: str) -> str:
    value = obj.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise QAFormatError(f"{where}: missing 'id' — give each question a unique string id.")
    return value


def _text(obj: dict[str, Any], key: str, where: str, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        verb = "missing" if value is None else f"{value!r} is not a usable"
        raise QAFormatError(f"{where}: {verb} '{key}' — set '{key}' to a non-empty string.")
    return value


def _strings(obj: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise QAFormatError(
            f"{where}: '{key}' is {type(value).__name__}, not a list — write "
            f'it as a list of strings, e.g. "{key}": ["..."].'
        )
    if not all(isinstance(v, str) and v.strip() for v in value):
        raise QAFormatError(
            f"{where}: '{key}' has an empty or non-string entry — make every "
            "entry a non-empty string."
        )
    return tuple(value)


def _flag(obj: dict[str, Any], key: str, where: str) -> bool:
    value = obj.get(key, True)
    if not isinstance(value, bool):
        raise QAFormatError(f"{where}: '{key}' is {value!r} — use true or false.")
    return value


def _date(obj: dict[str, Any], where: str) -> str | None:
    value = obj.get("question_date")
    if value is None:
        return None
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise QAFormatError(f"{where}: 'question_date' is {value!r} — use YYYY-MM-DD.") from exc
    return str(value)
