"""The units an answer may quote: whole quotes, pronoun sentences with their antecedent, and
no headlines."""

from assistant.candidates import units_of
from index.records import Chunk, Hit


def hit(text: str, offset: int = 0) -> Hit:
    chunk = Chunk("a:1", "a", 0, offset, offset + len(text), text, "Title", "Wire", "2026-01-14")
    return Hit(chunk, 0.7, 1)


def test_a_quote_spanning_sentences_is_one_unit() -> None:
    text = (
        "The mayor spoke on Monday. \u201cWe will rebuild the dike. It will take two years. "
        "Nobody will be left behind,\u201d she told reporters. The rain stopped at noon today."
    )
    units = units_of([hit(text)])
    quote = [u for u in units if "rebuild" in u.text]
    assert len(quote) == 1
    assert "\u201cWe will rebuild" in quote[0].text and "left behind" in quote[0].text
    # "she told reporters": the quote leans on the sentence naming her, so it brings it
    assert quote[0].quote and quote[0].joined
    assert quote[0].text.startswith("The mayor spoke on Monday.")
    assert all("two years" not in u.text for u in units if u is not quote[0])


def test_a_pronoun_sentence_brings_the_one_before() -> None:
    text = (
        "NATO chief Mark Rutte spoke in Brussels on Tuesday morning. He urged a stronger "
        "European pillar inside NATO."
    )
    units = units_of([hit(text, offset=10)])
    urged = next(u for u in units if "urged" in u.text)
    assert urged.joined and urged.text.startswith("NATO chief Mark Rutte spoke")
    assert text[urged.start - 10 : urged.end - 10] == urged.text  # still verbatim


def test_headlines_and_subheadings_are_never_units() -> None:
    text = (
        "Flood waters rise in Tessel\n\nThe river broke through the dike at Tessel on "
        "Sunday night.\n\nWhat comes next\n\nEngineers will inspect the dike on Monday morning."
    )
    texts = [u.text for u in units_of([hit(text)])]
    assert not any("Flood waters rise" in t or "What comes next" in t for t in texts)
    assert any("broke through the dike" in t for t in texts)


def test_the_same_sentence_filed_twice_counts_once() -> None:
    text = "The river broke through the dike at Tessel on Sunday night."
    a, b = hit(text), Hit(Chunk("b:1", "b", 0, 0, len(text), text, "T", None, None), 0.6, 2)
    units = units_of([b, a])
    assert len(units) == 1 and units[0].hit.chunk.article_id == "a"  # the one with a source
