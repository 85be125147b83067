"""The Runnable chain, the LangChain retriever and the Assistant over a real index."""

import re
from dataclasses import replace

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

from assistant import Assistant, NewsIndex, NewsRetriever
from index.records import Article
from index.retrieval import SearchFilters
from tests.conftest import RUTTE_QUESTION


def test_chain_runs_retrieve_then_answer(fake_index: NewsIndex, tiny_corpus: list[Article]) -> None:
    fake_index.ingest_articles(tiny_corpus)
    assistant = Assistant(fake_index)
    answer = assistant.chain.invoke(
        {"question": "Which syndicate shared a record lottery jackpot?", "k": 3}
    )
    assert len(answer.hits) == 3
    assert answer.citations and answer.citations[0].article_id == "lottery"


def test_retriever_drops_into_a_langchain_chain(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    fake_index.ingest_articles(tiny_corpus)
    retriever = NewsRetriever(index=fake_index, k=2)

    def titles(docs: list[Document]) -> list[str]:
        return [d.metadata["title"] for d in docs]

    chain = retriever | RunnableLambda(titles)
    assert chain.invoke("tram line river")[0] == "New tram line crosses the river"
    doc = retriever.invoke("tram line river")[0]
    assert set(doc.metadata) >= {
        "article_id",
        "title",
        "source",
        "published",
        "url",
        "start",
        "end",
        "score",
    }
    assert (
        fake_index.article(doc.metadata["article_id"]).text[
            doc.metadata["start"] : doc.metadata["end"]
        ]
        == doc.page_content
    )


def test_retriever_takes_mode_and_filters(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    wire = [replace(a, source="Coast Post") if a.id == "wind" else a for a in tiny_corpus]
    fake_index.ingest_articles(wire)
    coast = SearchFilters.build(sources=["Coast Post"])
    retriever = Assistant(fake_index).as_retriever(k=3, mode="keyword", filters=coast)
    docs = retriever.invoke("wind farm power grid")
    assert [d.metadata["article_id"] for d in docs] == ["wind"]
    assert (
        NewsRetriever(index=fake_index, k=3).invoke("wind", filters=coast)[0].metadata["source"]
        == "Coast Post"
    )


@pytest.mark.integration
def test_rutte_question_cites_the_command_structures_passage(sample_index: NewsIndex) -> None:
    answer = Assistant(sample_index).ask(RUTTE_QUESTION)
    assert not answer.refused
    assert "command structures" in answer.answer
    assert any("command structures" in c.passage and "Rutte" in c.title for c in answer.citations)
    for c in answer.citations:
        assert sample_index.article(c.article_id).text[c.start : c.end] == c.passage
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)} == {
        c.n for c in answer.citations
    }


@pytest.mark.integration
@pytest.mark.parametrize(
    "question",
    [
        "What did Rutte say about Taiwan?",
        "What is the population of Mars City?",
    ],
)
def test_unsupported_questions_are_refused(sample_index: NewsIndex, question: str) -> None:
    answer = Assistant(sample_index).ask(question)
    assert answer.refused and answer.citations == ()
