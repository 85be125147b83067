"""The BM25 keyword index and how it stays in step with Chroma through ingest, update, delete
and crashes."""

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index import Article, NewsIndex
from index.keyword import KeywordIndex, KeywordRow, Tokenizer


def _rows(texts: dict[str, str]) -> list[KeywordRow]:
    tokenize = Tokenizer()
    return [
        KeywordRow(f"{key}:0", key, 20260100 + i, "Wire", tuple(tokenize([text])[0]))
        for i, (key, text) in enumerate(texts.items(), start=1)
    ]


TEXTS = {
    "a": "The central bank raised interest rates again.",
    "b": "Floods forced residents to leave their homes.",
    "c": "Interest in the new tram line is high; rates of use doubled.",
}


def test_tokenizer_stems_and_drops_stopwords() -> None:
    assert Tokenizer()(["The banks are raising rates"]) == [["bank", "rais", "rate"]]


def test_search_ranks_by_bm25_and_respects_the_mask() -> None:
    kw = KeywordIndex.build(_rows(TEXTS), generation=1)
    query = Tokenizer()(["interest rates bank"])[0]
    found = kw.search(query, n=5)
    assert [kw.rows[i].article_id for i, _ in found] == ["a", "c"]  # "b" shares no word
    assert found[0][1] > found[1][1] > 0
    mask = np.array([False, True, True])
    assert [kw.rows[i].article_id for i, _ in kw.search(query, 5, mask)] == ["c"]
    assert kw.search([], 5) == [] and kw.search(["zebra"], 5) == []


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    kw = KeywordIndex.build(_rows(TEXTS), generation=7)
    kw.save(tmp_path)
    kw.save(tmp_path)  # a second save replaces the first and removes it
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 1
    loaded = KeywordIndex.load(tmp_path, tokens=True)
    assert loaded is not None and loaded.generation == 7
    assert loaded.rows == kw.rows
    query = Tokenizer()(["floods homes"])[0]
    assert loaded.search(query, 3) == kw.search(query, 3)


def test_damaged_or_missing_index_loads_as_none(tmp_path: Path) -> None:
    assert KeywordIndex.load(tmp_path) is None
    KeywordIndex.build(_rows(TEXTS), generation=1).save(tmp_path)
    current = tmp_path / (tmp_path / "CURRENT").read_text()
    (current / "rows.json").write_text("{not json")
    with pytest.warns(UserWarning, match="rows.json is not valid JSON"):
        assert KeywordIndex.load(tmp_path) is None


def _keyword_ids(index: NewsIndex) -> set[str]:
    return {row.chunk_id for row in index.keyword.current().rows}


def _chroma_ids(index: NewsIndex) -> set[str]:
    return set(index.store.chunks.get(include=[])["ids"])


def test_keyword_index_follows_ingest_update_and_delete(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    fake_index.ingest_articles(tiny_corpus)
    assert _keyword_ids(fake_index) == _chroma_ids(fake_index)
    generation = fake_index.store.generation()
    fake_index.ingest_articles(tiny_corpus)  # nothing changed: nothing rewritten
    assert fake_index.store.generation() == generation

    changed = replace(tiny_corpus[0], text="Zeppelins returned to the fairground on Friday.")
    fake_index.ingest_articles([changed])
    assert _keyword_ids(fake_index) == _chroma_ids(fake_index)
    hits = fake_index.search("zeppelins fairground", 3, mode="keyword", as_of=None)
    assert hits and hits[0].chunk.article_id == "lottery"

    fake_index.delete("lottery")
    assert _keyword_ids(fake_index) == _chroma_ids(fake_index)
    assert fake_index.search("zeppelins fairground", 3, mode="keyword", as_of=None) == []


def test_a_write_that_died_is_finished_by_the_next_ingest(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    fake_index.ingest_articles(tiny_corpus[:6])
    # a process that died after committing an article to Chroma, before the keyword index
    measles = tiny_corpus[6]
    chunks = fake_index.chunker.chunk(measles)
    generation = fake_index.store.begin_write()
    vectors = fake_index.embedder.embed_documents([c.text for c in chunks])
    fake_index.store.write_articles([(measles, chunks, vectors)], generation)

    reopened = NewsIndex.open(settings=fake_index.settings)
    assert reopened.store.write_state().writing
    # readers keep the keyword index saved before the write
    assert reopened.keyword.current().generation == generation - 1
    assert "measles" not in set(reopened.keyword.current().article_ids)

    report = reopened.ingest_articles(tiny_corpus[:6])  # nothing new: it still repairs
    assert report.unchanged and not report.added
    assert not reopened.store.write_state().writing
    assert reopened.keyword.current().generation == reopened.store.generation()
    assert _keyword_ids(reopened) == _chroma_ids(reopened)
    hits = reopened.search("measles vaccination", 1, mode="keyword", as_of=None)
    assert hits[0].chunk.article_id == "measles"


def test_deleted_keyword_folder_is_rebuilt(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    fake_index.ingest_articles(tiny_corpus)
    shutil.rmtree(fake_index.keyword.folder)
    reopened = NewsIndex.open(settings=fake_index.settings)
    hits = reopened.search("measles vaccination", 2, mode="keyword", as_of=None)
    assert hits[0].chunk.article_id == "measles"
    assert (fake_index.keyword.folder / "CURRENT").is_file()


def test_apply_tokenizes_itself_when_the_rows_given_do_not_match(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    fake_index.ingest_articles(tiny_corpus[:2])
    state = fake_index.store.write_state()
    changed = replace(tiny_corpus[0], text="Harbour cranes were repaired overnight.")
    chunks = fake_index.chunker.chunk(changed)
    stale_rows = fake_index.keyword.rows(fake_index.chunker.chunk(tiny_corpus[1]))
    generation = fake_index.store.begin_write()
    assert generation == state.generation + 1
    fake_index.store.write_articles(
        [(changed, chunks, fake_index.embedder.embed_documents([c.text for c in chunks]))],
        generation,
    )
    index = fake_index.keyword.apply([(changed.id, chunks)], (), generation, stale_rows)
    fake_index.store.end_write(generation)
    assert {r.chunk_id for r in index.rows if r.article_id == changed.id} == {c.id for c in chunks}
    assert index.search(Tokenizer()(["harbour cranes"])[0], 3)
