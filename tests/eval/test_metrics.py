import pytest

from assistant.records import Citation
from eval.metrics import (
    answer_hit,
    chosen_choice,
    citation_valid,
    contains,
    first_relevant_rank,
    hit_at,
    is_relevant,
    mean,
    mrr_at,
    normalize,
    percentile,
    word_count,
)
from eval.qa import QAItem


def test_normalize_folds_case_accents_quotes_and_spaces() -> None:
    curly = "  Zoë  BRANDT\tsaid\n\u201cwe didn\u2019t\u201d "
    assert normalize(curly) == 'zoe brandt said "we didn\'t"'
    assert normalize("Nicolás Maduro") == "nicolas maduro"
    assert normalize("\u2018quoted\u2019 «guillemets»") == "'quoted' \"guillemets\""


def test_contains_matches_normalised_text() -> None:
    assert contains("We didn\u2019t play our best football", "we didn't PLAY")
    assert contains("lead author Zoë Brandt of the Institute", "Zoe Brandt")
    assert contains("a   line\nbreak", "line break")


@pytest.mark.parametrize(
    ("haystack", "needle"),
    [
        ("Iranian officials met on Monday", "Iran"),
        ("spending rose by 15 percent", "5"),
        ("devote at least 3.5 percent", "5"),
        ("a force of 5,000 troops", "5"),
        ("the 2035 target", "203"),
        ("", "Iran"),
        ("anything at all", ""),
    ],
)
def test_contains_rejects_partial_words_and_numbers(haystack: str, needle: str) -> None:
    assert not contains(haystack, needle)


@pytest.mark.parametrize(
    ("haystack", "needle"),
    [
        ("Rutte called the situation in Iran repellent", "Iran"),
        ("Iran's foreign minister", "Iran"),
        ("raise spending to 5 percent by 2035.", "5 percent"),
        ("devote at least 3.5 percent", "3.5 percent"),
        ("tickets cost $5 each", "$5"),
        ("the score was 2-1 (aet)", "(aet)"),
        ("rate held at 2.75%", "2.75%"),
    ],
)
def test_contains_finds_whole_words_even_with_punctuation_at_the_edges(
    haystack: str, needle: str
) -> None:
    assert contains(haystack, needle)


def test_relevance_uses_evidence_when_given_and_gold_answers_otherwise() -> None:
    with_evidence = QAItem(
        "q1", "Who?", answer="Russia", evidence=("Russia remains the most significant threat",)
    )
    only_answers = QAItem("q2", "Who?", answer="Russia", answers=("the Russian Federation",))

    assert not is_relevant("Russia was mentioned in passing.", with_evidence)
    assert is_relevant("Rutte said Russia remains the most significant threat.", with_evidence)
    assert is_relevant("Talks with the Russian Federation stalled.", only_answers)
    assert is_relevant("Russia was mentioned in passing.", only_answers)
    assert not is_relevant("Russian troops moved.", only_answers)


def test_first_relevant_rank_is_one_based_and_looks_ten_deep() -> None:
    item = QAItem("q", "When?", answer="2035")
    passages = ["nothing here"] * 3 + ["by 2035"] + ["by 2035 again"]

    assert first_relevant_rank(passages, item) == 4
    assert first_relevant_rank(["nothing"] * 10 + ["by 2035"], item) is None
    assert first_relevant_rank([], item) is None


def test_hit_and_mrr_count_missing_and_deep_ranks_as_misses() -> None:
    ranks = [1, 3, None, 7]

    assert hit_at(ranks, 1) == 0.25
    assert hit_at(ranks, 5) == 0.5
    assert hit_at(ranks, 10) == 0.75
    assert mrr_at(ranks, 10) == pytest.approx((1 + 1 / 3 + 1 / 7) / 4)
    assert mrr_at(ranks, 5) == pytest.approx((1 + 1 / 3) / 4)
    assert hit_at([], 5) is None
    assert mrr_at([], 10) is None


def test_answer_hit_accepts_gold_or_evidence_but_not_markers_or_refusals() -> None:
    item = QAItem("q", "How many?", answer="58", evidence=("58 of the 175 seats",))

    assert answer_hit("They won 58 seats [1].", item)
    assert answer_hit("winning 58 of the 175 seats [2]", item)
    assert not answer_hit("They won 158 seats [1].", item)
    assert not answer_hit("They won 58 seats [1].", item, refused=True)
    assert not answer_hit("See [58].", QAItem("q", "?", answer="58"))


def test_chosen_choice_picks_the_choice_named_most_often() -> None:
    choices = ["Russia", "China", "Iran", "North Korea"]

    assert chosen_choice("China and Russia; Russia most of all [1].", choices) == "Russia"
    assert chosen_choice("North Korea [1].", choices) == "North Korea"


def test_chosen_choice_breaks_ties_by_earliest_mention() -> None:
    choices = ["Russia", "China", "Iran"]

    assert chosen_choice("Iran is worse than China, said Rutte.", choices) == "Iran"
    assert chosen_choice("China is worse than Iran, said Rutte.", choices) == "China"


def test_chosen_choice_is_none_for_no_mention_partial_words_or_a_refusal() -> None:
    choices = ["Iran", "China"]

    assert chosen_choice("The Iranian and Chinese envoys met.", choices) is None
    assert chosen_choice("Nothing relevant [1].", choices) is None
    assert chosen_choice("Iran [1].", choices, refused=True) is None


def test_chosen_choice_credits_the_longer_choice_it_is_part_of() -> None:
    choices = ["Guinea", "Papua New Guinea", "Fiji"]

    assert chosen_choice("The quake struck Papua New Guinea [1].", choices) == "Papua New Guinea"
    assert chosen_choice("Guinea, not Papua New Guinea, and Guinea again.", choices) == "Guinea"


def test_citation_valid_compares_the_passage_with_the_article_slice() -> None:
    text = "Rutte spoke to MEPs. He called the situation in Iran repellent."

    def cite(start: int, end: int, passage: str) -> Citation:
        return Citation(1, "a1", "T", None, None, None, passage, start, end)

    assert citation_valid(cite(21, 63, text[21:63]), text)
    assert not citation_valid(cite(21, 63, text[20:62]), text)
    assert not citation_valid(cite(60, 90, text[60:90]), text)
    assert not citation_valid(cite(5, 5, ""), text)


def test_percentile_interpolates_like_numpy() -> None:
    values = [40.0, 10.0, 30.0, 20.0]

    assert percentile(values, 50) == 25.0
    assert percentile(values, 95) == pytest.approx(38.5)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_mean_and_word_count() -> None:
    assert word_count("Rutte called it repellent [1]. [2]") == 4
    assert mean([1.0, 2.0, 6.0]) == 3.0
    assert mean([]) is None
