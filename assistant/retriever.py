"""A LangChain retriever over a newsrag index, so it drops into any LangChain chain."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from index.newsindex import NewsIndex
from index.records import Hit
from index.retrieval import SearchFilters


def hit_to_document(hit: Hit) -> Document:
    """The LangChain view of a hit: the passage as content, the rest of ``Hit.to_dict()`` (ids,
    article metadata, offsets, scores, rank) as metadata."""
    metadata = hit.to_dict()
    return Document(page_content=metadata.pop("passage"), id=hit.chunk.id, metadata=metadata)


class NewsRetriever(BaseRetriever):
    """Returns the ``k`` best passages as LangChain Documents with newsrag metadata.

    >>> retriever = NewsRetriever(index=NewsIndex.open("./idx"), k=5)
    >>> retriever.invoke("What did Rutte say about a European army?")[0].metadata["title"]
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: NewsIndex
    k: int = 5
    mode: str | None = None  # hybrid (default), dense or keyword
    filters: SearchFilters | None = None
    as_of: str | None = "today"

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        hits = self.index.search(
            query,
            kwargs.get("k", self.k),
            mode=kwargs.get("mode", self.mode),
            filters=kwargs.get("filters", self.filters),
            as_of=kwargs.get("as_of", self.as_of),
        )
        return [hit_to_document(h) for h in hits]
