import pytest

from assistant.questions import (
    answer_kind,
    content_words,
    doer_verb,
    focus_noun,
    fold,
    holds_fact,
    holds_focus,
    holds_kind,
    mentions,
    question_entities,
    required_fact,
    speech_subject,
    speech_topic,
)


def test_fold_drops_case_and_accents_and_keeps_everything_else() -> None:
    assert fold("NATO Says") == "nato says"  # ASCII: casefolded only
    assert fold("Nicolás Maduro\u2019s \u201carmy\u201d \u2014 Zo\u00eb") == (
        "nicolas maduro's \u201carmy\u201d \u2014 zoe"
    )
    assert fold("e\u0301te\u0301 \ufb01ne Stra\u00dfe") == "ete fine strasse"  # NFKD, casefold
    assert fold("") == ""


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


@pytest.mark.parametrize(
    ("question", "speaker"),
    [
        ("What did Rutte say about a European army?", {"rutte"}),
        ("According to Zoë Brandt, what shows up every time?", {"zoe", "brandt"}),
        ("How did Corvasier describe national armies?", {"corvasier"}),
        ("What was Rutte's view on Iran?", {"rutte"}),
        ("What did Port Calder's manager say after the game?", set()),  # a role, not a name
        ("How did the NATO chief describe Iran?", set()),
        ("Who won the derby?", set()),
    ],
)
def test_speech_subject(question: str, speaker: set[str]) -> None:
    assert speech_subject(question) == speaker


def test_speech_topic() -> None:
    assert speech_topic("What did Rutte say about a European army?") == "a European army"
    assert speech_topic("Who won the derby?") is None


@pytest.mark.parametrize(
    ("question", "noun"),
    [
        ("What were the winning numbers in the record draw?", "number"),
        ("What salary will the new jobs pay?", "salary"),
        ("What was voter turnout in the election?", "turnout"),
        ("What is the number of people in the town?", None),
        ("What country did the minister visit?", None),
        ("Who won the derby?", None),
    ],
)
def test_focus_noun(question: str, noun: str | None) -> None:
    assert focus_noun(question) == noun


def test_holds_focus_wants_figures_for_numbers() -> None:
    assert not holds_focus("The group matched all six main numbers.", "number")
    assert holds_focus("The winning numbers were 4, 12 and 31.", "number")
    assert holds_focus("Turnout was 71.8 percent.", "turnout")


def test_a_count_must_count_the_thing_asked_about() -> None:
    assert holds_fact("an outbreak that has infected 87 people", "count:people")
    assert not holds_fact("every secondary school, after 87 people fell ill", "count:school")
    assert holds_fact("winning 58 of the 175 seats", "count:seat")
    assert holds_fact("the jackpot rolled over eleven times", "count:time")
    assert required_fact("How many times had the jackpot rolled over?") == "count:time"
    assert required_fact("How many years since the last election?") is None


@pytest.mark.parametrize(
    ("question", "verb"),
    [
        ("Which company manufactured the turbines for the wind farm?", "manufactured"),
        ("What firm acquired the port operator?", "acquired"),
        ("Which company announced layoffs this week?", "announced"),
        ("Which company based in Ohio announced layoffs?", None),  # describes the company
        ("Which company made headlines this week?", None),  # irregular: passages rephrase it
        ("Which automaker is discontinuing some models?", None),
        ("Who manufactured the turbines?", None),
    ],
)
def test_doer_verb(question: str, verb: str | None) -> None:
    assert doer_verb(question) == verb
