"""Who said what: speakers of quotes and reported speech, pronouns and roles resolved."""

from __future__ import annotations

import json
from pathlib import Path

from index.attribution import (
    attribute,
    statement_rows,
    statements_from_rows,
    statements_in,
    with_statements,
)
from index.chunking import Chunker
from index.loaders import load_paths
from index.records import Article

SAMPLE = Path(__file__).resolve().parents[2] / "sample_corpus"


def speakers(text: str) -> list[tuple[str, str]]:
    """(speaker, sentence) for each statement."""
    return [(s.speaker, text[s.start : s.end]) for s in attribute(text)]


def test_reported_speech_and_pronouns_resolve_to_the_full_name() -> None:
    text = (
        "NATO Secretary-General Mark Rutte spoke in Brussels. Rutte warned that duplicating "
        "NATO's structures would weaken Europe. He said the alliance has trouble filling posts. "
        "Allies, he said, must plan for years."
    )
    assert [who for who, _ in speakers(text)] == ["Mark Rutte"] * 3
    assert speakers(text)[0][1].startswith("Rutte warned that")


def test_a_sentence_without_a_speaker_is_not_a_statement() -> None:
    text = "The summit opened on Tuesday. Delegates arrived by train. The talks ran late."
    assert attribute(text) == []


def test_quote_tags_before_and_after_the_name() -> None:
    text = (
        '"The water signal shows up every time we look," said lead author Zoë Brandt of the '
        'institute. "That consistency is what gives us confidence." '
        "“I’ve waited all summer,” Okafor said afterwards."  # noqa: RUF001 - curly quotes
    )
    found = attribute(text)
    assert [(s.speaker, s.kind) for s in found] == [
        ("Zoë Brandt", "quote"),
        ("Zoë Brandt", "quote"),  # the untagged quotation continues hers
        ("Okafor", "quote"),
    ]


def test_words_inside_a_quote_do_not_name_the_speaker() -> None:
    # "the manager told me" is what Okafor said, not the manager speaking
    text = "“I waited all summer,” Okafor said. “The manager told me to attack the near post.”"
    assert [who for who, _ in speakers(text)] == ["Okafor", "Okafor"]


def test_appositions_roles_and_according_to() -> None:
    text = (
        "France's defence minister, Mathilde Corvasier, called for a rapid reaction force. "
        "Syndicate organiser Derek Moffatt, a forklift driver, said he checked the ticket. "
        "According to the regional weather service, 118 millimetres of rain fell. "
        "A spokesperson for the German defence ministry said Berlin preferred NATO."
    )
    assert [who for who, _ in speakers(text)] == [
        "Mathilde Corvasier",
        "Derek Moffatt",
        "the regional weather service",
        "the german defence ministry",
    ]


def test_role_resolves_to_the_last_speaker_with_that_title() -> None:
    text = (
        "Defence Minister Anna Berg visited the base. Berg said the order was signed. "
        "The minister added that more would follow."
    )
    assert [who for who, _ in speakers(text)] == ["Anna Berg", "Anna Berg"]


def test_nouns_that_look_like_verbs_are_not_speech() -> None:
    text = (
        "Her remarks drew a cool response in the Baltic states. "
        "Several members used the session to ask questions. "
        "Two said they would keep working."
    )
    assert attribute(text) == []


def test_statements_ride_on_chunks_and_round_trip_through_json() -> None:
    article = next(a for a in load_paths([SAMPLE]).articles if a.id.endswith("rutte-nato"))
    chunks = with_statements(Chunker(size=60, overlap=10).chunk(article), article.text)
    assert all(c.statements is not None for c in chunks)
    every = [s for c in chunks for s in c.statements or ()]
    assert {s.speaker for s in every} == {"Mark Rutte"}
    for c in chunks:
        assert all(c.start <= s.start and s.end <= c.end for s in c.statements or ())
    assert any("European security" in article.text[s.start : s.end] for s in every)
    assert statements_from_rows(json.loads(json.dumps(statement_rows(every)))) == tuple(every)


def test_statements_in_keeps_only_those_inside_the_span() -> None:
    found = attribute("Rutte said yes. Corvasier said no.")
    first, second = found
    assert statements_in(found, 0, first.end) == (first,)
    assert statements_in(found, second.start, second.end) == (second,)


def test_every_sample_article_attributes_without_error() -> None:
    articles: list[Article] = load_paths([SAMPLE]).articles
    statements = {a.id: attribute(a.text) for a in articles}
    assert sum(map(len, statements.values())) >= 30
    for article in articles:
        for s in statements[article.id]:
            assert 0 <= s.start < s.end <= len(article.text)
            assert s.speaker and s.speaker[0] not in "“”\"'"
