"""Time in questions: as-of dates, relative expressions and the soft date preference."""

from datetime import date

import pytest

from index.errors import ConfigError
from index.timeframe import TimePreference, day_number, parse_day, time_window

AS_OF = date(2026, 3, 10)  # a Tuesday


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("What happened today in parliament?", date(2026, 3, 10), date(2026, 3, 10)),
        ("Who resigned yesterday?", date(2026, 3, 9), date(2026, 3, 9)),
        ("Which city was hit by floods this week?", date(2026, 3, 3), date(2026, 3, 10)),
        ("What did the bank decide last week?", date(2026, 2, 24), date(2026, 3, 3)),
        ("Who won the vote last month?", date(2026, 2, 1), date(2026, 2, 28)),
        ("How many jobs were added this month?", date(2026, 3, 1), date(2026, 3, 10)),
        ("What did Rutte say in January?", date(2026, 1, 1), date(2026, 1, 31)),
        ("What was announced in December?", date(2025, 12, 1), date(2025, 12, 31)),
        ("What happened in Sept 2024?", date(2024, 9, 1), date(2024, 9, 30)),
        ("Who won the election in 2025?", date(2025, 1, 1), date(2025, 12, 31)),
        ("What did the company report last year?", date(2025, 1, 1), date(2025, 12, 31)),
        ("Which singer recently announced a tour?", date(2026, 2, 24), date(2026, 3, 10)),
        ("What is the latest on the strike?", date(2026, 2, 24), date(2026, 3, 10)),
    ],
)
def test_relative_expressions_resolve_from_the_as_of_date(
    question: str, start: date, end: date
) -> None:
    window = time_window(question, AS_OF)
    assert window is not None
    assert (window.start, window.end) == (start, end)
    assert window.phrase.lower() in question.lower()


@pytest.mark.parametrize(
    "question",
    ["What did Rutte say about a European army?", "May the council vote again?", "Who is March?"],
)
def test_questions_without_time_words_have_no_window(question: str) -> None:
    assert time_window(question, AS_OF) is None


def test_parse_day_reads_common_forms_and_names_the_fix() -> None:
    assert parse_day("2026-01-14") == date(2026, 1, 14)
    assert parse_day("14 Jan 2026") == date(2026, 1, 14)
    assert parse_day("today") == date.today()
    assert parse_day(None) is None and parse_day("  ") is None
    with pytest.raises(ConfigError, match=r"as_of 'soon' is not a date — write it as YYYY-MM-DD"):
        parse_day("soon", "as_of")


def test_preference_favours_recent_articles_and_never_future_ones() -> None:
    pref = TimePreference(AS_OF, half_life_days=30)
    same_day = pref.score(day_number(AS_OF))
    month_old = pref.score(day_number(date(2026, 2, 8)))
    year_old = pref.score(day_number(date(2025, 3, 10)))
    assert same_day == 1.0
    assert month_old == pytest.approx(0.5, abs=0.01)
    assert year_old < 0.01
    assert pref.score(day_number(date(2026, 3, 11))) == 0.0  # after the as-of date
    assert pref.score(None) == pref.undated


def test_preference_inside_a_window_is_full_and_fades_outside() -> None:
    window = time_window("Who won the vote last month?", AS_OF)
    pref = TimePreference(AS_OF, window, half_life_days=10)
    assert pref.score(day_number(date(2026, 2, 1))) == 1.0
    assert pref.score(day_number(date(2026, 2, 28))) == 1.0
    assert pref.score(day_number(date(2026, 3, 10))) == pytest.approx(0.5**1.0, abs=0.05)
    assert pref.score(day_number(date(2026, 1, 22))) == pytest.approx(0.5, abs=0.01)


def test_one_day_number_for_stored_and_asked_dates() -> None:
    """Stored dates (ISO strings) and filter dates encode the same way, so ranges compare."""
    assert day_number("2026-01-14") == day_number(date(2026, 1, 14)) == 20260114
    assert day_number(None) is None
