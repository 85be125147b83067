"""The torch encoders (float32, bf16): a sentence-transformers model, or a plain mean-pooling
folder loaded without sentence-transformers, run on the CPU."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.errors import EmbeddingModelError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from index.encoders.mean_pooling import MeanPoolingModel

TORCH_ENCODERS = ("float32", "bf16")


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, returning normalised float32 vectors. With
    ``encoder="bf16"`` the model's matrix products run in bfloat16 under ``torch.autocast``
    (the weights stay float32, so both encoders share one loaded model).

    >>> embedder = load_embedder("all-MiniLM-L6-v2", encoder="bf16")
    >>> embedder.embed_query("European army").shape
    (384,)
    """

    def __init__(
        self,
        model: SentenceTransformer | MeanPoolingModel,
        name: str,
        batch_size: int = 64,
        encoder: str = "float32",
    ) -> None:
        if encoder not in TORCH_ENCODERS:
            raise EmbeddingModelError(
                f"Encoder {encoder!r} does not run a torch model — use one of "
                f"{', '.join(TORCH_ENCODERS)}, or load_embedder(name, encoder={encoder!r})."
            )
        self.model = model
        self.name = name
        self.batch_size = batch_size
        self.encoder = encoder
        self.dimension = int(model.get_embedding_dimension() or 0)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._precision():
            vectors = self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    @contextlib.contextmanager
    def _precision(self) -> Iterator[None]:
        if self.encoder == "float32":
            yield
            return
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16):
            yield

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


def load_torch_model(location: str) -> SentenceTransformer | MeanPoolingModel:
    """The bundled model and other plain mean-pooling folders load without sentence-transformers
    (same vectors, seconds less to start); anything else through it."""
    from index.encoders.mean_pooling import MeanPoolingModel, plain_max_length

    max_length = plain_max_length(Path(location))
    if max_length is not None:
        return MeanPoolingModel.load(Path(location), max_length)
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(location, device="cpu", local_files_only=True)
