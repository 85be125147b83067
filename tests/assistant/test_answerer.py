"""The extractive answerer on hand-built hits with the fake embedder: no model needed."""

import re

from assistant.answerer import REFUSAL, ExtractiveAnswerer
from index.embeddings import FakeEmbedder
from index.records import Chunk, Hit

ARTICLE = (
    "NATO chief Mark Rutte spoke in Brussels on Tuesday. Rutte warned that duplicating "
    "NATO command structures would weaken a European army plan. He urged a stronger "
    "European pillar inside NATO. The weather in Brussels was cold and grey all day."
)
OTHER = (
    "France's minister Corvasier said a European army is needed now. She said Europe "
    "must act together under one command."
)


def hit(text: str, article_id: str, score: float, rank: int, offset: int = 0) -> Hit:
    return Hit(
        Chunk(
            f"{article_id}:{rank}",
            article_id,
            0,
            offset,
            offset + len(text),
            text,
            f"Title {article_id}",
            "Wire",
            "2026-01-14",
            None,
        ),
        score,
        rank,
    )


def without_leads(text: str) -> str:
    """The answer without its "According to X (date):" / "X (date) adds:" lead-ins."""
    return re.sub(r"(?:According to [^:]+|[^.\]]+ adds): ", "", text)


def answerer(**kw: float) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(
        FakeEmbedder(256), max_words=int(kw.get("words", 80)), min_score=kw.get("min_score", 0.3)
    )


def test_answer_quotes_sentences_verbatim_with_valid_markers() -> None:
    hits = [hit(ARTICLE, "rutte", 0.7, 1), hit(OTHER, "corvasier", 0.6, 2)]
    answer = answerer().answer("What did Rutte say about a European army?", hits)
    assert not answer.refused
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)]
    assert markers and set(markers) == {c.n for c in answer.citations}
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert answer.answer.startswith("According to Wire (14 Jan 2026): ")
    for sentence, n in re.findall(r"(.+?) \[(\d+)\](?: |$)", without_leads(answer.answer)):
        assert sentence in answer.citations[int(n) - 1].passage
    assert "duplicating NATO command structures" in answer.answer
    assert answer.citations[0].article_id == "rutte"


def test_sentences_about_the_named_person_come_first() -> None:
    hits = [hit(OTHER, "corvasier", 0.8, 1), hit(ARTICLE, "rutte", 0.6, 2)]
    answer = answerer().answer("What did Rutte say about a European army?", hits)
    assert answer.citations[0].article_id == "rutte"
    assert "Corvasier" not in answer.answer


def test_word_budget_is_respected() -> None:
    answer = answerer(words=20).answer(
        "What did Rutte say about a European army?", [hit(ARTICLE, "rutte", 0.7, 1)]
    )
    text = re.sub(r" \[\d+\]", "", answer.answer)
    assert len(text.split()) <= 20


def test_refuses_when_nothing_is_close_enough() -> None:
    answer = answerer().answer("What did Rutte say?", [hit(ARTICLE, "rutte", 0.1, 1)])
    assert (answer.refused, answer.answer, answer.citations) == (True, REFUSAL, ())


def test_refuses_when_a_named_entity_is_in_no_passage() -> None:
    answer = answerer().answer("What did Rutte say about Taiwan?", [hit(ARTICLE, "rutte", 0.7, 1)])
    assert answer.refused and answer.citations == ()


TRAM = (
    "Northgate's new tram line opened to passengers on Monday. The Crosstown Line has 19 stops "
    "and links the suburbs with the main railway station."
)


def test_a_when_question_leads_with_the_date_of_what_it_asks_about() -> None:
    answer = answerer().answer("When did the Crosstown Line open?", [hit(TRAM, "tram", 0.7, 1)])
    assert not answer.refused
    assert without_leads(answer.answer).startswith("Northgate's new tram line opened")


def test_a_when_question_is_refused_when_no_date_is_of_what_it_asks_about() -> None:
    # the passage dates the opening, not an extension to the airport
    question = "When will the Crosstown Line be extended to the airport?"
    answer = answerer().answer(question, [hit(TRAM, "tram", 0.7, 1)])
    assert answer.refused and answer.related and answer.related[0].article_id == "tram"


WIND = (
    "The Skerry Bank wind farm, developed by Northwind Energy, began sending power to the grid "
    "on Tuesday. Its 42 turbines stand 30 kilometres off the coast."
)


