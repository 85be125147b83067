import pytest

from assistant.questions import (
    answer_kind,
    content_words,
    holds_fact,
    holds_kind,
    mentions,
    question_entities,
    required_fact,
)


def test_entities_skip_question_words_months_and_acronyms() -> None:
    assert question_entities("What did Nicolás Maduro say in January about Iran?") == {
        "nicola",
        "maduro",
        "iran",
    }
    assert question_entities("What did Norvik's chief tell MEPs about NATO and GDP?") == {"norvik"}


def test_mentions_matches_word_starts_only() -> None:
    assert mentions("the norvik plant", "norvik")
    assert not mentions("a snorvik", "norvik")


def test_content_words_are_stemmed_without_stopwords() -> None:
    assert content_words("How many turbines does the farm have?") == {"turbine", "farm"}


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many people were evacuated?", "number"),
        ("What share of GDP goes to defence?", "number"),
        ("When did the ice reach its minimum?", "date"),
        ("Who scored the winner?", "name"),
        ("Which scientist led the team?", "name"),
        ("Why did the bank hold rates?", None),
    ],
)
def test_answer_kind(question: str, kind: str | None) -> None:
    assert answer_kind(question) == kind


def test_holds_kind() -> None:
    assert holds_kind("Eleven workers shared it.", "number", "")
    assert holds_kind("The ice bottomed out on 10 September.", "date", "")
    assert holds_kind("The team was led by Zoë Brandt.", "name", "Who led the team?")
    assert not holds_kind("The team was led by a professor.", "name", "Who led the team?")


def test_quantity_questions_need_their_fact() -> None:
    assert required_fact("How many turbines make up the farm?") == "count:turbine"
    assert required_fact("How much did the plant cost?") == "money"
    assert required_fact("What did Rutte say?") is None
    assert holds_fact("The farm has 64 turbines.", "count:turbine")
    assert not holds_fact("The first turbines sent power on Sunday.", "count:turbine")
    assert holds_fact("It cost 2.1 billion euros.", "money")
    assert not holds_fact("It recycles 70 percent of its water.", "money")


def test_entities_ignore_words_that_start_a_later_sentence() -> None:
    question = "Trump spoke for a record time on Tuesday. Roughly how long was his speech?"
    assert question_entities(question) == set()
    assert question_entities("He met Rutte. Which city hosted Zelensky?") == {"rutte", "zelensky"}


def test_time_spans_are_not_counted_facts() -> None:
    assert required_fact("How many years has it been since the invasion?") is None
