"""The question record: every kind of question a reader asks, read once."""

import pytest

from assistant.parse import kind_of, parse_question


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many Tesla vehicles were delivered in 2025?", "fact"),
        ("What did Rutte say about the Arctic?", "said"),
        ("Why does Rutte think the Russians would welcome parallel EU structures?", "why"),
        ("How does the new tram line reach the airport?", "how"),
        ("What happened in Tessel?", "broad"),
        ("What's the latest on the Arctic?", "broad"),
        ("Tell me about the flood in Tessel", "broad"),
        ("Summarise the news about NATO", "summary"),
        ("How did Rutte and Corvasier differ on a European army?", "comparison"),
        ("How has the Tessel flood developed?", "timeline"),
    ],
)
def test_kind(question: str, kind: str) -> None:
    assert kind_of(question) == kind


def test_a_question_with_options_is_a_choice() -> None:
    q = parse_question("Which city flooded?", ["Tessel", "Norvik"])
    assert (q.kind, q.options) == ("choice", ("Tessel", "Norvik"))


def test_the_record_holds_what_the_answerer_needs() -> None:
    q = parse_question("What did Rutte say about the Arctic last week?")
    assert q.speaker == {"rutte"} and q.topic == "the Arctic last week"
    assert q.time == "last week" and q.focus == "the Arctic last week"
    assert "arctic" in q.entities and q.wh == "what"
    n = parse_question("How many turbines does the Skerry Bank farm have?")
    assert (n.answer_type, n.fact, n.wh) == ("number", "count:turbine", "how many")
    assert parse_question("Who won the race in Norvik?").asks_name


def test_a_comparison_names_its_two_sides() -> None:
    q = parse_question("How did Rutte and Corvasier differ on a European army?")
    assert q.sides == ("Rutte", "Corvasier")
