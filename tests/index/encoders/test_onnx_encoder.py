"""The ONNX encoders: vectors agree with float32 torch's, the export is cached per user and made
again when deleted or damaged, and a model that cannot be exported says which encoder to use."""

import os
from pathlib import Path

import numpy as np
import pytest

from index import NewsIndex, Settings
from index.embeddings import Embedder, load_embedder, model_location
from index.encoders.onnx_encoder import (
    EXPORT_VERSION,
    OnnxEmbedder,
    _atomically,
    export_folder,
    graph_file,
    onnx_cache_dir,
    open_session,
    quantize,
    recipe_version,
    weight_bits,
)
from index.errors import EmbeddingModelError

HEADLINES = [
    "Rutte says Europe needs its own army, not just more spending",
    "Factory workers share a record lotto jackpot after pooling tickets for nine years",
    "Heavy rain closes the coastal road; flood warnings stay in place until Friday",
    "The central bank holds rates at 4.25% and signals one cut before the summer",
]
TEXTS = [*HEADLINES, "short", " ".join(HEADLINES * 20)]  # the last is past 256 tokens
MODEL_DIR = Path(model_location("all-MiniLM-L6-v2"))


def test_cache_folder_is_per_user_and_can_be_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSRAG_ONNX_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/alice")
    assert onnx_cache_dir() == Path("/var/cache/alice/newsrag/onnx")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert onnx_cache_dir() == Path.home() / ".cache" / "newsrag" / "onnx"
    monkeypatch.setenv("NEWSRAG_ONNX_CACHE", "/srv/onnx")
    assert onnx_cache_dir() == Path("/srv/onnx")


def test_export_folder_names_the_model_and_follows_its_files(tmp_path: Path) -> None:
    model = tmp_path / "my model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    first = export_folder(str(model), model, tmp_path / "cache")
    assert first.parent == tmp_path / "cache" and first.name.startswith("my-model-")
    assert export_folder(str(model), model, tmp_path / "cache") == first
    (model / "config.json").write_text('{"hidden_size": 8}')
    assert export_folder(str(model), model, tmp_path / "cache") != first


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary_one(tmp_path: Path) -> None:
    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("half a graph")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        _atomically(tmp_path / "model.onnx", half_then_fail)
    assert list(tmp_path.iterdir()) == []


def test_only_plain_mean_pooling_folders_run_as_onnx(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError) as err:
        load_embedder(str(tmp_path), encoder="onnx-int8")
    assert str(err.value) == (
        "The onnx-int8 encoder runs only a model folder of transformer + mean pooling + "
        f"normalisation (like the bundled all-MiniLM-L6-v2); '{tmp_path}' is not one — use "
        "--encoder float32 (NEWSRAG_ENCODER) for it, or bf16 on a CPU with AVX512-BF16 or AMX."
    )


@pytest.mark.integration
def test_onnx_vectors_match_float32_torch_ones(
    real_embedder: Embedder, int8_embedder: Embedder
) -> None:
    exact = real_embedder.embed_documents(TEXTS)
    fp32 = load_embedder(encoder="onnx").embed_documents(TEXTS)
    int8 = int8_embedder.embed_documents(TEXTS)
    assert int8.dtype == np.float32 and int8.shape == (6, 384)
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-4)
    assert np.sum(exact * fp32, axis=1).min() >= 0.9999
    # measured: 0.991 at least on these texts, 0.9925 over 150 chunks of the benchmark corpus
    assert np.sum(exact * int8, axis=1).min() >= 0.985
    assert list(np.argmax(int8 @ exact.T, axis=1)) == list(range(6))
    assert int8_embedder.embed_query(TEXTS[0]) @ exact[0] >= 0.985
    assert int8_embedder.embed_documents([]).shape == (0, 384)


@pytest.mark.integration
def test_a_text_gets_the_same_vector_whatever_it_is_embedded_with(
    int8_embedder: Embedder,
) -> None:
    # each text runs alone: no padding, and no batch for int8's activation scales to span
    together = int8_embedder.embed_documents(TEXTS)
    for i, text in enumerate(TEXTS):
        assert np.array_equal(int8_embedder.embed_documents([text])[0], together[i])
    assert np.array_equal(int8_embedder.embed_query(TEXTS[0]), together[0])
    reordered = int8_embedder.embed_documents(TEXTS[::-1])
    assert np.array_equal(reordered[::-1], together)


@pytest.mark.integration
def test_int8_keeps_the_first_layer_float_and_quantises_the_rest(
    int8_embedder: Embedder, onnx_cache: Path
) -> None:
    import onnx

    folder = export_folder("all-MiniLM-L6-v2", MODEL_DIR, onnx_cache)
    ops = [n.op_type for n in onnx.load(str(folder / graph_file("onnx-int8"))).graph.node]
    assert ops.count("Attention") == 1 and ops.count("QAttention") == 5  # of 6 layers
    assert ops.index("Attention") < ops.index("QAttention")
    assert recipe_version("onnx-int8") == recipe_version("onnx") == EXPORT_VERSION >= 2
    assert recipe_version("float32") == recipe_version("bf16") == 0


