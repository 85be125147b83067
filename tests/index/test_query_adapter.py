"""The query adapter: its file (round trip, missing, damaged), its wiring into search, and the
shipped one with the real model."""

from pathlib import Path

import numpy as np
import pytest

from index import Article, Embedder, NewsIndex, Settings
from index.errors import ConfigError, EmbeddingModelError, IndexMismatchError
from index.query_adapter import RETRAIN, SHIPPED, QueryAdapter, resolve
from index.retrieval import Retriever

QUESTION = "What did Rutte say about a European army?"


def permutation_adapter(path: Path, dim: int = 64, model: str = "fake:64") -> QueryAdapter:
    """A deterministic non-identity map: a fixed permutation of the dimensions."""
    matrix = np.eye(dim, dtype=np.float32)[np.random.default_rng(0).permutation(dim)]
    adapter = QueryAdapter(matrix, model, path, "test")
    adapter.save(path)
    return adapter


def test_save_then_load_gives_the_same_map(tmp_path: Path) -> None:
    saved = permutation_adapter(tmp_path / "a.npz")
    loaded = QueryAdapter.load(tmp_path / "a.npz")
    assert (loaded.base_model, loaded.dimension, loaded.trained_on) == ("fake:64", 64, "test")
    np.testing.assert_array_equal(loaded.matrix, saved.matrix)
    vector = np.arange(64, dtype=np.float32)
    mapped = loaded.apply(vector)
    assert mapped.dtype == np.float32 and abs(float(np.linalg.norm(mapped)) - 1.0) < 1e-6
    np.testing.assert_allclose(mapped, saved.matrix @ vector / np.linalg.norm(vector), rtol=1e-6)


