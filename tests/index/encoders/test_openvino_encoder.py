"""The openvino encoder: float32's vectors (bfloat16 where the CPU has it), each text run alone,
its compiled form cached beside the ONNX export and made again when deleted or damaged, shared
safely by threads, and never reaching OpenVINO's telemetry."""

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from index import NewsIndex, Settings
from index.embeddings import Embedder, load_embedder, model_location
from index.encoders.cpu import CpuFeatures
from index.encoders.onnx_encoder import EXPORT_VERSION, export_folder, recipe_version
from index.encoders.openvino_encoder import IR_FILE, OpenVinoEmbedder, precision
from index.errors import EmbeddingModelError
from tests.index.encoders.test_onnx_encoder import HEADLINES, TEXTS

MODEL_DIR = Path(model_location("all-MiniLM-L6-v2"))


@pytest.fixture(scope="module")
def openvino_embedder(onnx_cache: Path) -> Embedder:
    return load_embedder(encoder="openvino")


def test_openvino_computes_in_bfloat16_only_where_the_cpu_has_it() -> None:
    amx = CpuFeatures("x86_64", "Intel Xeon", frozenset({"avx512f", "amx_bf16", "avx512_bf16"}))
    zen4 = CpuFeatures("x86_64", "AMD EPYC", frozenset({"avx512f", "avx512_bf16"}))
    avx2 = CpuFeatures("x86_64", "AMD EPYC", frozenset({"avx2"}))
    assert [precision(c) for c in (amx, zen4, avx2, CpuFeatures("x86_64"))] == [
        "bf16",
        "bf16",
        "f32",
        "f32",
    ]
    assert recipe_version("openvino") == EXPORT_VERSION


@pytest.mark.integration
def test_openvino_vectors_match_float32_torch_ones(
    real_embedder: Embedder, openvino_embedder: Embedder
) -> None:
    exact = real_embedder.embed_documents(TEXTS)
    vectors = openvino_embedder.embed_documents(TEXTS)
    assert openvino_embedder.encoder == "openvino"
    assert vectors.dtype == np.float32 and vectors.shape == (6, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    # measured: 0.99997 at least over 1,657 RealTimeQA chunks in bfloat16
    assert np.sum(exact * vectors, axis=1).min() >= 0.9999
    assert openvino_embedder.embed_query(TEXTS[0]) @ exact[0] >= 0.9999
    assert openvino_embedder.embed_documents([]).shape == (0, 384)


@pytest.mark.integration
def test_a_text_gets_the_same_openvino_vector_whatever_it_is_embedded_with(
    openvino_embedder: Embedder,
) -> None:
    together = openvino_embedder.embed_documents(TEXTS)
    for i, text in enumerate(TEXTS):
        assert np.array_equal(openvino_embedder.embed_documents([text])[0], together[i])
    assert np.array_equal(openvino_embedder.embed_documents(TEXTS[::-1])[::-1], together)


@pytest.mark.integration
def test_threads_share_the_openvino_embedder(openvino_embedder: Embedder) -> None:
    expected = openvino_embedder.embed_documents(HEADLINES)
    jobs = [i % len(HEADLINES) for i in range(64)]
    with ThreadPoolExecutor(8) as pool:  # more callers than the embedder has requests
        got = list(pool.map(lambda i: openvino_embedder.embed_query(HEADLINES[i]), jobs))
    for i, vector in zip(jobs, got, strict=True):
        assert np.array_equal(vector, expected[i])


@pytest.mark.integration
def test_the_compiled_model_is_cached_and_made_again_when_deleted_or_damaged(
    openvino_embedder: Embedder, onnx_cache: Path
) -> None:
    folder = export_folder("all-MiniLM-L6-v2", MODEL_DIR, onnx_cache)
    ir = folder / IR_FILE
    assert ir.is_file() and ir.with_suffix(".bin").is_file()
    stamp = ir.stat().st_mtime_ns
    expected = openvino_embedder.embed_documents(HEADLINES)
    assert np.array_equal(load_embedder(encoder="openvino").embed_documents(HEADLINES), expected)
    assert ir.stat().st_mtime_ns == stamp  # read back, not made again

    ir.with_suffix(".bin").unlink()
    again = load_embedder(encoder="openvino")
    assert ir.with_suffix(".bin").is_file()
    assert np.allclose(again.embed_documents(HEADLINES), expected, atol=1e-6)

    ir.write_text("<not an openvino model/>")
    repaired = load_embedder(encoder="openvino")
    assert np.allclose(repaired.embed_documents(HEADLINES), expected, atol=1e-6)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no staging left


@pytest.mark.integration
def test_openvino_never_starts_its_telemetry(
    openvino_embedder: Embedder, onnx_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # OpenVINO's model converter reports to Google Analytics; newsrag reads the ONNX export
    # with the runtime alone. Checked on a cache holding only the export, as after a first run
    # of another ONNX encoder, so the compiled form is made here.
    import openvino
    import openvino_telemetry

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("OpenVINO telemetry started")

    monkeypatch.setattr(openvino_telemetry.Telemetry, "__init__", refuse)
    monkeypatch.setattr(openvino, "convert_model", refuse)
    shared = export_folder("all-MiniLM-L6-v2", MODEL_DIR, onnx_cache)
    fresh = export_folder("all-MiniLM-L6-v2", MODEL_DIR, tmp_path)
    fresh.mkdir()
    for name in ("model.onnx", "tokenizer.json"):
        shutil.copy(shared / name, fresh / name)
    embedder = OpenVinoEmbedder.load("all-MiniLM-L6-v2", MODEL_DIR, 256, cache=tmp_path)
    assert (fresh / IR_FILE).is_file()
    assert np.array_equal(
        embedder.embed_documents(HEADLINES), openvino_embedder.embed_documents(HEADLINES)
    )


@pytest.mark.integration
def test_an_index_records_the_openvino_encoder_and_queries_with_it(
    tmp_path: Path, openvino_embedder: Embedder
) -> None:
    from tests.conftest import SAMPLE_CORPUS

    settings = Settings(index_dir=tmp_path / "idx", encoder="openvino")
    NewsIndex.open(settings=settings, create=True).ingest([SAMPLE_CORPUS])
    reader = NewsIndex.open(settings=settings.replace(encoder="onnx-int8"))
    stats = reader.stats()
    assert (stats.encoder, stats.encoder_version, stats.encoder_weight_bits) == (
        "openvino",
        EXPORT_VERSION,
        0,
    )
    hits = reader.search("What did Rutte say about a European army?", k=3, as_of=None)
    assert reader.embedder.encoder == "openvino"
    assert "Rutte" in hits[0].chunk.text


@pytest.mark.integration
def test_a_cpu_openvino_cannot_compile_for_names_the_encoder_to_use(
    openvino_embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openvino

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Exception from src/plugins/intel_cpu: unsupported ISA")

    monkeypatch.setattr(openvino.Core, "compile_model", refuse)
    with pytest.raises(EmbeddingModelError) as err:
        load_embedder(encoder="openvino")
    assert str(err.value) == (
        "OpenVINO cannot compile 'all-MiniLM-L6-v2' for this CPU (Exception from "
        "src/plugins/intel_cpu: unsupported ISA) — use --encoder onnx-int8 (NEWSRAG_ENCODER), "
        "or rebuild an openvino index with it: newsrag ingest PATH --index DIR --rebuild "
        "--encoder onnx-int8"
    )
