"""The ingest pipeline: commit groups, writes overlapping the next group's embedding, and a
failed write stopping the ingest with what came before it kept (fake embedder, real Chroma)."""

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

import index.ingest
from index import Article, NewsIndex
from index.errors import DiskFullError
from index.ingest import _groups
from tests.conftest import make_article


def articles(count: int) -> list[Article]:
    return [
        make_article(f"a{n:03d}", f"Dispatch {n}", f"Report {n} on the harbour works. " * 3)
        for n in range(count)
    ]


def test_groups_close_at_the_article_or_the_chunk_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index.ingest, "ARTICLES_PER_COMMIT", 4)
    monkeypatch.setattr(index.ingest, "CHUNKS_PER_COMMIT", 10)
    small = [(n, [0]) for n in range(9)]  # one chunk each: the article limit closes groups
    assert [len(g) for g in _groups(small)] == [4, 4, 1]
    big = [(n, [0] * 4) for n in range(5)]  # four chunks each: closed at 12 chunks
    assert [len(g) for g in _groups(big)] == [3, 2]
    assert list(_groups([])) == []


def test_a_group_is_written_while_the_next_one_is_embedded(
    fake_index: NewsIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index.ingest, "ARTICLES_PER_COMMIT", 2)
    store, embedder = fake_index.store, fake_index.embedder
    assert embedder is not None
    second_group_embedding = threading.Event()
    events: list[str] = []
    embed, write = embedder.embed_documents, store.write_articles

    def embedding(texts: Sequence[str]) -> np.ndarray:
        events.append(f"embed {len(events)}")
        if len([e for e in events if e.startswith("embed")]) == 2:
            second_group_embedding.set()
        return embed(texts)

    def writing(items: Sequence[Any], generation: int, **options: Any) -> None:
        # the first write waits until the second group is being embedded: without the
        # overlap it would wait in vain
        overlapped = second_group_embedding.wait(timeout=10)
        events.append(f"write {[a.id for a, _, _ in items]} {overlapped}")
        assert threading.current_thread().name.startswith("newsrag-write")
        write(items, generation, **options)

    monkeypatch.setattr(embedder, "embed_documents", embedding)
    monkeypatch.setattr(store, "write_articles", writing)
    report = fake_index.ingest_articles(articles(5))
    writes = [e for e in events if e.startswith("write")]
    assert writes == [
        "write ['a000', 'a001'] True",
        "write ['a002', 'a003'] True",
        "write ['a004'] True",
    ]
    assert len(report.added) == 5 and store.counts()[0] == 5


def test_a_failed_write_stops_the_ingest_and_keeps_the_groups_before_it(
    fake_index: NewsIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index.ingest, "ARTICLES_PER_COMMIT", 2)
    store = fake_index.store
    write, written = store.write_articles, []

    def full_on_the_second(items: Sequence[Any], generation: int, **options: Any) -> None:
        if written:
            raise DiskFullError("The disk holding the index is full")
        write(items, generation, **options)
        written.append([a.id for a, _, _ in items])

    monkeypatch.setattr(store, "write_articles", full_on_the_second)
    with pytest.raises(DiskFullError, match="is full"):
        fake_index.ingest_articles(articles(7))
    assert written == [["a000", "a001"]]  # nothing after the failed group was sent
    monkeypatch.setattr(store, "write_articles", write)
    assert {a.id for a in store.list_articles()} == {"a000", "a001"}
    report = fake_index.ingest_articles(articles(7))  # the rerun writes the rest
    assert len(report.added) == 5 and len(report.unchanged) == 2 and store.counts()[0] == 7


def test_keyword_rows_are_made_on_the_writer_thread_and_a_first_ingest_reads_nothing_back(
    fake_index: NewsIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each group's keyword rows are made after its write, on the writer thread, in order; the
    keyword index of a first ingest is built from them, without reading Chroma's passages back,
    and equals a rebuild from Chroma."""
    monkeypatch.setattr(index.ingest, "ARTICLES_PER_COMMIT", 2)
    keyword = fake_index.keyword
    made: list[tuple[str, list[str]]] = []
    rows = keyword.rows

    def making(chunks: Sequence[Any]) -> Any:
        made.append((threading.current_thread().name, [c.article_id for c in chunks]))
        return rows(chunks)

    def no_read_back() -> Any:
        raise AssertionError("a first ingest read every passage back from Chroma")

    monkeypatch.setattr(keyword, "rows", making)
    monkeypatch.setattr(fake_index.store, "iter_chunks", no_read_back)
    fake_index.ingest_articles(articles(5))
    assert [sorted(set(ids)) for _, ids in made] == [["a000", "a001"], ["a002", "a003"], ["a004"]]
    assert all(name.startswith("newsrag-write") for name, _ in made)
    built = keyword.current()
    monkeypatch.undo()
    rebuilt = fake_index.keyword.rebuild(built.generation, save=False)
    assert sorted(built.rows, key=lambda r: r.chunk_id) == sorted(
        rebuilt.rows, key=lambda r: r.chunk_id
    )


def test_stored_passages_carry_their_speakers(fake_index: NewsIndex) -> None:
    """Speakers are found on the writer thread, just before each group is written."""
    article = make_article(
        "rutte",
        "Rutte on defence",
        "NATO's chief spoke in Brussels on Tuesday. “Europe must spend more,” Mark Rutte said.",
    )
    fake_index.ingest_articles([article])
    chunk = fake_index.chunker.chunk(article)[0]
    stored = fake_index.store.get_chunks([chunk.id])[chunk.id][0]
    assert stored.statements is not None
    assert [s.speaker for s in stored.statements] == ["Mark Rutte"]


def test_only_articles_that_had_a_record_are_uncommitted_before_their_write(
    fake_index: NewsIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new article has no record to remove (Chroma's delete by id is a costly no-op then);
    an updated one loses its old record first, so it is never half old and half new."""
    store = fake_index.store
    deleted: list[list[str]] = []
    delete = store.articles.delete

    def spying(ids: list[str] | None = None, **options: Any) -> None:
        deleted.append(list(ids or []))
        delete(ids=ids, **options)

    monkeypatch.setattr(store.articles, "delete", spying)
    first = articles(3)
    fake_index.ingest_articles(first)
    assert deleted == []
    changed = make_article("a001", "Dispatch 1", "The harbour works were finished early. " * 3)
    report = fake_index.ingest_articles([*first[:1], changed, make_article("a009", "New", "x y")])
    assert report.updated == ("a001",) and report.added == ("a009",)
    assert deleted == [["a001"]]
    assert fake_index.article("a001").text == changed.text
    assert store.counts()[0] == 4