def test_a_which_company_question_needs_a_passage_saying_what_the_company_did() -> None:
    # the passage names the developer; nothing says who manufactured the turbines
    question = "Which company manufactured the turbines for the Skerry Bank wind farm?"
    assert answerer().answer(question, [hit(WIND, "wind", 0.7, 1)]).refused
    made = WIND + " The turbines were manufactured by Halvard Turbines in Esbjerg."
    answer = answerer().answer(question, [hit(made, "wind", 0.7, 1)])
    assert not answer.refused and "Halvard Turbines" in answer.answer


def test_refuses_without_hits() -> None:
    assert answerer().answer("Anything?", []).refused


def test_offsets_point_into_the_article() -> None:
    prefix = "Earlier text. "
    h = hit(ARTICLE, "rutte", 0.7, 1, offset=len(prefix))
    answer = answerer().answer("What did Rutte warn about command structures?", [h])
    c = answer.citations[0]
    assert (prefix + ARTICLE)[c.start : c.end] == c.passage


CRACKDOWN = (
    "Immigration agents arrived in Minneapolis on Monday. The crackdown in Minneapolis is "
    "the largest the city has seen. Schools across the state stayed open all week."
)
PROTESTS = (
    "Protests against immigration raids began in Los Angeles last June. The weather in Los "
    "Angeles was warm and dry."
)
CITY_QUESTION = "Which US city was the center of an immigration crackdown this week?"


def test_choose_picks_the_supported_option_and_leads_with_its_sentence() -> None:
    hits = [hit(CRACKDOWN, "crackdown", 0.6, 1), hit(PROTESTS, "protests", 0.55, 2)]
    answer = answerer().choose(CITY_QUESTION, hits, ["Los Angeles", "Houston", "Minneapolis"])
    assert (answer.refused, answer.choice, answer.notices) == (False, "Minneapolis", ())
    assert answer.answer.startswith("According to Wire (14 Jan 2026): ")
    first = without_leads(answer.answer).split(" [1]")[0]
    assert "Minneapolis" in first and first in answer.citations[0].passage
    for sentence, n in re.findall(r"(.+?) \[(\d+)\](?: |$)", without_leads(answer.answer)):
        assert sentence in answer.citations[int(n) - 1].passage
    assert "Los Angeles" not in answer.answer  # a sentence for another option would muddle it
    assert len(re.sub(r" \[\d+\]", "", answer.answer).split()) <= 80


def test_choose_says_so_when_no_passage_names_an_option() -> None:
    hits = [hit(CRACKDOWN, "crackdown", 0.6, 1)]
    answer = answerer().choose(CITY_QUESTION, hits, ["Houston", "Miami"])
    assert answer.choice is None and not answer.refused
    assert answer.notices == (
        "None of the options (Houston, Miami) appears in the passages found, so none is "
        "picked; the answer is the one to the question alone.",
    )
    assert answer.answer == answerer().answer(CITY_QUESTION, hits).answer


def test_choose_refuses_when_the_passages_cannot_answer() -> None:
    hits = [hit(CRACKDOWN, "crackdown", 0.1, 1)]
    answer = answerer().choose(CITY_QUESTION, hits, ["Minneapolis", "Houston"])
    assert (answer.refused, answer.answer, answer.choice, answer.notices) == (
        True,
        REFUSAL,
        None,
        (),
    )


def test_stream_yields_the_answer_sentence_by_sentence_then_the_same_answer() -> None:
    hits = [hit(ARTICLE, "rutte", 0.7, 1), hit(OTHER, "corvasier", 0.6, 2)]
    question = "What did Rutte say about a European army?"
    *pieces, final = answerer().stream(question, hits)
    assert final == answerer().answer(question, hits)  # the Answer is what ask returns
    assert all(isinstance(p, str) for p in pieces) and "".join(pieces) == final.answer
    sentences = len(re.findall(r"\[\d+\](?: |$)", final.answer))
    assert sentences >= 2 and len(pieces) == sentences  # one piece per cited sentence
    assert all(re.search(r"\[\d+\] ?$", p) for p in pieces)


def test_text_pieces_join_back_to_the_text() -> None:
    from assistant.answerer import text_pieces

    assert text_pieces("Rutte spoke. [1] [2] He left. [3]") == [
        "Rutte spoke. [1] [2] ",
        "He left. [3]",
    ]
    assert text_pieces(REFUSAL) == [REFUSAL]
    assert text_pieces("") == [""]
    assert text_pieces("One. Two!  Three?") == ["One. ", "Two!  ", "Three?"]
