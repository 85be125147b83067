"""NewsIndex over a real embedded Chroma, with the fake embedder (fast) — and the real model."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from index import Article, NewsIndex, Settings
from index.attribution import Statement, statement_rows
from index.encoders.onnx_encoder import EXPORT_VERSION
from index.errors import ArticleNotFoundError, IndexMismatchError, IndexNotFoundError
from index.store import BuildInfo, chunk_fields, encoder_warning, open_client
from tests.conftest import SAMPLE_CORPUS


def test_ingest_then_reingest_writes_nothing(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    first = fake_index.ingest_articles(tiny_corpus)
    assert (len(first.added), len(first.updated), len(first.unchanged)) == (12, 0, 0)
    counts = fake_index.store.counts()
    again = fake_index.ingest_articles(tiny_corpus)
    assert (len(again.added), len(again.updated), len(again.unchanged)) == (0, 0, 12)
    assert again.chunks_written == 0
    assert fake_index.store.counts() == counts == (12, first.chunks_written)


def test_changed_article_replaces_its_chunks(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    fake_index.ingest_articles(tiny_corpus)
    long_text = " ".join(["The derby went to extra time."] * 30)
    changed = replace(tiny_corpus[4], text=long_text)
    report = fake_index.ingest_articles([changed])
    assert report.updated == ("derby",) and report.added == ()
    derby = fake_index.store.chunks.get(where={"article_id": "derby"}, include=["metadatas"])
    assert len(derby["ids"]) == report.chunks_written > 1
    assert all("extra time" in chunk_fields(m)["text"] for m in derby["metadatas"] or [])
    assert fake_index.article("derby").text == long_text


def test_search_returns_scored_hits_with_metadata(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    fake_index.ingest_articles(tiny_corpus)
    hits = fake_index.search("lottery jackpot syndicate", k=3)
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].chunk.article_id == "lottery"
    assert hits[0].score >= hits[1].score >= hits[2].score
    top = hits[0].chunk
    assert (top.title, top.source, top.published) == (
        "Factory syndicate wins record lottery jackpot",
        "Test Wire",
        "2026-01-14",
    )
    assert fake_index.article("lottery").text[top.start : top.end] == top.text


def test_delete_list_and_stats(fake_index: NewsIndex, tiny_corpus: list[Article]) -> None:
    fake_index.ingest_articles(tiny_corpus)
    fake_index.delete("floods")
    ids = {a.id for a in fake_index.articles()}
    assert "floods" not in ids and len(ids) == 11
    assert fake_index.store.chunks.get(where={"article_id": "floods"})["ids"] == []
    stats = fake_index.stats()
    assert (stats.articles, stats.embedding_model, stats.embedding_dimension) == (11, "fake:64", 64)
    assert stats.sources == {"Test Wire": 11}
    with pytest.raises(ArticleNotFoundError) as err:
        fake_index.delete("floods")
    assert str(err.value) == (
        f"No article with id 'floods' in {fake_index.store.location} — see "
        f"'newsrag list --index {fake_index.store.location}' for the ids."
    )


def test_duplicate_ids_in_one_ingest_are_reported(fake_index: NewsIndex, tmp_path: Path) -> None:
    f = tmp_path / "d.jsonl"
    f.write_text(
        '{"id": "x", "title": "A", "text": "One."}\n{"id": "x", "title": "B", "text": "Two."}\n'
    )
    report = fake_index.ingest([f])
    assert report.added == ("x",)
    assert [str(p) for p in report.skipped] == [
        f"{f}:2: duplicate article id 'x' (first seen at {f}:1); skipped — give every article a "
        "unique id"
    ]


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError) as err:
        NewsIndex.open(tmp_path / "none", settings=Settings(embedding_model="fake"))
    assert str(err.value) == (
        f"No index at {tmp_path / 'none'} — run 'newsrag ingest PATH "
        f"--index {tmp_path / 'none'}' first."
    )


def test_model_mismatch_names_both_models_and_the_rebuild(
    fake_index: NewsIndex, tiny_corpus: list[Article], fake_settings: Settings
) -> None:
    fake_index.ingest_articles(tiny_corpus)
    loc = fake_settings.index_dir
    with pytest.raises(IndexMismatchError) as err:
        NewsIndex.open(settings=fake_settings.replace(embedding_model="fake:32"))
    assert str(err.value) == (
        f"The index at {loc} was built with embedding model 'fake:64', but 'fake:32' is "
        "configured. Use --embedding-model 'fake:64' (or NEWSRAG_EMBEDDING_MODEL), or rebuild "
        f"the index with the new model: newsrag ingest PATH --index {loc} --rebuild "
        "--embedding-model 'fake:32'"
    )


def test_chunk_settings_mismatch_only_matters_when_writing(
    fake_index: NewsIndex, tiny_corpus: list[Article], fake_settings: Settings
) -> None:
    fake_index.ingest_articles(tiny_corpus)
    other = fake_settings.replace(chunk_size=99)
    assert NewsIndex.open(settings=other).stats().chunk_size == 40  # reading is fine
    expected = "chunk size 40, overlap 10 and chunk headers off, but 99/10 with headers off"
    with pytest.raises(IndexMismatchError, match=expected):
        NewsIndex.open(settings=other, create=True)


def test_build_info_round_trips_the_encoder_and_old_indexes_read_float32() -> None:
    build = BuildInfo("all-MiniLM-L6-v2", 384, 160, 30, True, "bf16")
    meta = build.as_metadata()
    assert meta["encoder"] == "bf16" and BuildInfo.from_metadata(meta) == build
    del meta["encoder"]  # an index built before encoders were recorded
    assert BuildInfo.from_metadata(meta).encoder == "float32"
    assert BuildInfo.from_metadata(meta).encoder_version == 0


def test_an_onnx_index_from_an_earlier_recipe_reads_as_recipe_1_and_warns_on_ingest() -> None:
    current = BuildInfo("all-MiniLM-L6-v2", 384, 160, 30, False, "onnx-int8", EXPORT_VERSION)
    assert BuildInfo.from_metadata(current.as_metadata()) == current
    meta = current.as_metadata()
    del meta["encoder_version"]  # built before the recipe was recorded
    old = BuildInfo.from_metadata(meta)
    assert old.encoder_version == 1
    assert encoder_warning(current, "onnx-int8", "/idx", given=False) is None
    assert encoder_warning(old, "onnx-int8", "/idx", given=False) == (
        "The index at /idx was built by an earlier onnx-int8 recipe (1); new passages and "
        f"questions are embedded by recipe {EXPORT_VERSION}, whose vectors differ slightly "
        "(cosine about 0.995). To re-embed everything with it: newsrag ingest PATH --index "
        "/idx --rebuild"
    )


def test_an_int8_index_records_its_weight_width_and_another_width_warns_on_ingest() -> None:
    built = BuildInfo("all-MiniLM-L6-v2", 384, 160, 30, False, "onnx-int8", EXPORT_VERSION, 8)
    assert BuildInfo.from_metadata(built.as_metadata()) == built
    meta = built.as_metadata()
    del meta["encoder_weight_bits"]  # built before the width was recorded: unknown, no warning
    unknown = BuildInfo.from_metadata(meta)
    assert unknown.encoder_weight_bits == 0
    assert encoder_warning(unknown, "onnx-int8", "/idx", given=False, bits=7) is None
    assert encoder_warning(built, "onnx-int8", "/idx", given=False, bits=8) is None
    assert encoder_warning(built, "onnx-int8", "/idx", given=False, bits=7) == (
        "The index at /idx was built with 8-bit onnx-int8 weights on another CPU; this one "
        "runs 7-bit ones (see 'newsrag stats'), whose vectors differ slightly (cosine about "
        "0.99). Search works across both; to re-embed everything on this machine: newsrag "
        "ingest PATH --index /idx --rebuild"
    )


def test_index_keeps_its_encoder_and_another_setting_only_warns_on_ingest(
    tiny_corpus: list[Article], fake_settings: Settings
) -> None:
    bf16 = fake_settings.replace(encoder="bf16")
    NewsIndex.open(settings=bf16, create=True).ingest_articles(tiny_corpus)
    assert NewsIndex.open(settings=bf16).stats().encoder == "bf16"
    float32 = fake_settings.replace(encoder="float32")
    reader = NewsIndex.open(settings=float32)  # queries run as the index was built, silently
    assert reader.search("lottery jackpot", k=2) and reader.embedder.encoder == "bf16"
    loc = fake_settings.index_dir
    with pytest.warns(UserWarning) as caught:
        writer = NewsIndex.open(settings=float32, create=True)
    assert str(caught[0].message) == (
        f"The index at {loc} was built with the bf16 encoder and keeps it (float32 is "
        f"configured). To switch, rebuild: newsrag ingest PATH --index {loc} --rebuild "
        "--encoder float32"
    )
    assert writer.embedder.encoder == "bf16" and writer.stats().encoder == "bf16"


def test_drop_removes_only_newsrag_collections(
    fake_index: NewsIndex, tiny_corpus: list[Article], fake_settings: Settings
) -> None:
    fake_index.ingest_articles(tiny_corpus)
    assert NewsIndex.drop(fake_settings.index_dir) is True
    names = {c.name for c in open_client(fake_settings.index_dir, create=False).list_collections()}
    assert names == set()
    assert NewsIndex.drop(fake_settings.index_dir) is False


def test_article_counts_only_when_all_chunks_are_written(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    """Chunks left by an interrupted ingest (no article record) are replaced on the next run."""
    article = tiny_corpus[0]
    chunks = fake_index.chunker.chunk(article)
    stale = replace(chunks[0], id=f"{article.id}:stale", text="stale words")
    vec = fake_index.embedder.embed_documents([stale.text])
    fake_index.store.chunks.upsert(
        ids=[stale.id],
        embeddings=vec,
        documents=[stale.text],
        metadatas=[{"article_id": article.id, "start": 0, "end": 5}],
    )
    assert fake_index.store.stored_hashes([article.id]) == {}
    report = fake_index.ingest_articles([article])
    assert report.added == (article.id,)
    got = fake_index.store.chunks.get(where={"article_id": article.id})
    assert sorted(got["ids"]) == sorted(c.id for c in chunks)


def test_passages_are_packed_metadata_and_older_formats_still_read(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    """Passages are written without a Chroma document (no trigram full-text index to feed),
    with the filter fields as keys and the rest packed in one JSON value (one metadata row
    instead of a dozen); passages written before, one key per field or with the text as the
    document, read the same."""
    fake_index.ingest_articles(tiny_corpus[:1])
    first_id = fake_index.chunker.chunk(tiny_corpus[0])[0].id
    stored = fake_index.store.get_chunks([first_id])[first_id][0]
    got = fake_index.store.chunks.get(ids=[stored.id], include=["documents", "metadatas"])
    assert got["documents"] == [None]
    meta = (got["metadatas"] or [{}])[0]
    assert set(meta) <= {"article_id", "source", "published_int", "passage"}
    assert chunk_fields(meta)["text"] == stored.text
    assert stored.text == tiny_corpus[0].text[stored.start : stored.end]
    assert stored.statements is not None
    keyed = {
        "article_id": stored.article_id,
        "text": "words stored one key per field",
        "start": 0,
        "end": 5,
        "title": stored.title,
        "statements": json.dumps(statement_rows([Statement("Ana Ruiz", 0, 5, "quote")])),
    }
    as_document = {"article_id": stored.article_id, "start": 0, "end": 5}
    olds = {f"{stored.article_id}:keyed": keyed, f"{stored.article_id}:document": as_document}
    fake_index.store.chunks.upsert(
        ids=list(olds),
        embeddings=fake_index.embedder.embed_documents(["a", "b"]),
        documents=[None, "words stored as a document"],  # type: ignore[list-item]
        metadatas=list(olds.values()),
    )
    read = fake_index.store.get_chunks(list(olds))
    keyed_chunk, document_chunk = (read[i][0] for i in olds)
    assert keyed_chunk.text == "words stored one key per field"
    assert keyed_chunk.statements == (Statement("Ana Ruiz", 0, 5, "quote"),)
    assert keyed_chunk.title == stored.title
    assert document_chunk.text == "words stored as a document"
    assert document_chunk.statements is None  # before speakers were recorded
    texts = {c.id: c.text for c in fake_index.store.iter_chunks()}
    assert [texts[i] for i in olds] == [keyed_chunk.text, document_chunk.text]


def test_article_text_is_metadata_and_older_records_with_documents_still_read(
    fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    """Article records carry their text in metadata too (no full-text index to feed), and a
    record written before, with the text as its document, reads the same."""
    article = tiny_corpus[0]
    fake_index.ingest_articles([article])
    got = fake_index.store.articles.get(
        ids=[article.id], include=["documents", "metadatas", "embeddings"]
    )
    assert got["documents"] == [None]
    assert (got["metadatas"] or [{}])[0]["text"] == article.text
    assert fake_index.article(article.id).text == article.text
    meta = {k: v for k, v in (got["metadatas"] or [{}])[0].items() if k != "text"}
    fake_index.store.articles.delete(ids=[article.id])
    fake_index.store.articles.add(
        ids=[article.id],
        embeddings=got["embeddings"],
        documents=["the text as an older index stored it"],
        metadatas=[meta],
    )
    assert fake_index.article(article.id).text == "the text as an older index stored it"
    assert fake_index.store.stored_hashes([article.id]) == {article.id: article.content_hash()}


@pytest.mark.integration
def test_real_model_index_of_sample_corpus(sample_index: NewsIndex) -> None:
    stats = sample_index.stats()
    assert stats.embedding_model == "all-MiniLM-L6-v2" and stats.embedding_dimension == 384
    assert stats.articles >= 12
    meta = sample_index.store.chunks.metadata or {}
    assert (meta["embedding_model"], meta["chunk_size"], meta["chunk_overlap"]) == (
        "all-MiniLM-L6-v2",
        160,
        30,
    )
    hits = sample_index.search("lottery jackpot shared by factory workers", k=3)
    assert "lotto" in hits[0].chunk.title.lower()
    assert all(h.score > 0.2 for h in hits[:1])


@pytest.mark.integration
def test_real_model_reingest_is_idempotent(tmp_path: Path, real_embedder: object) -> None:
    index = NewsIndex.open(
        tmp_path / "idx",
        settings=Settings(),
        embedder=real_embedder,  # type: ignore[arg-type]
        create=True,
    )
    first = index.ingest([SAMPLE_CORPUS])
    counts = index.store.counts()
    second = index.ingest([SAMPLE_CORPUS])
    assert len(second.unchanged) == len(first.added) and second.chunks_written == 0
    assert index.store.counts() == counts


def test_a_missing_index_has_one_message_for_a_folder_and_a_collection() -> None:
    from index.errors import IndexNotFoundError

    assert str(IndexNotFoundError.at("/srv/idx", "--index /srv/idx")) == (
        "No index at /srv/idx — run 'newsrag ingest PATH --index /srv/idx' first."
    )
    url = "http://127.0.0.1:8000"
    assert str(IndexNotFoundError.at(url, f"--chroma-url {url}", "news")) == (
        f"No newsrag index 'news' at {url} — run 'newsrag ingest PATH --chroma-url {url}' first."
    )
