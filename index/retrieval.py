"""Dense retrieval: a question in, the best-matching chunks out, with their metadata."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from index.embeddings import Embedder
from index.records import Hit
from index.store import ChromaStore


class DenseRetriever:
    """Embeds the query with the index's model and asks Chroma for the nearest chunks.

    >>> DenseRetriever(store, embedder).search("What did Rutte say about a European army?", k=5)
    [Hit(chunk=Chunk(...), score=0.61, rank=1), ...]
    """

    def __init__(self, store: ChromaStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def search(self, query: str, k: int = 5, where: Mapping[str, Any] | None = None) -> list[Hit]:
        """The ``k`` best chunks for ``query``, best first; [] for an empty index or query."""
        if not query.strip():
            return []
        return self.store.query(self.embedder.embed_query(query), k, where)
