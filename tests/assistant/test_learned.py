"""The learned answerer (assistant.learned) on hand-built hits, fake embedder: no model needed."""

import re
from dataclasses import replace

from assistant.answerer import REFUSAL
from assistant.candidates import units_of
from assistant.compose import compose
from assistant.learned import LearnedAnswerer
from assistant.reader import ReaderModels
from assistant.records import Answer
from index.embeddings import FakeEmbedder
from index.records import Chunk, Hit, Statement

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


SHIPPED = ReaderModels.load()
# The fake embedder's cosines mean nothing to the trained refusal model, so the tests of how an
# answer is laid out use the shipped scorers with a refusal that never refuses; the tests of
# refusing use the shipped one.
NEVER_REFUSES = replace(SHIPPED, refusal=replace(SHIPPED.refusal, threshold=0.0))


def answerer(refuse: bool = False, **kw: float) -> LearnedAnswerer:
    return LearnedAnswerer(
        FakeEmbedder(256),
        max_words=int(kw.get("words", 80)),
        min_score=kw.get("min_score", 0.3),
        models=SHIPPED if refuse else NEVER_REFUSES,
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
    question = "What did Rutte say about Taiwan?"
    answer = answerer(refuse=True).answer(question, [hit(ARTICLE, "rutte", 0.7, 1)])
    assert answer.refused and answer.citations == ()


TESSEL = (
    "The river broke through the dike at Tessel on Sunday night. Hundreds of homes in Tessel "
    "were flooded by Monday morning. Mayor Anna Berg ordered the evacuation of the old town."
)
TESSEL_LATER = (
    "Tessel began pumping water out of the old town on Thursday. Engineers said the repaired "
    "dike at Tessel would hold through the winter storms."
)
MARKET = "Shares in Norvik Shipping rose sharply on Tuesday after strong quarterly results."


def dated_hit(text: str, article_id: str, rank: int, published: str) -> Hit:
    chunk = Chunk(
        f"{article_id}:{rank}",
        article_id,
        0,
        0,
        len(text),
        text,
        f"Title {article_id}",
        "Wire",
        published,
        None,
    )
    return Hit(chunk, 0.7 - rank / 100, rank)


def quoted_verbatim(answer: Answer) -> None:
    for sentence, n in re.findall(r"(?:^|[:)] )([^:]+?) \[(\d+)\]", answer.answer):
        assert sentence in answer.citations[int(n) - 1].passage


def test_a_broad_question_is_answered_from_the_story_it_names() -> None:
    hits = [
        dated_hit(TESSEL, "flood", 1, "2026-01-12"),
        dated_hit(MARKET, "market", 2, "2026-01-13"),
    ]
    answer = answerer().answer("What happened in Tessel?", hits)
    assert not answer.refused
    assert answer.citations[0].article_id == "flood"
    assert answer.answer.count("According to") == len({c.article_id for c in answer.citations})
    quoted_verbatim(answer)


def test_a_summary_quotes_the_lead_of_each_story_once() -> None:
    hits = [
        dated_hit(TESSEL, "flood", 1, "2026-01-12"),
        dated_hit(TESSEL_LATER, "pumps", 2, "2026-01-15"),
    ]
    answer = answerer().answer("Summarise the news about Tessel", hits)
    assert not answer.refused
    assert [c.article_id for c in answer.citations] == ["flood", "pumps"]
    assert "The river broke through the dike at Tessel on Sunday night. [1]" in answer.answer
    assert "Tessel began pumping water out of the old town on Thursday. [2]" in answer.answer


def test_a_timeline_puts_dated_sentences_in_date_order_with_their_dates() -> None:
    hits = [
        dated_hit(TESSEL_LATER, "pumps", 1, "2026-01-15"),
        dated_hit(TESSEL, "flood", 2, "2026-01-12"),
    ]
    answer = answerer().answer("How has the Tessel flood developed?", hits)
    assert not answer.refused
    first, second = answer.answer.index("12 Jan 2026"), answer.answer.index("15 Jan 2026")
    assert first < second
    assert answer.answer.startswith("12 Jan 2026 \u2014 Wire:")
    quoted_verbatim(answer)


def test_a_comparison_gives_each_side_its_own_statement_labelled() -> None:
    hits = [hit(ARTICLE, "rutte", 0.7, 1), hit(OTHER, "corvasier", 0.6, 2)]
    answer = answerer().answer("How did Rutte and Corvasier differ on a European army?", hits)
    assert not answer.refused
    on_rutte, on_corvasier = answer.answer.index("On Rutte:"), answer.answer.index("On Corvasier:")
    assert on_rutte < on_corvasier
    assert "Rutte" in answer.answer[on_rutte:on_corvasier]
    assert "Corvasier" in answer.answer[on_corvasier:]
    quoted_verbatim(answer)


def test_a_topical_question_about_a_name_no_passage_has_is_refused() -> None:
    answer = answerer().answer(
        "What happened in Vardo?", [dated_hit(TESSEL, "flood", 1, "2026-01-12")]
    )
    assert answer.refused and answer.related[0].article_id == "flood"


def test_a_pronoun_sentence_without_the_one_before_names_its_speaker() -> None:
    text = "He urged a stronger European pillar inside NATO on Tuesday."
    chunk = Chunk(
        "rutte:9",
        "rutte",
        3,
        500,
        500 + len(text),
        text,
        "Rutte in Brussels",
        "Wire",
        "2026-01-14",
        None,
        (Statement("Mark Rutte", 500, 500 + len(text), "reported"),),
    )
    h = Hit(chunk, 0.7, 1)
    (unit,) = units_of([h])
    answer = compose("What did Rutte urge?", [unit], [h], unit)
    assert answer.answer == (
        "According to Wire (14 Jan 2026): (Mark Rutte:) He urged a stronger European pillar "
        "inside NATO on Tuesday. [1]"
    )


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


def test_choose_answers_when_its_pick_is_named_by_no_sentence() -> None:
    # an option model that prefers the option with the least evidence picks one no unit names:
    # the answer is still the best units, cited, with that pick (it used to crash)
    options = SHIPPED.options
    contrary = replace(NEVER_REFUSES, options=replace(options, coef=-abs(options.coef)))
    hits = [hit(CRACKDOWN, "crackdown", 0.6, 1), hit(PROTESTS, "protests", 0.55, 2)]
    picker = LearnedAnswerer(FakeEmbedder(256), max_words=80, min_score=0.3, models=contrary)
    answer = picker.choose(CITY_QUESTION, hits, ["Houston", "Minneapolis"])
    assert answer.choice == "Houston" and not answer.refused
    assert "Houston" not in answer.answer and answer.citations
    parts = re.split(r" \[(\d+)\] ?", answer.answer)  # text, n, text, n, ..., ""
    assert parts[-1] == "" and len(parts) > 2
    for text, n in zip(parts[0:-1:2], parts[1::2], strict=True):
        sentence = re.sub(r"^(?:According to [^:]+|.+? adds): ", "", text)
        assert sentence in answer.citations[int(n) - 1].passage
