"""Time in questions: the as-of date, relative expressions ("this week", "in January") and the
soft date preference they give the ranking. Explicit user filters are hard; these are soft."""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import overload

from dateutil import parser as date_parser

from index.errors import ConfigError

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_name) if name})
MONTHS["sept"] = 9
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("today", re.compile(r"\b(?:today|tonight|this morning|this evening)\b", re.I)),
    ("yesterday", re.compile(r"\byesterday\b", re.I)),
    ("this_week", re.compile(r"\b(?:this|past|last few) (?:week|days)\b", re.I)),
    ("last_week", re.compile(r"\blast week\b", re.I)),
    ("this_month", re.compile(r"\b(?:this|past) month\b", re.I)),
    ("last_month", re.compile(r"\blast month\b", re.I)),
    ("this_year", re.compile(r"\bthis year\b", re.I)),
    ("last_year", re.compile(r"\blast year\b", re.I)),
    ("month", re.compile(rf"\b(?:in|during|since|of|on) ({_MONTH})(?:\s+(\d{{4}}))?\b", re.I)),
    ("year", re.compile(r"\b(?:in|during|of) ((?:19|20)\d\d)\b", re.I)),
    ("recent", re.compile(r"\b(?:recent(?:ly)?|lately|latest)\b", re.I)),
]
RECENT_DAYS = 14  # "recently" / "latest": the last two weeks


@dataclass(frozen=True)
class TimeWindow:
    """The dates a question is about, both ends included, and the words that said so."""

    start: date
    end: date
    phrase: str


def parse_day(value: str | date | None, what: str = "date") -> date | None:
    """``date`` from ``"2026-01-14"``, ``"14 Jan 2026"`` or a ``date``; None stays None."""
    if value is None or isinstance(value, date):
        return value
    text = value.strip()
    if not text:
        return None
    if text.lower() == "today":
        return date.today()
    try:
        return date_parser.parse(text).date()
    except (ValueError, OverflowError, TypeError):
        raise ConfigError(
            f"{what} {value!r} is not a date — write it as YYYY-MM-DD, e.g. 2026-01-14."
        ) from None


@overload
def day_number(day: date | str) -> int: ...


@overload
def day_number(day: None) -> None: ...


def day_number(day: date | str | None) -> int | None:
    """20260114 for 14 Jan 2026 or ``"2026-01-14"``: the one form dates are stored and compared
    in (Chroma's range filters compare numbers only). None (no date) stays None."""
    if day is None:
        return None
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return day.year * 10000 + day.month * 100 + day.day


def from_day_number(value: int) -> date:
    return date(value // 10000, value // 100 % 100, value % 100)


def time_window(question: str, as_of: date) -> TimeWindow | None:
    """The window a relative time expression in ``question`` points at, seen from ``as_of``.

    >>> time_window("Who won the vote last month?", date(2026, 3, 10))
    TimeWindow(start=datetime.date(2026, 2, 1), end=datetime.date(2026, 2, 28), phrase='last month')
    """
    for kind, pattern in _PATTERNS:
        match = pattern.search(question)
        if match:
            window = _resolve(kind, match, as_of)
            if window is not None:
                return TimeWindow(window[0], window[1], match.group(0))
    return None


def _resolve(kind: str, match: re.Match[str], as_of: date) -> tuple[date, date] | None:
    if kind == "today":
        return as_of, as_of
    if kind == "yesterday":
        day = as_of - timedelta(days=1)
        return day, day
    if kind == "recent":
        return as_of - timedelta(days=RECENT_DAYS), as_of
    if kind == "this_week":
        return as_of - timedelta(days=7), as_of
    if kind == "last_week":
        return as_of - timedelta(days=14), as_of - timedelta(days=7)
    if kind == "this_month":
        return as_of.replace(day=1), as_of
    if kind == "last_month":
        end = as_of.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if kind == "this_year":
        return date(as_of.year, 1, 1), as_of
    if kind == "last_year":
        return date(as_of.year - 1, 1, 1), date(as_of.year - 1, 12, 31)
    if kind == "year":
        year = int(match.group(1))
        return date(year, 1, 1), date(year, 12, 31)
    month = MONTHS[match.group(1).lower().rstrip(".")]
    if match.group(2):
        year = int(match.group(2))
    else:  # the latest such month that has begun by the as-of date
        year = as_of.year if month <= as_of.month else as_of.year - 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, 1), date(year, month, last)


@dataclass(frozen=True)
class TimePreference:
    """How much a passage's date agrees with the question's time, in [0, 1].

    With a window from the question, dates inside it score 1 and fade outside it; without one,
    recent articles (before the as-of date) are preferred. Undated passages score ``undated``.
    Articles dated after the as-of date did not exist yet and score 0, unless
    ``future_half_life_days`` gives them a grace that fades (publication dates can be a day or
    two off). The retrieval benchmark found no gain from a grace, so it is off by default.
    """

    as_of: date
    window: TimeWindow | None = None
    half_life_days: float = 30.0
    future_half_life_days: float = 0.0
    undated: float = 0.3

    def score(self, published: int | None) -> float:
        if not published:
            return self.undated
        try:
            day = from_day_number(published)
        except ValueError:
            return self.undated
        if day > self.as_of:
            if self.future_half_life_days <= 0:
                return 0.0
            return math.pow(0.5, (day - self.as_of).days / self.future_half_life_days)
        if self.window is None:
            age = (self.as_of - day).days
        elif day < self.window.start:
            age = (self.window.start - day).days
        elif day > self.window.end:
            age = (day - self.window.end).days
        else:
            age = 0
        return math.pow(0.5, age / self.half_life_days)
