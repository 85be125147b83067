"""The retrieval benchmark, end to end on the sample corpus with the real model."""

import importlib.util
import json
from pathlib import Path

import pytest

import index.encoders.onnx_encoder
from benchmarks.retrieval_bench import main
from benchmarks.vector_cache import VectorCache
from tests.conftest import SAMPLE_CORPUS, SAMPLE_QA

pytestmark = pytest.mark.integration
ROW_KEYS = {
    "method",
    "questions",
    "hit@1",
    "hit@5",
    "hit@10",
    "mrr@10",
    "choice_accuracy",
    "p50_ms",
    "p95_ms",
    "hit_curve",
}


def _run(tmp_path: Path, *extra: str) -> dict:
    out = tmp_path / "bench.json"
    code = main(
        [
            "--corpus",
            str(SAMPLE_CORPUS),
            "--questions",
            str(SAMPLE_QA),
            "--cache",
            str(tmp_path / "cache"),
            "--out",
            str(out),
            "--plot",
            str(tmp_path / "bench.png"),
            *extra,
        ]
    )
    assert code == 0
    return json.loads(out.read_text())


def test_bench_writes_table_json_and_plot_and_reuses_its_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _run(tmp_path, "--headers", "off", "--no-peer")
    methods = [r["method"] for r in result["rows"]]
    assert methods == [
        "keyword (bm25s)",
        "dense (Chroma)",
        "hybrid",
        "hybrid + time",
        "newsrag default",
    ]
    for row in result["rows"]:
        assert set(row) == ROW_KEYS and row["questions"] == result["n_questions"] == 24
        assert row["hit@5"] >= 0.9 and len(row["hit_curve"]) == 10
        assert row["hit_curve"] == sorted(row["hit_curve"])
    assert (tmp_path / "bench.png").read_bytes()[:4] == b"\x89PNG"
    out = capsys.readouterr()
    assert "hit@5" in out.out and "articles written" in out.err

    cached = len(VectorCache(tmp_path / "cache" / "vectors"))
    assert cached > 0
    _run(tmp_path, "--headers", "off", "--no-peer")
    assert "(0 articles written" in capsys.readouterr().err  # the index was reused
    assert len(VectorCache(tmp_path / "cache" / "vectors")) == cached


@pytest.mark.skipif(
    importlib.util.find_spec("txtai") is None,
    reason="txtai is the benchmark's peer, installed by pip install -e '.[bench]' (not in CI)",
)
def test_bench_runs_the_txtai_peer(tmp_path: Path) -> None:
    result = _run(tmp_path, "--headers", "off", "--peer-vectors", "shared")
    peer = result["rows"][-1]
    assert peer["method"] == "txtai hybrid (shared vectors)" and peer["hit@5"] >= 0.9


def test_a_later_onnx_recipe_builds_its_own_cached_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import benchmarks.vector_cache
    from benchmarks.retrieval_bench import build_index
    from index.embeddings import FakeEmbedder

    # an index of the first recipe's vectors must not stand in for a later recipe's
    monkeypatch.setattr(benchmarks.vector_cache, "EXPORT_VERSION", 1)
    embedder = FakeEmbedder(16, encoder="onnx-int8")
    first = build_index([SAMPLE_CORPUS], tmp_path, embedder, False, lambda _: None)
    monkeypatch.setattr(benchmarks.vector_cache, "EXPORT_VERSION", 2)
    later = build_index([SAMPLE_CORPUS], tmp_path, embedder, False, lambda _: None)
    assert first.settings.index_dir != later.settings.index_dir
    assert later.store.counts() == first.store.counts() != (0, 0)
    monkeypatch.setattr(index.encoders.onnx_encoder, "weight_bits", lambda: 8)
    assert benchmarks.vector_cache.encoder_tag("onnx-int8") == "onnx-int8/2"
    assert benchmarks.vector_cache.encoder_tag("bf16") == "bf16"
    # a CPU that runs int8 with 7-bit weights makes other vectors: its own cache entries
    monkeypatch.setattr(index.encoders.onnx_encoder, "weight_bits", lambda: 7)
    assert benchmarks.vector_cache.encoder_tag("onnx-int8") == "onnx-int8/2-7bit"
    assert benchmarks.vector_cache.encoder_tag("onnx") == "onnx/2"