def test_a_missing_file_names_the_retrain_command(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError) as err:
        QueryAdapter.load(tmp_path / "none.npz")
    assert str(err.value) == (
        f"No query adapter at {tmp_path / 'none.npz'} — regenerate it with: {RETRAIN} (or set "
        "NEWSRAG_QUERY_ADAPTER=none)."
    )
    assert RETRAIN == "make models"


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip"])
def test_a_damaged_file_is_a_clear_error(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "a.npz"
    permutation_adapter(path)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not an adapter at all")
    else:  # a valid file whose matrix no longer matches its checksum
        with np.load(path) as z:
            parts = {k: z[k] for k in z.files}
        parts["matrix"] = parts["matrix"] * 2
        np.savez(path, **parts)
    with pytest.raises(EmbeddingModelError) as err:
        QueryAdapter.load(path)
    message = str(err.value)
    assert message.startswith(f"The query adapter {path} is damaged (")
    assert message.endswith(f"— regenerate it with: {RETRAIN} (or set NEWSRAG_QUERY_ADAPTER=none).")


def test_settings_name_the_adapter(tmp_path: Path) -> None:
    assert Settings.from_env({}).query_adapter == "none"
    assert Settings.from_env({"NEWSRAG_QUERY_ADAPTER": "default"}).query_adapter == "default"
    with pytest.raises(ConfigError, match="query_adapter is empty"):
        Settings(query_adapter=" ")
    assert resolve("none", "all-MiniLM-L6-v2") is None
    assert resolve("default", "fake:64") is None  # newsrag ships no adapter for that model
    path = tmp_path / "a.npz"
    permutation_adapter(path)
    adapter = resolve(str(path), "fake:64")
    assert adapter is not None and adapter.base_model == "fake:64"


def test_search_uses_the_adapter_for_the_dense_list_and_keeps_base_scores(
    fake_settings: Settings, tiny_corpus: list[Article], tmp_path: Path
) -> None:
    index = NewsIndex.open(settings=fake_settings, create=True)
    index.ingest_articles(tiny_corpus)
    plain = index.search("lottery jackpot syndicate", k=3, mode="dense", as_of=None)
    path = tmp_path / "a.npz"
    adapter = permutation_adapter(path)
    adapted = NewsIndex.open(settings=fake_settings.replace(query_adapter=str(path)))
    assert adapted.retriever.adapter is not None
    hits = adapted.search("lottery jackpot syndicate", k=3, mode="dense", as_of=None)
    assert [h.chunk.id for h in hits] != [h.chunk.id for h in plain]
    embedder = adapted.embedder
    base = embedder.embed_query("lottery jackpot syndicate")
    wanted = [
        cid for cid, _ in adapted.store.nearest(adapter.apply(base), 3)
    ]  # the adapted question's nearest passages
    assert [h.chunk.id for h in hits] == wanted
    stored = adapted.store.get_chunks(wanted)
    for hit in hits:  # scores stay cosines of the question as embedded (min_score keeps meaning)
        assert hit.score == pytest.approx(float(np.dot(stored[hit.chunk.id][1], base)), abs=1e-5)


def test_an_adapter_for_another_model_is_refused(
    fake_settings: Settings, tiny_corpus: list[Article], tmp_path: Path
) -> None:
    index = NewsIndex.open(settings=fake_settings, create=True)
    index.ingest_articles(tiny_corpus)
    path = tmp_path / "minilm.npz"
    permutation_adapter(path, 384, "all-MiniLM-L6-v2")
    other = NewsIndex.open(settings=fake_settings.replace(query_adapter=str(path)))
    with pytest.raises(IndexMismatchError) as err:
        other.search("lottery", k=3)
    assert str(err.value) == (
        f"The query adapter {path} was fitted for 'all-MiniLM-L6-v2' (384 dimensions), but the "
        f"index at {fake_settings.index_dir} was built with 'fake:64' (64). Use "
        "NEWSRAG_QUERY_ADAPTER=none (--query-adapter none), or fit an adapter for that model: "
        "make models"
    )


def test_an_index_built_with_another_model_asks_for_a_rebuild(
    fake_settings: Settings, tiny_corpus: list[Article]
) -> None:
    NewsIndex.open(settings=fake_settings, create=True).ingest_articles(tiny_corpus)
    with pytest.raises(IndexMismatchError, match=r"--rebuild --embedding-model 'fake:32'"):
        NewsIndex.open(
            settings=fake_settings.replace(embedding_model="fake:32", query_adapter="default")
        )


def test_default_without_a_shipped_file_names_the_retrain_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "models" / "query-adapter-minilm.npz"
    monkeypatch.setitem(SHIPPED, "all-MiniLM-L6-v2", missing)
    with pytest.raises(EmbeddingModelError, match=f"No query adapter at {missing} — regenerate"):
        resolve("default", "all-MiniLM-L6-v2")
    permutation_adapter(missing, 384, "all-MiniLM-L6-v2")
    adapter = resolve("default", "all-MiniLM-L6-v2")
    assert adapter is not None and adapter.path == missing


def near_identity(path: Path) -> QueryAdapter:
    """A 384-d adapter for the real model: the identity plus a small fixed perturbation."""
    rng = np.random.default_rng(1)
    matrix = np.eye(384, dtype=np.float32) + 0.05 * rng.normal(size=(384, 384)).astype(np.float32)
    adapter = QueryAdapter(matrix, "all-MiniLM-L6-v2", path, "test")
    adapter.save(path)
    return adapter


@pytest.mark.integration
def test_an_adapter_file_loads_and_encodes_a_fixture_deterministically(
    real_embedder: Embedder, tmp_path: Path
) -> None:
    near_identity(tmp_path / "a.npz")
    adapter = resolve(str(tmp_path / "a.npz"), real_embedder.name)
    assert adapter is not None and adapter.dimension == real_embedder.dimension == 384
    base = real_embedder.embed_query(QUESTION)
    first, second = adapter.apply(base), adapter.apply(real_embedder.embed_query(QUESTION))
    np.testing.assert_array_equal(first, second)
    assert abs(float(np.linalg.norm(first)) - 1.0) < 1e-5
    assert 0.5 < float(np.dot(first, base)) < 0.9999  # moved, but not far


@pytest.mark.integration
def test_the_shipped_adapter_loads_and_encodes_deterministically(real_embedder: Embedder) -> None:
    adapter = resolve("default", real_embedder.name)
    assert adapter is not None and adapter.path == SHIPPED["all-MiniLM-L6-v2"]
    assert (adapter.base_model, adapter.dimension) == ("all-MiniLM-L6-v2", 384)
    assert adapter.trained_on.startswith("2025;")  # fitted on the training year, not on dev
    base = real_embedder.embed_query(QUESTION)
    first, second = adapter.apply(base), adapter.apply(real_embedder.embed_query(QUESTION))
    np.testing.assert_array_equal(first, second)
    assert abs(float(np.linalg.norm(first)) - 1.0) < 1e-5
    assert 0.5 < float(np.dot(first, base)) < 0.9999


@pytest.mark.integration
def test_the_sample_index_searches_with_an_adapter(
    sample_index: NewsIndex, real_embedder: Embedder, tmp_path: Path
) -> None:
    near_identity(tmp_path / "a.npz")
    settings = sample_index.settings.replace(query_adapter=str(tmp_path / "a.npz"))
    index = NewsIndex(sample_index.store, settings, real_embedder)
    assert isinstance(index.retriever, Retriever) and index.retriever.adapter is not None
    hits = index.search(QUESTION, k=3, as_of="2026-01-20")
    assert hits and "rutte" in (hits[0].chunk.text + hits[0].chunk.title).lower()


def test_the_search_command_takes_the_flag_and_names_the_fix(
    fake_settings: Settings, tiny_corpus: list[Article], tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from assistant.cli import main

    NewsIndex.open(settings=fake_settings, create=True).ingest_articles(tiny_corpus)
    idx = str(fake_settings.index_dir)
    common = ["search", "lottery jackpot", "--index", idx, "--embedding-model", "fake:64"]
    path = tmp_path / "a.npz"
    permutation_adapter(path)
    ok = CliRunner().invoke(main, [*common, "--query-adapter", str(path), "--json"])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.lstrip().startswith("[")
    missing = CliRunner().invoke(main, [*common, "--query-adapter", str(tmp_path / "gone.npz")])
    assert missing.exit_code == 1
    assert f"No query adapter at {tmp_path / 'gone.npz'} — regenerate it with: make models" in (
        missing.output
    )