def test_int8_weights_take_7_bits_on_x86_without_vnni() -> None:
    from index.encoders.cpu import CpuFeatures

    avx2 = CpuFeatures("x86_64", "AMD EPYC", frozenset({"avx2", "fma"}))
    vnni = CpuFeatures("x86_64", "AMD EPYC", frozenset({"avx2", "avx512f", "avx512_vnni"}))
    alder_lake = CpuFeatures("x86_64", "Intel Core", frozenset({"avx2", "avx_vnni"}))
    unknown = CpuFeatures("AMD64")
    arm = CpuFeatures("aarch64", "", frozenset({"asimd", "asimddp"}))
    assert [weight_bits(c) for c in (avx2, vnni, alder_lake, unknown, arm)] == [7, 8, 8, 7, 8]
    assert graph_file("onnx-int8", avx2) == "model-int8-7bit.onnx"
    assert graph_file("onnx-int8", vnni) == graph_file("onnx-int8", arm) == "model-int8.onnx"
    assert graph_file("onnx", avx2) == "model.onnx"


def _int8_weight_range(path: Path) -> tuple[int, int]:
    import onnx
    from onnx import numpy_helper

    weights = [
        numpy_helper.to_array(t)
        for t in onnx.load(str(path)).graph.initializer
        if t.data_type == onnx.TensorProto.INT8
    ]
    assert len(weights) >= 20  # 5 layers' projections and feed-forwards
    return min(int(w.min()) for w in weights), max(int(w.max()) for w in weights)


@pytest.mark.integration
def test_int8_weights_fit_this_cpu_and_7_bits_keep_the_vectors(
    int8_embedder: Embedder, onnx_cache: Path, tmp_path: Path
) -> None:
    folder = export_folder("all-MiniLM-L6-v2", MODEL_DIR, onnx_cache)
    low, high = _int8_weight_range(folder / graph_file("onnx-int8"))
    if weight_bits() == 7:  # x86 without VNNI: 8-bit weights would saturate the products
        assert low >= -64 and high <= 64  # 255 * 64 * 2 < 32,767
    else:
        assert low < -64 or high > 64
    seven = tmp_path / "model-int8-7bit.onnx"
    quantize(folder / "model.onnx", seven, bits=7)
    low, high = _int8_weight_range(seven)
    assert low >= -64 and high <= 64
    session = OnnxEmbedder(open_session(seven), int8_embedder.tokenizer, "m", "onnx-int8")
    exact = load_embedder(encoder="onnx").embed_documents(TEXTS)
    assert np.sum(exact * session.embed_documents(TEXTS), axis=1).min() >= 0.985


@pytest.mark.integration
def test_export_is_reused_and_made_again_when_deleted_or_damaged(
    int8_embedder: Embedder, onnx_cache: Path
) -> None:
    folder = export_folder("all-MiniLM-L6-v2", MODEL_DIR, onnx_cache)
    graph = folder / graph_file("onnx-int8")
    openvino = {"model-openvino.xml", "model-openvino.bin"}  # the openvino encoder's, if run
    assert {p.name for p in folder.iterdir()} - openvino == {
        graph.name,
        "model.onnx",
        "tokenizer.json",
    }
    stamp = graph.stat().st_mtime_ns
    expected = int8_embedder.embed_documents(HEADLINES)
    assert load_embedder(encoder="onnx-int8").embed_documents(HEADLINES) == pytest.approx(expected)
    assert graph.stat().st_mtime_ns == stamp  # reused, not exported again

    graph.unlink()
    again = load_embedder(encoder="onnx-int8")
    assert graph.is_file() and np.allclose(again.embed_documents(HEADLINES), expected, atol=1e-6)

    graph.write_bytes(b"not an onnx graph")
    repaired = load_embedder(encoder="onnx-int8")
    assert np.allclose(repaired.embed_documents(HEADLINES), expected, atol=1e-6)
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.integration
def test_a_model_that_cannot_be_exported_names_the_encoders_that_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    def refuse(*args: object, **kwargs: object) -> None:
        raise torch.onnx.OnnxExporterError("Unsupported operator aten::fancy_attention")

    monkeypatch.setattr(torch.onnx, "export", refuse)
    with pytest.raises(EmbeddingModelError) as err:
        OnnxEmbedder.load("all-MiniLM-L6-v2", MODEL_DIR, 256, "onnx-int8", cache=tmp_path)
    assert str(err.value) == (
        "Cannot export embedding model 'all-MiniLM-L6-v2' to ONNX for the onnx-int8 encoder "
        "(OnnxExporterError: Unsupported operator aten::fancy_attention) — use --encoder "
        "float32 (NEWSRAG_ENCODER) for this model, or bf16 on a CPU with AVX512-BF16 or AMX."
    )
    folder = export_folder("all-MiniLM-L6-v2", MODEL_DIR, tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["tokenizer.json"]  # no half graph


@pytest.mark.integration
def test_an_index_records_the_onnx_encoder_and_queries_with_it(
    tmp_path: Path, int8_embedder: Embedder
) -> None:
    from tests.conftest import SAMPLE_CORPUS

    settings = Settings(index_dir=tmp_path / "idx", encoder="onnx-int8")
    NewsIndex.open(settings=settings, create=True).ingest([SAMPLE_CORPUS])
    reader = NewsIndex.open(settings=settings.replace(encoder="float32"))
    assert reader.stats().encoder == "onnx-int8"
    assert reader.stats().encoder_version == EXPORT_VERSION
    assert reader.stats().encoder_weight_bits == weight_bits() in (7, 8)
    hits = reader.search("What did Rutte say about a European army?", k=3, as_of=None)
    assert reader.embedder.encoder == "onnx-int8"
    assert "Rutte" in hits[0].chunk.text
    assert os.environ["NEWSRAG_ONNX_CACHE"]  # the session's cache, not the user's
