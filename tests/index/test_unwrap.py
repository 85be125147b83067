"""Hard-wrapped text is split into whole sentences, with offsets into the text as it is
(issue 24 item 10)."""

from __future__ import annotations

import textwrap

from index.chunking import Chunker, sentence_spans, unwrap
from tests.conftest import make_article

PARAGRAPHS = [
    "The harbour authority said on Monday that the new container terminal would open six "
    "months ahead of schedule and under budget. Officials credited a mild winter and a new "
    "crane contract for the early finish.",
    "The mayor, who had opposed the project for years, called it a turning point for the city "
    "and its workers. Dock unions said they would watch the hiring closely.",
]
SENTENCES = [
    "Harbour terminal opens early",
    "The harbour authority said on Monday that the new container terminal would open six "
    "months ahead of schedule and under budget.",
    "Officials credited a mild winter and a new crane contract for the early finish.",
    "The mayor, who had opposed the project for years, called it a turning point for the city "
    "and its workers.",
    "Dock unions said they would watch the hiring closely.",
    "- Opening day: 1 June",
    "- Jobs: 400",
]


def wrapped(width: int = 95) -> str:
    body = "\n\n".join(textwrap.fill(p, width) for p in PARAGRAPHS)
    return f"Harbour terminal opens early\n\n{body}\n\n- Opening day: 1 June\n- Jobs: 400\n"


def test_a_hard_wrapped_article_splits_into_whole_sentences() -> None:
    for width in (72, 80, 95):
        text = wrapped(width)
        spans = sentence_spans(text)
        assert any("\n" in text[a:b] for a, b in spans)  # sentences run across wrapped lines
        assert [" ".join(text[a:b].split()) for a, b in spans] == SENTENCES, width


def test_unwrap_turns_only_wrapping_breaks_into_spaces() -> None:
    text = wrapped()
    flat = unwrap(text)
    assert len(flat) == len(text)
    assert all(a == b or (a, b) == ("\n", " ") for a, b in zip(text, flat, strict=True))
    assert flat.split("\n\n")[1:3] == PARAGRAPHS  # each paragraph on one line
    assert flat.startswith("Harbour terminal opens early\n\n")  # the headline keeps its break
    assert flat.endswith("\n\n- Opening day: 1 June\n- Jobs: 400\n")  # so do list items


def test_text_that_is_not_wrapped_is_left_alone() -> None:
    text = "Chip plant opens\nA semiconductor company opened a wafer plant on Thursday.\n" + (
        "\n".join(PARAGRAPHS)
    )
    assert unwrap(text) == text


def test_citations_stay_verbatim_slices_of_the_wrapped_text() -> None:
    article = make_article("harbour", "Harbour terminal opens early", wrapped())
    chunks = Chunker(size=30, overlap=5).chunk(article)
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.text == article.text[chunk.start : chunk.end]
        # a chunk ends where a sentence ends, never mid-sentence at a wrapped line
        assert chunk.text.rstrip().endswith((".", "June", "400", "early")), chunk.text
