"""The Runnable chain, the LangChain retriever and the Assistant over a real index."""

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

from assistant import Answer, Assistant, NewsIndex, NewsRetriever
from assistant.chain import answer_with, option_passages, stream_with
from eval.qa import load_qa
from index.embeddings import Embedder
from index.records import Article, Chunk, Hit
from index.retrieval import SearchFilters
from tests.conftest import RUTTE_QUESTION, SAMPLE_QA, CountingEmbedder


def test_chain_runs_retrieve_then_answer(fake_index: NewsIndex, tiny_corpus: list[Article]) -> None:
    fake_index.ingest_articles(tiny_corpus)
    assistant = Assistant(fake_index)
    answer = assistant.chain.invoke(
        {"question": "Which syndicate shared a record lottery jackpot?", "k": 3}
    )
    assert len(answer.hits) == 3
    # the fake embedder's cosines mean nothing to the trained scorer: the chain's plumbing only
    assert answer.citations
    assert {c.article_id for c in answer.citations} <= {h.chunk.article_id for h in answer.hits}


def test_the_lottery_question_cites_the_lottery_article(sample_index: NewsIndex) -> None:
    answer = Assistant(sample_index).ask("Which syndicate shared a record lottery jackpot?")
    assert not answer.refused
    assert "lottery" in answer.citations[0].title.lower() or "jackpot" in answer.answer


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


def test_who_said_what_answers_only_from_the_speakers_statements(
    sample_index: NewsIndex,
) -> None:
    answer = Assistant(sample_index).ask(RUTTE_QUESTION)
    assert answer.answer.startswith("According to The Harbour Ledger (14 Jan 2026): ")
    speakers = {s.speaker for h in answer.hits if h.chunk.statements for s in h.chunk.statements}
    assert "Mark Rutte" in speakers  # statements were stored with the chunks at ingest
    quoted = [
        s
        for h in answer.hits
        for s in h.chunk.statements or ()
        if sample_index.article(h.chunk.article_id).text[s.start : s.end] in answer.answer
    ]
    assert quoted and {s.speaker for s in quoted} == {"Mark Rutte"}
    assert "Corvasier" not in answer.answer  # she speaks about a European army too


def test_a_speaker_who_never_spoke_on_the_topic_is_refused_with_related_passages(
    sample_index: NewsIndex,
) -> None:
    answer = Assistant(sample_index).ask("What did Corvasier say about nuclear deterrence?")
    assert answer.refused and not answer.citations
    assert answer.answer == (
        "I could not find a statement by Corvasier on that in the indexed articles."
    )
    assert answer.related and answer.related[0].n == 1
    assert "Corvasier" in " ".join(c.passage for c in answer.related)


def test_follow_ups_are_resolved_before_retrieval(sample_index: NewsIndex) -> None:
    assistant = Assistant(sample_index)
    first = assistant.ask(RUTTE_QUESTION)
    history = [{"question": first.question, "answer": first.answer}]
    follow = assistant.ask("What about the Arctic?", as_of="2026-01-17", history=history)
    assert follow.question == "What about the Arctic?"
    assert follow.resolved == "What did Rutte say about the Arctic?"
    assert not follow.refused and "Arctic" in follow.answer
    messages = [
        {"role": "user", "content": RUTTE_QUESTION},
        {"role": "assistant", "content": first.answer},
    ]
    again = assistant.ask("What about the Arctic?", as_of="2026-01-17", history=messages)
    assert again.answer == follow.answer
    assert assistant.ask(RUTTE_QUESTION, history=[]).resolved is None


def test_stream_yields_text_then_the_same_answer_as_ask(sample_index: NewsIndex) -> None:
    assistant = Assistant(sample_index)
    parts = list(assistant.stream(RUTTE_QUESTION, as_of="2026-01-17"))
    *text, final = parts
    assert all(isinstance(p, str) for p in text) and "".join(text) == final.answer
    assert final == assistant.ask(RUTTE_QUESTION, as_of="2026-01-17")


def test_answers_lead_with_the_sentence_holding_what_was_asked(sample_index: NewsIndex) -> None:
    answer = Assistant(sample_index).ask(
        "Who scored Port Calder's late winner against Redmere United?", as_of="2025-08-19"
    )
    first = answer.answer.split("): ", 1)[1]
    assert first.split(" [1]")[0].count("Okafor") >= 1


class OpenOnly:
    """An answerer with no ``choose`` (as the LLM answerer): it answers the question alone."""

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        return Answer(question, "An open answer [1].", False, answerer="llm:fake:model")

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        yield "An open answer [1]."
        yield self.answer(question, hits)


