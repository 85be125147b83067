"""The speed benchmark's pieces that need no model: chunk texts, rates, the scaled index and
the table."""

from pathlib import Path

from benchmarks.bench import (
    chunk_texts,
    encode_rate,
    format_table,
    ingest_pair,
    median_ingest,
    scaled_latency,
)
from benchmarks.vector_cache import VectorCache
from index import Article, Settings
from index.embeddings import FakeEmbedder
from index.loaders import load_paths
from tests.conftest import SAMPLE_CORPUS, SAMPLE_QA


def test_chunk_texts_are_what_ingest_embeds() -> None:
    article = Article(id="a1", title="Tram line approved", text="The council voted. " * 100)
    texts = chunk_texts([article], Settings(chunk_size=40, chunk_overlap=10))
    assert len(texts) > 1 and all(t.startswith("The council voted.") for t in texts)
    assert encode_rate(FakeEmbedder(16), texts) > 0


def test_table_shows_the_ratio_and_each_encoder_against_float32() -> None:
    result = {
        "default_encoder": "bf16",
        "encode": {"float32": 20.0, "bf16": 50.0},
        "ingest": {"chunks_per_s": 45.0, "peak_rss_mb": 990.0},
        "cold_start_s": 7.2,
        "quality": {
            "float32": {
                "hit@5": 0.699,
                "mrr@10": 0.531,
                "p50_ms": 22.0,
                "p95_ms": 28.0,
                "chunks": 35741,
            },
            "bf16": {
                "hit@5": 0.699,
                "mrr@10": 0.530,
                "p50_ms": 21.0,
                "p95_ms": 27.0,
                "chunks": 35741,
            },
        },
    }
    lines = format_table(result).splitlines()
    assert "ingest / raw encode" in lines[4] and lines[4].endswith("0.90")
    assert lines[-1].split() == ["bf16", "50.0", "2.50", "-", "-", "0.699", "0.530"]
    assert any("35741 chunks" in line and "21.0 / 27.0" in line for line in lines)


def test_table_shows_cosines_to_float32_and_the_median_cold_start() -> None:
    result = {
        "default_encoder": "onnx-int8",
        "encode": {"float32": 20.0, "onnx-int8": 80.0},
        "ingest": {"chunks_per_s": 76.0, "peak_rss_mb": 700.0},
        "cold_start_s": 3.1,
        "cold_start_runs": [3.4, 3.0, 3.1],
        "cosine": {
            "float32": {"mean": 1.0, "min": 1.0},
            "onnx-int8": {"mean": 0.99644, "min": 0.99251},
        },
    }
    lines = format_table(result).splitlines()
    assert any(
        line.startswith("cold start of newsrag ask (s), median of 3")
        and line.endswith("3.10  (3.00-3.40)")
        for line in lines
    )
    assert lines[-1].split() == ["onnx-int8", "80.0", "4.00", "0.99644", "0.99251", "-", "-"]


def test_repeated_ingests_show_the_median_ratio_of_their_pairs() -> None:
    pairs = [ingest_pair(60.0, 75.0), ingest_pair(66.0, 70.0), ingest_pair(63.0, 72.0)]
    assert [round(p["ratio"], 3) for p in pairs] == [0.8, 0.943, 0.875]
    runs = [
        {"chunks": 1657, "chunks_per_s": r, "wall_s": w, "peak_rss_mb": m}
        for r, w, m in [(60.0, 40.0, 700.0), (66.0, 36.0, 720.0), (63.0, 38.0, 690.0)]
    ]
    ingest = median_ingest(runs)
    assert ingest == {
        "chunks": 1657,
        "chunks_per_s": 63.0,
        "wall_s": 38.0,
        "peak_rss_mb": 720.0,
        "runs": 3,
    }
    result = {
        "default_encoder": "onnx-int8",
        "encode": {"float32": 25.0, "onnx-int8": 72.0},
        "ingest": ingest,
        "ingest_pairs": pairs,
    }
    lines = format_table(result).splitlines()
    assert lines[4].startswith("ingest / raw encode, median of 3 pairs")
    result["machine"] = {"cpu": "AMD EPYC, x86_64: AVX2; no VNNI", "cores": 2, "int8_bits": 7}
    assert format_table(result).splitlines()[:3] == [
        "machine: AMD EPYC, x86_64: AVX2; no VNNI; 2 cores; int8 weights 7-bit",
        "",
        lines[0],
    ]
    assert lines[4].endswith("0.88  (0.80-0.94)")
    assert lines[5].split()[-1] == "720"


def test_scaled_latency_times_the_corpus_held_several_times_and_builds_it_once(
    tmp_path: Path,
) -> None:
    messages: list[str] = []
    embedder = FakeEmbedder(32)
    once = scaled_latency([SAMPLE_CORPUS], SAMPLE_QA, tmp_path, embedder, 1, messages.append)
    three = scaled_latency([SAMPLE_CORPUS], SAMPLE_QA, tmp_path, embedder, 3, messages.append)
    assert three["copies"] == 3 and three["chunks"] == 3 * once["chunks"] > 0
    assert 0 < three["p50_ms"] <= three["p95_ms"]
    articles = len(load_paths([SAMPLE_CORPUS]).articles)
    assert [m.split(" written")[0] for m in messages[-3:]] == [
        f"copy {n} of 3: {articles} articles" for n in (1, 2, 3)
    ]
    # the vectors went to the cache the quality run shares, and a second run writes nothing
    assert len(VectorCache(tmp_path / "vectors")) > 0
    scaled_latency([SAMPLE_CORPUS], SAMPLE_QA, tmp_path, embedder, 3, messages.append)
    assert [m.split(" written")[0] for m in messages[-3:]] == [
        f"copy {n} of 3: 0 articles" for n in (1, 2, 3)
    ]


def test_table_shows_retrieval_latency_at_both_sizes() -> None:
    timing = {"hit@5": 0.69, "mrr@10": 0.53, "p50_ms": 13.2, "p95_ms": 17.5, "chunks": 35734}
    result = {
        "default_encoder": "onnx-int8",
        "encode": {"float32": 20.0, "onnx-int8": 30.0},
        "ingest": {"chunks_per_s": 29.0, "peak_rss_mb": 700.0},
        "quality": {"onnx-int8": timing},
        "scaled": {"copies": 5, "chunks": 178670, "p50_ms": 20.5, "p95_ms": 27.9},
    }
    lines = format_table(result).splitlines()
    assert [line.split()[-3:] for line in lines if line.startswith("retrieval p50")] == [
        ["13.2", "/", "17.5"],
        ["20.5", "/", "27.9"],
    ]
    assert any("178670 chunks" in line for line in lines)
