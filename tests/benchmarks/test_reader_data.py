"""The made-unanswerable construction: a question's passages without the articles that hold
its answer, and the cache that keeps them."""

from pathlib import Path

from benchmarks.reader_data import (
    DEEP,
    Case,
    bearing,
    index_case,
    read_cases,
    without,
    write_cases,
)
from eval.metrics import RANK_DEPTH
from index.records import Article, Chunk, Hit, Statement

TEXTS = {
    "flood": "The dike at Tessel broke on Sunday. Mayor Anna Berg ordered the evacuation.",
    "rain": "Heavy rain fell across the north of the country on Sunday night.",
    "dike": "Engineers inspected dikes along the river; the one at Tessel is the oldest.",
}


def hit(article: str, rank: int, part: str | None = None) -> Hit:
    text = part or TEXTS[article]
    chunk = Chunk(f"{article}:{rank}", article, 0, 0, len(text), text, article, "Wire", None)
    return Hit(chunk, 0.9 - rank / 10, rank)


def test_the_articles_holding_the_answer_are_filtered_out() -> None:
    # the flood article's retrieved passage lacks the name, but its full text has it
    hits = [hit("flood", 1, "The dike at Tessel broke on Sunday."), hit("rain", 2), hit("dike", 3)]
    gone = bearing(hits, "Anna Berg", TEXTS.__getitem__)
    assert gone == {"flood"}
    blind = without(hits, gone)
    assert [h.chunk.article_id for h in blind] == ["rain", "dike"]
    assert [h.rank for h in blind] == [1, 2]  # ranked again from 1
    assert not any("Anna Berg" in TEXTS[h.chunk.article_id] for h in blind)


def test_a_whole_word_match_decides_what_holds_the_answer() -> None:
    assert bearing([hit("rain", 1)], "rain", TEXTS.__getitem__) == {"rain"}
    assert bearing([hit("dike", 1)], "dik", TEXTS.__getitem__) == set()


def test_cases_round_trip_through_the_cache(tmp_path: Path) -> None:
    said = Chunk(
        "a:1",
        "a",
        0,
        0,
        10,
        "He spoke.",
        "T",
        None,
        None,
        None,
        (Statement("Rutte", 0, 9, "reported"),),
    )
    case = Case(
        "q1",
        "Who spoke?",
        "Rutte",
        ("Rutte", "Berg"),
        "2026-01-14",
        (Hit(said, 0.5, 1, 1.2),),
        (hit("rain", 1),),
        (),
    )
    write_cases([case], tmp_path / "c.jsonl")
    assert read_cases(tmp_path / "c.jsonl") == [case]
    assert read_cases(tmp_path / "c.jsonl")[0].hits[0].chunk.statements == said.statements


class ListIndex:
    """An index answering every search with the same ranked passages; it records each search."""

    def __init__(self, hits: list[Hit]) -> None:
        self.hits = hits
        self.searches: list[tuple[str, int, str]] = []

    def search(self, query: str, k: int, *, as_of: str) -> list[Hit]:
        self.searches.append((query, k, as_of))
        return self.hits[:k]

    def article(self, article_id: str) -> Article:
        return Article(article_id, article_id, TEXTS[article_id], "Wire", published="2026-01-12")


def test_a_case_from_an_index_is_retrieved_as_of_its_date_like_the_eval() -> None:
    hits = [hit("flood", 1), hit("rain", 2), hit("dike", 3)]
    index = ListIndex(hits)
    item = {"id": "q1", "question": "Who ordered the evacuation at Tessel?", "answer": "Anna Berg"}
    case = index_case(index, item | {"question_date": "2026-01-14"})
    assert [h.chunk.article_id for h in case.hits] == ["flood", "rain", "dike"]
    # the twin: the deeper search without the article whose text holds the answer
    assert [h.chunk.article_id for h in case.blind] == ["rain", "dike"]
    assert [h.rank for h in case.blind] == [1, 2]
    assert {as_of for _, _, as_of in index.searches} == {"2026-01-14"}
    depths = sorted(k for _, k, _ in index.searches)
    assert depths[0] >= RANK_DEPTH and depths[-1] >= DEEP  # the eval's depth, then the deep one
    assert case.extra == ()  # no choices, no option passages
