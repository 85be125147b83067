"""Contract tests of the Chroma store, shared by every backend it runs on: the embedded store
and a real Chroma server. Each test writes through ChromaStore and reads back what the rest of
newsrag relies on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from index import Article, Chunk
from index.chunking import Chunker
from index.errors import ArticleNotFoundError, IndexMismatchError, IndexNotFoundError
from index.store import BuildInfo, ChromaStore, WriteState, open_client
from index.store.codec import chunk_fields, chunk_from, chunk_metadata
from tests.conftest import ChromaServerProcess, make_article

BUILD = BuildInfo("fake:8", 8, 40, 10)
CHUNKER = Chunker(40, 10)


def _vectors(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, 8)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _item(article: Article, seed: int = 0) -> tuple[Article, list[Chunk], np.ndarray]:
    chunks = CHUNKER.chunk(article)
    return article, chunks, _vectors(len(chunks), seed)


@pytest.fixture(params=["embedded", "server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    """(location, index folder, chroma_url) of a fresh index on each backend."""
    if request.param == "embedded":
        yield str(tmp_path / "idx"), tmp_path / "idx", ""
        return
    server: ChromaServerProcess = request.getfixturevalue("chroma_server")
    yield server.url, tmp_path / "idx", server.url


def _open(backend: tuple[str, Path, str], name: str, *, create: bool = True) -> ChromaStore:
    location, folder, url = backend
    client = open_client(folder, create=create, chroma_url=url)
    return ChromaStore.open(
        client, name, BUILD, create=create, location=location, data_dir=None if url else folder
    )


@pytest.fixture
def name() -> str:
    return "c" + uuid.uuid4().hex[:10]  # a collection of this test's own on the shared server


pytestmark = pytest.mark.integration


def test_write_then_read_back_articles_chunks_and_vectors(
    backend: tuple[str, Path, str], name: str
) -> None:
    store = _open(backend, name)
    article = make_article("harbour", "Harbour reopens", "The harbour reopened. " * 30)
    _, chunks, vectors = item = _item(article)
    generation = store.begin_write()
    store.write_articles([item], generation, new=frozenset({article.id}))
    store.end_write(generation)

    assert store.counts() == (1, len(chunks))
    assert store.article("harbour") == article
    assert [a.id for a in store.list_articles()] == ["harbour"]
    assert store.stored_hashes(["harbour", "missing"]) == {"harbour": article.content_hash()}
    got = store.get_chunks([c.id for c in chunks])
    assert [got[c.id][0] for c in chunks] == chunks
    assert all(
        np.allclose(got[c.id][1], v, atol=1e-6) for c, v in zip(chunks, vectors, strict=True)
    )
    assert sorted(c.id for c in store.iter_chunks()) == sorted(c.id for c in chunks)
    best, score = store.nearest(vectors[0], 1)[0]
    assert best == chunks[0].id and score == pytest.approx(1.0, abs=1e-5)
    assert store.nearest(vectors[0], 5, {"article_id": "nobody"}) == []


def test_an_update_replaces_passages_and_a_delete_removes_them(
    backend: tuple[str, Path, str], name: str
) -> None:
    store = _open(backend, name)
    first = make_article("tram", "Tram line", "The tram line opened on Tuesday. " * 20)
    generation = store.begin_write()
    store.write_articles([_item(first)], generation)
    changed = make_article("tram", "Tram line", "The tram line closed again on Friday. " * 25)
    store.write_articles([_item(changed, seed=1)], generation)
    store.end_write(generation)
    assert store.article("tram").text == changed.text
    stored = sorted(c.id for c in store.iter_chunks())
    assert stored == sorted(c.id for c in CHUNKER.chunk(changed))

    generation = store.begin_write()
    store.delete("tram", generation)
    store.end_write(generation)
    assert store.counts() == (0, 0)
    with pytest.raises(ArticleNotFoundError, match="No article with id 'tram'"):
        store.article("tram")
    with pytest.raises(ArticleNotFoundError):
        store.delete("tram", generation)


def test_the_journal_moves_one_generation_per_write_and_heals_a_dead_write(
    backend: tuple[str, Path, str], name: str
) -> None:
    store = _open(backend, name)
    start = store.write_state()
    assert not start.writing and start.uncommitted == frozenset()
    generation = store.begin_write()
    assert generation == start.generation + 1
    article = make_article("floods", "Floods", "The river burst its banks. " * 20)
    store.write_articles([_item(article)], generation)
    # the writer dies here: the article is committed, but the write is not finished
    state = store.write_state()
    assert state == WriteState(generation, True, ("floods",))
    assert state.uncommitted == {"floods"}
    reopened = _open(backend, name, create=False)
    healed = reopened.begin_write()  # the next write finishes the dead one off
    reopened.end_write(healed)
    assert reopened.write_state() == WriteState(generation + 1)
    assert reopened.counts()[0] == 1  # the committed article is kept


def test_a_missing_index_and_another_model_are_errors_with_the_fix(
    backend: tuple[str, Path, str], name: str
) -> None:
    location, folder, url = backend
    client = open_client(folder, create=True, chroma_url=url)
    with pytest.raises(IndexNotFoundError, match=f"No newsrag index {name!r} at "):
        ChromaStore.open(client, name, BUILD, create=False, location=location)
    ChromaStore.open(client, name, BUILD, create=True, location=location)
    other = BuildInfo("other-model", 8, 40, 10)
    with pytest.raises(IndexMismatchError, match="built with embedding model 'fake:8'"):
        ChromaStore.open(client, name, other, create=False, location=location)
    assert ChromaStore.read_build(client, name) == BUILD


def test_the_codec_round_trips_a_chunk_and_reads_the_older_unpacked_form() -> None:
    article = make_article("rates", "Rates held", "The central bank held rates. " * 10)
    chunk = CHUNKER.chunk(article)[0]
    packed = chunk_metadata(chunk)
    assert set(packed) == {"article_id", "source", "published_int", "passage"}
    assert chunk_from(chunk.id, None, packed) == chunk
    unpacked = {k: v for k, v in chunk_fields(packed).items() if v is not None}
    del unpacked["text"]  # indexes before packing kept the text as Chroma's document
    assert chunk_from(chunk.id, chunk.text, unpacked) == chunk
