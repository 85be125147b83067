"""The CPU ceiling: the model's work per chunk and this CPU's measured matrix-product rates."""

from pathlib import Path

import pytest

from benchmarks.bench import cpu_ceiling, format_table
from benchmarks.ceiling import Ceiling, matmul_rate, model_shape, token_counts, transformer_macs
from index.embeddings import DEFAULT_EMBEDDING_MODEL, model_location
from index.errors import EmbeddingModelError


def test_multiply_adds_count_projections_feed_forward_and_attention() -> None:
    # per token: 4 h^2 = 16 and 2 h i = 16; attention: 2 n^2 h = 16; two layers
    assert transformer_macs(2, layers=2, hidden=2, intermediate=4) == 2 * (2 * 32 + 16)
    # the bundled model on a 200-token chunk: 2.31 billion multiply-adds
    shape = model_shape(Path(model_location(DEFAULT_EMBEDDING_MODEL)))
    assert shape == {"layers": 6, "hidden": 384, "intermediate": 1536}
    assert transformer_macs(200, **shape) == 2_307_686_400


def test_token_counts_are_the_encoders_truncated_lengths() -> None:
    folder = Path(model_location(DEFAULT_EMBEDDING_MODEL))
    short, long = token_counts(folder, ["European army", "word " * 500], max_length=256)
    assert short == 4  # [CLS] european army [SEP]
    assert long == 256


@pytest.mark.parametrize("int8", [False, True])
def test_matrix_product_rate_is_measured(int8: bool) -> None:
    assert matmul_rate(16, 32, 64, int8, seconds=0.05) > 0.01


def test_ceiling_takes_the_faster_product_on_every_core() -> None:
    c = Ceiling(fp32_gmacs=40.0, int8_gmacs=50.0, macs_per_chunk=2e9, mean_tokens=190, cores=2)
    assert c.chunks_per_s == 50.0
    assert c.as_dict()["gmacs_per_chunk"] == 2.0


def test_bench_ceiling_of_the_bundled_model_and_its_table_lines() -> None:
    c = cpu_ceiling(DEFAULT_EMBEDDING_MODEL, ["The council approved the tram line."] * 4)
    assert c.mean_tokens == 9 and c.cores >= 1 and c.chunks_per_s > 0
    result = {
        "default_encoder": "onnx-int8",
        "encode": {"float32": 20.0, "onnx-int8": 30.0},
        "ingest": {"chunks_per_s": 29.0, "peak_rss_mb": 700.0},
        "ceiling": Ceiling(47.6, 49.6, 2.24e9, 194.3, 2).as_dict(),
    }
    lines = format_table(result).splitlines()
    assert lines[6].endswith("47.6 / 49.6")
    assert lines[7].endswith("2.24  (194 tokens)")
    assert lines[8].endswith("44.3  (2.21 x)")


def test_bench_ceiling_needs_a_plain_model_folder(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelError, match="not a plain mean-pooling model folder"):
        cpu_ceiling(str(tmp_path), ["text"])
