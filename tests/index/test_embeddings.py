"""Embedders: the encoder option, checked once; bf16 vectors of the real model match float32."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from index.embeddings import (
    FakeEmbedder,
    MemoEmbedder,
    SentenceTransformerEmbedder,
    load_embedder,
    model_location,
)
from index.encoders.mean_pooling import MeanPoolingModel, plain_max_length
from index.errors import EmbeddingModelError
from tests.conftest import CountingEmbedder

HEADLINES = [
    "Rutte says Europe needs its own army, not just more spending",
    "Factory workers share a record lotto jackpot after pooling tickets for nine years",
    "Heavy rain closes the coastal road; flood warnings stay in place until Friday",
    "The central bank holds rates at 4.25% and signals one cut before the summer",
]


def test_unknown_encoder_is_refused_by_name() -> None:
    with pytest.raises(EmbeddingModelError) as err:
        load_embedder("fake", encoder="int4")
    assert str(err.value) == (
        "Unknown encoder 'int4' — use one of float32, bf16, onnx, onnx-int8, openvino."
    )


def test_a_torch_model_refuses_the_onnx_encoders_by_name() -> None:
    with pytest.raises(EmbeddingModelError) as err:
        SentenceTransformerEmbedder(FakeModel(), "fake", encoder="onnx-int8")
    assert str(err.value) == (
        "Encoder 'onnx-int8' does not run a torch model — use one of float32, bf16, or "
        "load_embedder(name, encoder='onnx-int8')."
    )


class FakeModel:
    def get_embedding_dimension(self) -> int:
        return 8


def test_fake_embedder_records_the_encoder_it_was_asked_for() -> None:
    float32, bf16 = load_embedder("fake:16"), load_embedder("fake:16", encoder="bf16")
    assert (float32.encoder, bf16.encoder) == ("float32", "bf16")
    assert np.array_equal(float32.embed_documents(HEADLINES), bf16.embed_documents(HEADLINES))


@pytest.mark.integration
def test_bf16_on_a_cpu_without_native_bfloat16_warns_and_names_the_faster_encoders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import warnings

    import index.embeddings
    from index.encoders.cpu import CpuFeatures

    avx2 = CpuFeatures("x86_64", "AMD EPYC", frozenset({"avx2"}))
    monkeypatch.setattr(index.embeddings, "cpu_features", lambda: avx2)
    with pytest.warns(UserWarning, match="no native bfloat16") as caught:
        embedder = load_embedder(encoder="bf16")
    assert embedder.encoder == "bf16"  # still what was asked for
    assert "--encoder onnx-int8 (the default) or float32" in str(caught[0].message)
    genoa = CpuFeatures("x86_64", "AMD EPYC", frozenset({"avx2", "avx512_bf16"}))
    monkeypatch.setattr(index.embeddings, "cpu_features", lambda: genoa)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_embedder(encoder="bf16")
        load_embedder(encoder="float32")


@pytest.mark.integration
def test_bf16_vectors_match_float32_ones(real_embedder: SentenceTransformerEmbedder) -> None:
    bf16 = SentenceTransformerEmbedder(real_embedder.model, real_embedder.name, encoder="bf16")
    exact = real_embedder.embed_documents(HEADLINES)
    fast = bf16.embed_documents(HEADLINES)
    assert fast.dtype == np.float32 and fast.shape == (4, 384)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-3)
    cosines = np.sum(exact * fast, axis=1)
    assert cosines.min() >= 0.99, cosines
    # the same texts still find each other: each headline's nearest float32 vector is its own
    assert list(np.argmax(fast @ exact.T, axis=1)) == [0, 1, 2, 3]
    assert bf16.embed_query(HEADLINES[0]) @ exact[0] >= 0.99


@pytest.mark.integration
def test_bundled_model_runs_without_sentence_transformers_and_gives_its_vectors(
    real_embedder: SentenceTransformerEmbedder,
) -> None:
    from sentence_transformers import SentenceTransformer

    assert isinstance(real_embedder.model, MeanPoolingModel)
    reference = SentenceTransformer(
        model_location("all-MiniLM-L6-v2"), device="cpu", local_files_only=True
    )
    texts = [*HEADLINES, "short", " ".join(HEADLINES * 20)]  # one text past 256 tokens
    exact = reference.encode(texts, batch_size=64, normalize_embeddings=True)
    assert np.abs(real_embedder.embed_documents(texts) - exact).max() < 1e-5


def test_only_plain_mean_pooling_folders_skip_sentence_transformers(tmp_path: Path) -> None:
    assert plain_max_length(Path(model_location("all-MiniLM-L6-v2"))) == 256
    assert plain_max_length(tmp_path) is None  # no modules.json


def test_memo_embeds_each_text_once_and_returns_the_inner_vectors() -> None:
    fake = FakeEmbedder(32)
    counting = CountingEmbedder(fake)
    memo = MemoEmbedder(counting, size=3)
    texts = ["Rutte warned", "army plans", "Rutte warned"]
    first = memo.embed_documents(texts)
    assert np.array_equal(first, fake.embed_documents(texts))
    assert counting.documents == ["Rutte warned", "army plans"]  # a repeat in one call: once
    again = memo.embed_documents(["army plans", "new text", "Rutte warned"])
    assert np.array_equal(again, fake.embed_documents(["army plans", "new text", "Rutte warned"]))
    assert counting.documents == ["Rutte warned", "army plans", "new text"]
    # queries are remembered apart from documents (a model may prompt its queries)
    assert np.array_equal(memo.embed_query("army plans"), fake.embed_query("army plans"))
    assert memo.embed_query("army plans") is memo.embed_query("army plans")
    assert counting.queries == ["army plans"]
    assert memo.embed_documents([]).shape == (0, 32)


def test_memo_forgets_the_least_recently_used_text_past_its_size() -> None:
    counting = CountingEmbedder(FakeEmbedder(16))
    memo = MemoEmbedder(counting, size=2)
    memo.embed_documents(["a", "b"])
    memo.embed_documents(["a"])  # "a" used again: "b" is now the oldest
    memo.embed_documents(["c"])  # evicts "b"
    memo.embed_documents(["a", "b"])
    assert counting.documents == ["a", "b", "c", "b"]


def test_memo_vectors_cannot_be_changed_by_a_caller() -> None:
    memo = MemoEmbedder(FakeEmbedder(8))
    query = memo.embed_query("Rutte")
    with pytest.raises(ValueError, match="read-only"):
        query *= 2
    documents = memo.embed_documents(["Rutte"])
    documents *= 2  # a fresh array: the remembered vector stays as it was
    assert np.array_equal(
        memo.embed_documents(["Rutte"]), FakeEmbedder(8).embed_documents(["Rutte"])
    )


def test_memo_is_safe_under_threads() -> None:
    fake = FakeEmbedder(16)
    memo = MemoEmbedder(fake, size=50)
    texts = [f"text {i % 80}" for i in range(400)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda t: memo.embed_documents([t])[0], texts))
    assert np.array_equal(np.stack(got), fake.embed_documents(texts))
