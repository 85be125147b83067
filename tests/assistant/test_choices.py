"""Reading multiple-choice options: matching them in sentences and ranking their support."""

from dataclasses import dataclass

import numpy as np
import pytest

from assistant.choices import (
    ChoiceWeights,
    check_choices,
    named_options,
    rank_options,
    read_options,
    tokens,
)
from index.errors import ConfigError
from index.records import Chunk, Hit


@dataclass(frozen=True)
class Said:
    """A sentence of a passage, as assistant.answerer.Sentence has it."""

    hit: Hit
    text: str
    before: str = ""


def passage(title: str, score: float, rank: int, article: str | None = None) -> Hit:
    chunk = Chunk(f"{title}:{rank}", article or title, 0, 0, 10, "text", title, "Wire")
    return Hit(chunk, score, rank)


def shares(text: str, question: str, choices: list[str]) -> dict[str, float]:
    return named_options(text, read_options(question, choices))


def test_tokens_fold_case_plurals_numbers_and_percent() -> None:
    assert [t for t, _ in tokens("Four Oscars, 16,000 jobs and 20% more")] == [
        "4",
        "oscar",
        "16000",
        "job",
        "and",
        "20",
        "percent",
        "more",
    ]
    # capitals count after the first word, and on a first word only for an acronym
    assert [cap for _, cap in tokens("Security lines at TSA")] == [False, False, False, True]
    assert tokens("TSA officers")[0] == ("tsa", True)


def test_numbers_match_spelled_out_but_not_as_the_day_of_a_date() -> None:
    question = "How many years since the attack?"
    choices = ["3 years", "5 years", "Four"]
    assert shares("It happened five years ago.", question, choices) == {"5 years": 1.0}
    assert shares("Updated Feb. 4, 2022, 7:01 p.m.", question, choices) == {}
    assert shares("The four of them left.", question, choices) == {"Four": 1.0}


def test_an_option_is_named_in_part_by_the_words_only_it_has() -> None:
    question = "Which NFL team won the Super Bowl?"
    choices = ["New England Patriots", "Seattle Seahawks", "Kansas City Chiefs"]
    assert shares("The Seahawks beat the Rams.", question, choices) == {"Seattle Seahawks": 0.5}
    # "Kansas City Chiefs" and "Kansas City Royals" share "Kansas City": only "Chiefs" tells
    options = read_options(question, ["Kansas City Chiefs", "Kansas City Royals"])
    assert options[0].distinct == {"chief"}
    assert named_options("He moved to Kansas City.", options) == {}


def test_names_must_be_capitalised_to_count_but_common_words_need_not() -> None:
    question = "Which program was suspended?"
    choices = ["Social Security", "TSA PreCheck", "Raw cheddar cheese"]
    assert shares("Security lines grew longer at airports.", question, choices) == {}
    assert shares("TSA officers went unpaid.", question, choices) == {"TSA PreCheck": 0.5}
    found = shares("It was linked to cheddar cheese made with raw milk.", question, choices)
    assert found == {"Raw cheddar cheese": 1.0}


def test_words_of_the_question_do_not_tell_options_apart() -> None:
    options = read_options("Which member of the Trump family?", ["Melania Trump", "Eric Trump"])
    assert [o.distinct for o in options] == [{"melania"}, {"eric"}]
    assert options[0].words == ("melania", "trump")


def test_a_leading_the_is_optional() -> None:
    question = "Which award show was held?"
    assert shares("Oscars night drew a record audience.", question, ["The Oscars", "Emmys"]) == {
        "The Oscars": 1.0
    }


def test_the_option_in_the_sentence_that_answers_the_question_wins() -> None:
    question = "Which city saw the immigration crackdown?"
    choices = ["Los Angeles", "Minneapolis", "Miami"]
    top, other = passage("Crackdown widens", 0.6, 1), passage("Old protests", 0.6, 2)
    sentences = [
        Said(top, "Minneapolis is the latest city to see an immigration crackdown."),
        Said(other, "Protests began last year in Los Angeles."),
    ]
    ranked = rank_options(question, choices, sentences, np.array([0.6, 0.3]))
    assert [s.option for s in ranked] == ["Minneapolis", "Los Angeles"]
    assert ranked[0].sentence is sentences[0]
    assert ranked[0].score > ranked[1].score


def test_support_adds_up_as_the_weights_say() -> None:
    question = "Which city had the crackdown?"
    hit = passage("Minneapolis crackdown", 0.5, 2)
    sentence = Said(hit, "Agents arrived in Minneapolis.", before="The crackdown began.")
    w = ChoiceWeights()
    [support] = rank_options(question, ["Minneapolis", "Miami"], [sentence], np.array([0.4]))
    overlap = 0.5 * 1 / 2  # "crackdown" only in the sentence before; "city" nowhere
    fit = w.cosine * 0.4 + w.overlap * overlap + w.passage * 0.5 + w.rank / 2 + w.title
    assert support.score == pytest.approx(fit + w.spread * 0.5)


def test_of_two_options_in_one_sentence_the_one_next_to_the_question_words_wins() -> None:
    question = "What level of vaccine coverage do experts say is needed?"
    sentence = Said(
        passage("Measles", 0.6, 1),
        "Uptake fell to 81 percent last year, well below the 95 percent level that experts "
        "say is needed to prevent sustained spread.",
    )
    choices = ["81 percent", "90 percent", "95 percent"]
    ranked = rank_options(question, choices, [sentence], np.array([0.5]))
    assert [s.option for s in ranked] == ["95 percent", "81 percent"]


def test_ties_keep_the_order_of_the_options() -> None:
    hit = passage("Derby", 0.5, 1)
    sentence = Said(hit, "Fans of the Patriots and the Seahawks filled the bars.")
    choices = ["Seattle Seahawks", "New England Patriots"]
    ranked = rank_options("Who won?", choices, [sentence], np.array([0.5]))
    assert [s.option for s in ranked] == choices


def test_options_no_sentence_names_are_left_out() -> None:
    sentences = [Said(passage("Rain", 0.5, 1), "It rained all day in the lower town.")]
    assert rank_options("Which town flooded?", ["Saltvik", "Wrenford"], sentences, np.ones(1)) == []


def test_check_choices_strips_drops_repeats_and_names_an_empty_one() -> None:
    assert check_choices([" Cuba ", "Venezuela", "cuba"]) == ("Cuba", "Venezuela")
    assert check_choices([]) == ()
    with pytest.raises(ConfigError) as error:
        check_choices(["Cuba", "  "])
    assert str(error.value) == (
        "Choice 2 ('  ') is empty — give every option some text, "
        "e.g. --choice Venezuela --choice Cuba."
    )
