"""Checking a generated answer's citations against hand-built passages (fake embedder)."""

import pytest

from assistant.citecheck import CitationChecker
from index.embeddings import Embedder, FakeEmbedder
from index.records import Chunk, Hit
from tests.conftest import HEADLINES

TEXTS = {key: (title, text) for key, title, text in HEADLINES}


def hit(key: str, rank: int = 1, score: float = 0.6) -> Hit:
    title, text = TEXTS[key]
    chunk = Chunk(f"{key}:0", key, 0, 0, len(text), text, title, "Test Wire", "2026-01-14", None)
    return Hit(chunk, score, rank)


@pytest.fixture
def checker() -> CitationChecker:
    return CitationChecker(FakeEmbedder(256))


def test_markers_out_of_range_are_dropped_and_the_rest_renumbered(
    checker: CitationChecker,
) -> None:
    hits = [hit("lottery", 1), hit("chips", 2), hit("nato", 3)]
    checked = checker.check(
        "The firm plans to hire 1,200 workers [2][7]. Forty workers shared a record lottery "
        "jackpot [0][1]. Each member will receive about 1.2 million euros [1, 2].",
        hits,
    )
    assert checked.text == (
        "The firm plans to hire 1,200 workers. [1] Forty workers shared a record lottery "
        "jackpot. [2] Each member will receive about 1.2 million euros. [1][2]"
    )
    assert [(c.n, c.article_id) for c in checked.citations] == [(1, "chips"), (2, "lottery")]
    assert [c.passage for c in checked.citations] == [hits[1].chunk.text, hits[0].chunk.text]
    assert checked.dropped == (7, 0)
    assert checked.unsupported == ()


def test_a_marker_that_opens_the_next_sentence_belongs_to_the_one_before(
    checker: CitationChecker,
) -> None:
    checked = checker.check(
        "The central bank kept its main rate at 2.75 percent. [1] Inflation was cooling.\n[1]",
        [hit("rates")],
    )
    assert checked.text == (
        "The central bank kept its main rate at 2.75 percent. [1] Inflation was cooling. [1]"
    )
    assert checked.unsupported == ()


def test_unbacked_and_uncited_sentences_are_unsupported(checker: CitationChecker) -> None:
    checked = checker.check(
        "Forty workers shared a record lottery jackpot [1]. Each member will receive 5 million "
        "euros [1]. The winners plan to quit their jobs and travel the world.",
        [hit("lottery")],
    )
    assert checked.unsupported == (
        "Each member will receive 5 million euros.",
        "The winners plan to quit their jobs and travel the world.",
    )
    assert checked.backed == ("Forty workers shared a record lottery jackpot.",)
    assert [c.n for c in checked.citations] == [1]


def test_line_breaks_between_sentences_survive(checker: CitationChecker) -> None:
    checked = checker.check(
        "Trams will run every six minutes [1].\n\nThe tram line opened on Tuesday [1].",
        [hit("tram")],
    )
    assert checked.text == (
        "Trams will run every six minutes. [1]\n\nThe tram line opened on Tuesday. [1]"
    )


@pytest.mark.parametrize(
    ("sentence", "key", "backed"),
    [
        ("Rutte said a European army would duplicate NATO command structures.", "nato", True),
        ("Forty bottling plant workers won the lottery jackpot.", "lottery", True),
        ("The firm will hire 1,200 workers in three years.", "chips", True),
        ("Each member will receive 5 million euros.", "lottery", False),  # a figure not there
        ("The bank cut its rate to 2.5 percent.", "rates", False),
        ("Rutte resigned on Monday after a vote of no confidence.", "nato", False),
        ("Based on the passages, here is the answer:", "nato", True),  # claims nothing
    ],
)
def test_backed(checker: CitationChecker, sentence: str, key: str, backed: bool) -> None:
    assert checker.backed(sentence, [hit(key)]) is backed


def test_a_sentence_that_claims_something_needs_a_passage(checker: CitationChecker) -> None:
    assert not checker.backed("Forty workers shared a record lottery jackpot.", [])


@pytest.mark.integration
def test_paraphrases_pass_with_the_real_embedder(real_embedder: Embedder) -> None:
    checker = CitationChecker(real_embedder)
    rates = [hit("rates")]
    assert checker.backed(
        "The governor said inflation is falling while wages keep growing quickly.", rates
    )
    assert not checker.backed(
        "The European Central Bank raised rates to fight inflation in the eurozone.", rates
    )
    assert not CitationChecker(None).backed(
        "The governor said inflation is falling while wages keep growing quickly.", rates
    )