def test_an_answerer_that_cannot_pick_says_the_options_went_unused() -> None:
    answer = answer_with(OpenOnly(), "Who won?", [], ["Okafor", "Hale"])
    assert answer.choice is None and answer.answer == "An open answer [1]."
    assert answer.notices == (
        "The options were not used: llm:fake:model answers the question alone; the extractive "
        "answerer (without --llm) picks one.",
    )
    *text, final = stream_with(OpenOnly(), "Who won?", [], ["Okafor", "Hale"])
    assert text == ["An open answer [1]."] and final == answer
    assert answer_with(OpenOnly(), "Who won?", []).notices == ()


def test_ask_with_choices_leads_with_the_sentence_naming_the_pick(sample_index: NewsIndex) -> None:
    assistant = Assistant(sample_index)
    question = "Where does the Skerry Bank wind farm's export cable reach land?"
    choices = ["Eskerhavn", "Saltvik", "Wrenford", "Northgate"]
    answer = assistant.ask(question, as_of="2025-10-30", choices=choices)
    assert (answer.choice, answer.refused, answer.notices) == ("Saltvik", False, ())
    lead = answer.answer.split("): ", 1)[1].split(" [1]")[0]
    assert "Saltvik" in lead and lead in answer.citations[0].passage
    assert answer.to_dict()["choice"] == "Saltvik"
    *text, final = assistant.stream(question, as_of="2025-10-30", choices=choices)
    assert "".join(str(t) for t in text) == final.answer and final == answer


def test_every_sample_question_with_choices_gets_its_gold_choice(sample_index: NewsIndex) -> None:
    assistant = Assistant(sample_index)
    items = [item for item in load_qa(SAMPLE_QA) if item.choices]
    picks = {
        item.id: assistant.ask(item.question, as_of=item.question_date, choices=item.choices).choice
        for item in items
    }
    assert picks == {item.id: item.correct_choice for item in items}


def passage(key: str, text: str, rank: int = 1) -> Hit:
    chunk = Chunk(f"{key}:0", key, 0, 0, len(text), text, f"Title {key}", "Wire", "2026-01-14")
    return Hit(chunk, 0.5, rank)


def test_option_passages_are_added_only_when_no_passage_names_an_option() -> None:
    question = "Which city hosted the summit?"
    story = passage("story", "Leaders met for a two-day summit on trade and security.")
    searched: list[str] = []
    found = {
        "Oslo": [passage("oslo", "The summit opened in Oslo on Monday.")],
        "Bergen": [passage("story", story.chunk.text), passage("fjord", "Bergen has rain.")],
    }

    def search(query: str) -> list[Hit]:
        searched.append(query)
        return next((hits for name, hits in found.items() if query.endswith(name)), [])

    hits = option_passages(question, [story], ["Oslo", "Bergen", "Tromsø"], search)
    assert searched == [f"{question} {c}" for c in ("Oslo", "Bergen", "Tromsø")]
    # each option's best passage naming it, once; the question's own passage stays first
    assert [h.chunk.article_id for h in hits] == ["story", "oslo", "fjord"]
    assert [h.rank for h in hits] == [1, 2, 3]
    searched.clear()
    named = [passage("oslo", "The summit opened in Oslo on Monday.")]
    assert option_passages(question, named, ["Oslo", "Bergen"], search) == named
    assert searched == []  # a passage already names an option: no extra search


def test_a_choice_the_first_passages_miss_is_found_and_cited(sample_index: NewsIndex) -> None:
    # asked with k=1, the one passage found reports the discovery but names no scientist; the
    # option searches find the passage that names the lead author
    assistant = Assistant(sample_index)
    question = "Which scientist led the team that detected water vapour on Ardent-41b?"
    choices = ["Zoë Brandt", "Rafael Mendes", "Maja Eriksen", "Annika Stromberg"]
    first = assistant.retrieve(question, 1, as_of="2025-12-30")
    assert not any(c in first[0].chunk.text for c in choices)
    answer = assistant.ask(question, 1, as_of="2025-12-30", choices=choices)
    assert answer.choice == "Zoë Brandt" and answer.notices == ()
    assert "Brandt" in answer.citations[0].passage


@pytest.mark.integration
def test_asking_again_embeds_only_the_search_query(
    sample_index_dir: Path, real_embedder: Embedder
) -> None:
    counting = CountingEmbedder(real_embedder)
    assistant = Assistant(NewsIndex.open(sample_index_dir, embedder=counting))
    choices = ["a European army", "NATO's command structures"]
    first = assistant.ask(RUTTE_QUESTION, choices=choices)
    documents, queries = len(counting.documents), list(counting.queries)
    assert documents > 0 and RUTTE_QUESTION in queries
    again = assistant.ask(RUTTE_QUESTION, choices=choices)
    assert again == first
    # the answerer remembers the question and the passages' sentences; retrieval embeds anew
    assert counting.documents[documents:] == []
    repeated = counting.queries[len(queries) :]
    assert RUTTE_QUESTION in repeated and not Counter(repeated) - Counter(queries)
    assert len(repeated) < len(queries)
