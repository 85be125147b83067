import itertools

import pytest

from index.chunking import Chunker, sentence_spans
from index.errors import ConfigError
from index.records import Article

TEXT = (
    "BRUSSELS\n\nNATO chief Mark Rutte spoke on Tuesday. He said the U.S. remains committed. "
    '"We must be honest," he said.\nRussia is the main threat.\n\nNo alternative\n\n'
    + " ".join(f"Sentence number {i} has exactly seven words." for i in range(20))
)


def test_sentences_never_cross_lines_and_are_stripped() -> None:
    spans = sentence_spans(TEXT)
    texts = [TEXT[s:e] for s, e in spans]
    assert texts[:6] == [
        "BRUSSELS",
        "NATO chief Mark Rutte spoke on Tuesday.",
        "He said the U.S. remains committed.",
        '"We must be honest," he said.',
        "Russia is the main threat.",
        "No alternative",
    ]
    assert all(t == t.strip() and "\n" not in t for t in texts)


def test_chunks_are_verbatim_slices_within_size_and_overlap() -> None:
    article = Article("a", "T", TEXT)
    chunks = Chunker(size=30, overlap=10).chunk(article)
    assert len(chunks) > 3
    for c in chunks:
        assert c.text == TEXT[c.start : c.end]
        assert len(c.text.split()) <= 30
        assert (c.article_id, c.title) == ("a", "T")
    assert [c.index for c in chunks] == list(range(len(chunks)))
    # consecutive chunks overlap (share a sentence) but always move forward
    assert all(b.start < a.end and b.start > a.start for a, b in itertools.pairwise(chunks))
    assert chunks[-1].end == len(TEXT)


def test_long_sentence_is_cut_at_words() -> None:
    text = " ".join(f"w{i}" for i in range(100)) + "."
    chunks = Chunker(size=30, overlap=5).chunk(Article("a", "T", text))
    assert all(len(c.text.split()) <= 30 for c in chunks)
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_chunk_ids_derive_from_content() -> None:
    a = Article("a", "T", TEXT)
    first = [c.id for c in Chunker(30, 10).chunk(a)]
    assert first == [c.id for c in Chunker(30, 10).chunk(a)]
    assert len(set(first)) == len(first)
    changed = Article("a", "T", TEXT.replace("Tuesday", "Monday"))
    assert Chunker(30, 10).chunk(changed)[0].id != first[0]


def test_bad_chunker_settings() -> None:
    with pytest.raises(ConfigError, match=r"Chunker\(size=10, overlap=10\) needs"):
        Chunker(10, 10)
