"""newsrag's index layer: articles in (loaders, chunking, embeddings, Chroma store), passages out
(retrieval). Knows nothing of answering, UI or evaluation."""

from index.config import Settings
from index.embeddings import Embedder, load_embedder
from index.errors import NewsragError
from index.newsindex import NewsIndex
from index.records import Article, ArticleInfo, Chunk, Hit, IndexStats, IngestReport, Problem
from index.retrieval import SearchFilters, SearchRequest

__all__ = [
    "Article",
    "ArticleInfo",
    "Chunk",
    "Embedder",
    "Hit",
    "IndexStats",
    "IngestReport",
    "NewsIndex",
    "NewsragError",
    "Problem",
    "SearchFilters",
    "SearchRequest",
    "Settings",
    "load_embedder",
]
