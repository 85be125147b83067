"""The benchmark's text -> vector cache."""

from pathlib import Path

import numpy as np
import pytest

import benchmarks.vector_cache
import index.encoders.onnx_encoder
from benchmarks.vector_cache import CachingEmbedder, VectorCache, text_key, vector_model_key
from index.embeddings import FakeEmbedder


def test_cache_keeps_each_text_with_its_own_vector(tmp_path: Path) -> None:
    inner = FakeEmbedder(16)
    cache = VectorCache(tmp_path)
    embedder = CachingEmbedder(inner, cache)
    texts = ["flood warning", "flood warning", "rates held", "tram opens"]  # one repeat
    first = embedder.embed_documents(texts)
    assert np.allclose(first, inner.embed_documents(texts))
    assert embedder.embedded == 4 and len(cache) == 3

    again = CachingEmbedder(inner, VectorCache(tmp_path))  # reloaded from disk
    more = ["tram opens", "new text", "flood warning"]
    assert np.allclose(again.embed_documents(more), inner.embed_documents(more))
    assert again.embedded == 1


def test_keys_survive_trailing_zero_bytes(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path)
    keys = [b"\x01" * 15 + b"\x00", b"\x02" * 16]
    cache.add(keys, np.eye(2, dtype=np.float32))
    cache.save()
    loaded = VectorCache(tmp_path)
    got = loaded.get(keys)
    assert got[0] is not None and got[1] is not None
    assert np.allclose(np.stack(got), np.eye(2)) and text_key("m", "t") != text_key("n", "t")


def test_vectors_are_cached_per_encoder(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path)
    CachingEmbedder(FakeEmbedder(16), cache).embed_documents(["rates held"])
    bf16 = CachingEmbedder(FakeEmbedder(16, encoder="bf16"), cache)
    bf16.embed_documents(["rates held"])
    assert bf16.embedded == 1 and len(cache) == 2  # float32's vector was not reused
    assert vector_model_key("m", "float32") == "m" and vector_model_key("m", "bf16") == "m@bf16"


def test_an_onnx_export_recipe_after_the_first_gets_keys_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(index.encoders.onnx_encoder, "weight_bits", lambda: 8)
    monkeypatch.setattr(benchmarks.vector_cache, "EXPORT_VERSION", 1)
    assert vector_model_key("m", "onnx-int8") == "m@onnx-int8"  # the first recipe's keys
    monkeypatch.setattr(benchmarks.vector_cache, "EXPORT_VERSION", 2)
    assert vector_model_key("m", "onnx-int8") == "m@onnx-int8/2"
    assert vector_model_key("m", "bf16") == "m@bf16"  # torch encoders have no export recipe
