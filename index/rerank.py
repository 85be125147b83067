"""The optional reranking stage: a sentence-transformers CrossEncoder, loaded offline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from index.embeddings import stay_offline
from index.errors import EmbeddingModelError


class CrossEncoderReranker:
    """Rescores (query, passage) pairs with a cross-encoder named by path or cached model name.

    >>> reranker = CrossEncoderReranker.load("/models/ms-marco-MiniLM-L-6-v2")
    >>> reranker.score("European army", ["Rutte said ...", "The weather ..."])
    [7.1, -9.8]
    """

    def __init__(self, model: Any, name: str) -> None:
        self.model = model
        self.name = name

    @classmethod
    def load(cls, name: str) -> CrossEncoderReranker:
        stay_offline()
        from sentence_transformers import CrossEncoder

        location = str(Path(name).expanduser()) if Path(name).expanduser().is_dir() else name
        try:
            model = CrossEncoder(location, device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EmbeddingModelError(
                f"Cannot load reranker {name!r} offline ({exc}). newsrag never downloads "
                "models: set --reranker / NEWSRAG_RERANKER to a local cross-encoder folder, or "
                "leave it empty to turn reranking off."
            ) from exc
        return cls(model, name)

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        scores = self.model.predict([(query, p) for p in passages], show_progress_bar=False)
        return [float(s) for s in scores]
