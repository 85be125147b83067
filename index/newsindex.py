"""NewsIndex: the one object over loaders, chunker, embedder, store and retriever."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import cast

from chromadb.api import ClientAPI

from index.chunking import Chunker
from index.config import Settings
from index.embeddings import Embedder, canonical_model_name, load_embedder
from index.errors import IndexNotFoundError
from index.ingest import Progress, ingest
from index.keyword import KeywordRow, KeywordSync
from index.loaders import Loaded, load_paths
from index.lock import write_lock
from index.onnx_encoder import int8_weight_bits, recipe_version
from index.query_adapter import QueryAdapter, resolve
from index.records import Article, ArticleInfo, Hit, IndexStats, IngestReport
from index.rerank import CrossEncoderReranker
from index.retrieval import Mode, Ranking, Reranker, Retriever, SearchFilters
from index.store import (
    BuildInfo,
    ChromaStore,
    check_build,
    encoder_warning,
    location_option,
    open_client,
    storage_errors,
)
from index.timeframe import parse_day


def keyword_folder(index_dir: Path, collection: str) -> Path:
    """Where the keyword index of ``collection`` lives: beside Chroma's files (with a Chroma
    server, in the local index folder all the same)."""
    return index_dir / "keyword" / collection


class NewsIndex:
    """A newsrag index: ingest articles, search passages, list, delete and count.

    >>> index = NewsIndex.open("./idx", create=True)          # loads the default model once
    >>> index.ingest(["sample_corpus/"]).to_dict()["added"]
    16
    >>> [h.chunk.title for h in index.search("European army", k=3)]
    """

    def __init__(
        self,
        store: ChromaStore,
        settings: Settings,
        embedder: Embedder | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        build = store.build
        self.chunker = Chunker(build.chunk_size, build.chunk_overlap, build.chunk_header)
        self.keyword = KeywordSync(
            keyword_folder(settings.index_dir, settings.collection), store, self.chunker
        )
        self._embedder = embedder
        self._reranker = reranker
        self._retriever: Retriever | None = None

    @property
    def embedder(self) -> Embedder:
        """The index's embedding model, run with the index's encoder, loaded on first use
        (listing and counting need none)."""
        if self._embedder is None:
            build = self.store.build
            self._embedder = load_embedder(
                build.embedding_model, self.settings.batch_size, build.encoder
            )
        return self._embedder

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            s = self.settings
            reranker = self._reranker
            if reranker is None and s.reranker:
                reranker = CrossEncoderReranker.load(s.reranker)
            ranking = Ranking(
                time_weight=s.time_weight,
                lead_weight=s.lead_weight,
                max_per_article=s.max_per_article,
            )
            self._retriever = Retriever(
                self.store, self.keyword, self.embedder, ranking, reranker, self.query_adapter()
            )
        return self._retriever

    def query_adapter(self) -> QueryAdapter | None:
        """The query adapter ``settings.query_adapter`` names for this index's model (None when
        off, or when ``default`` and newsrag ships none for the model); a damaged file or one
        fitted for another model is an error."""
        build = self.store.build
        adapter = resolve(self.settings.query_adapter, build.embedding_model)
        if adapter is not None:
            adapter.check(build.embedding_model, build.embedding_dimension, self.store.location)
        return adapter

    @classmethod
    def open(
        cls,
        index_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        create: bool = False,
        client: ClientAPI | None = None,
    ) -> NewsIndex:
        """Open the index at ``index_dir`` (default: ``settings.index_dir``), or on the Chroma
        server ``settings.chroma_url`` when set (``index_dir`` then holds the keyword index).

        The stored build is checked against the configured model before any model is loaded,
        so a mismatch fails fast; the model itself loads on first search or ingest. ``create``
        makes a missing index; ``embedder`` and ``client`` let callers share objects they
        already built.
        """
        settings = settings or Settings.from_env()
        if index_dir is not None:
            settings = settings.replace(index_dir=Path(index_dir))
        location = settings.location
        client = client or open_client(
            settings.index_dir, create=create, chroma_url=settings.chroma_url
        )
        model_name = embedder.name if embedder else canonical_model_name(settings.embedding_model)
        with storage_errors(location):
            stored = ChromaStore.read_build(client, settings.collection)
        if stored is not None:
            wanted = BuildInfo(
                model_name,
                stored.embedding_dimension,
                settings.chunk_size,
                settings.chunk_overlap,
                settings.chunk_header,
            )
            check_build(stored, wanted, location, chunking=create)
            if embedder is not None or create:
                encoder = embedder.encoder if embedder else settings.encoder
                message = encoder_warning(stored, encoder, location, given=embedder is not None)
                if message:
                    warnings.warn(message, stacklevel=2)
        elif create and embedder is None:
            embedder = load_embedder(
                settings.embedding_model, settings.batch_size, settings.encoder
            )
        if stored is None and embedder is not None:
            build = BuildInfo(
                embedder.name,
                embedder.dimension,
                settings.chunk_size,
                settings.chunk_overlap,
                settings.chunk_header,
                embedder.encoder,
                recipe_version(embedder.encoder),
                int8_weight_bits(embedder.encoder),
            )
        elif stored is not None:
            build = stored
        else:
            raise IndexNotFoundError(
                f"No newsrag index {settings.collection!r} at {location} — run 'newsrag ingest "
                f"PATH {location_option(location)}' first."
            )
        store = ChromaStore.open(
            client, settings.collection, build, create=create, location=location
        )
        return cls(store, settings, embedder)

    @staticmethod
    def drop(
        index_dir: str | Path,
        collection: str = "newsrag",
        *,
        chroma_url: str = "",
        wait: float = 0.0,
    ) -> bool:
        """Delete the index called ``collection`` at ``index_dir`` (or on the Chroma server
        ``chroma_url``, for every client of it) and its local keyword index; False if there was
        none. Takes the write lock (waiting up to ``wait`` seconds for another writer)."""
        folder = Path(index_dir).expanduser().absolute()
        location = chroma_url or str(folder)
        client = open_client(folder, create=True, chroma_url=chroma_url)
        dropped = False
        with write_lock(folder, location, wait), storage_errors(location):
            names = {c.name for c in client.list_collections()}
            for suffix in ("_articles", "_chunks"):
                if collection + suffix in names:
                    client.delete_collection(collection + suffix)
                    dropped = True
            keyword = keyword_folder(folder, collection)
            if keyword.is_dir():
                shutil.rmtree(keyword)
        return dropped

    def ingest(
        self, paths: Iterable[str | Path], progress: Callable[[int], Progress] | None = None
    ) -> IngestReport:
        """Read articles under ``paths`` and index what is new or changed."""
        max_bytes = int(self.settings.max_article_mb * 1_000_000)
        return self._ingest(load_paths(paths, max_bytes), progress)

    def ingest_articles(self, articles: Iterable[Article]) -> IngestReport:
        """Index already-built Article records (for callers with their own loaders)."""
        return self._ingest(Loaded(tuple(articles), (), 0))

    def _ingest(
        self, loaded: Loaded, progress: Callable[[int], Progress] | None = None
    ) -> IngestReport:
        rows: list[KeywordRow] = []  # made on the writer thread, group by group
        with self.writing():
            return ingest(
                loaded,
                self.store,
                self.embedder,
                self.chunker,
                progress,
                on_commit=lambda written, generation: self.keyword.apply(
                    written, (), generation, rows
                ),
                on_group=lambda chunks: rows.extend(self.keyword.rows(chunks)),
            )

    def writing(self) -> AbstractContextManager[None]:
        """Hold the index's write lock (waiting up to ``settings.lock_wait`` seconds)."""
        s = self.settings
        return write_lock(s.index_dir, s.location, s.lock_wait)

    def search(
        self,
        query: str,
        k: int | None = None,
        *,
        mode: str | None = None,
        filters: SearchFilters | None = None,
        as_of: str | date | None = "today",
    ) -> list[Hit]:
        """The ``k`` best passages for ``query`` (default ``settings.top_k``), best first.

        ``mode`` is hybrid (default), dense or keyword; ``filters`` limit sources and dates;
        ``as_of`` (default today; None for no time preference) is the date the question is
        asked on, so "last week" and recency are read from it.
        """
        return self.retriever.search(
            query,
            k or self.settings.top_k,
            mode=cast(Mode, mode or self.settings.search_mode),
            filters=filters,
            as_of=parse_day(as_of, "as_of"),
        )

    def article(self, article_id: str) -> Article:
        return self.store.article(article_id)

    def articles(self) -> list[ArticleInfo]:
        """Every indexed article, newest first."""
        return self.store.list_articles()

    def delete(self, article_id: str) -> None:
        self.store.article(article_id)  # raises ArticleNotFoundError before anything changes
        with self.writing():
            generation = self.store.begin_write()
            self.store.delete(article_id, generation)
            self.keyword.apply((), (article_id,), generation)
            self.store.end_write(generation)

    def stats(self) -> IndexStats:
        infos = self.store.list_articles()
        sources: dict[str, int] = {}
        for info in infos:
            if info.source:
                sources[info.source] = sources.get(info.source, 0) + 1
        dates = sorted(i.published for i in infos if i.published)
        build = self.store.build
        return IndexStats(
            articles=len(infos),
            chunks=self.store.counts()[1],
            embedding_model=build.embedding_model,
            embedding_dimension=build.embedding_dimension,
            chunk_size=build.chunk_size,
            chunk_overlap=build.chunk_overlap,
            index=self.store.location,
            collection=self.settings.collection,
            sources=dict(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))),
            oldest=dates[0] if dates else None,
            newest=dates[-1] if dates else None,
            chunk_header=build.chunk_header,
            encoder=build.encoder,
            encoder_version=build.encoder_version,
            encoder_weight_bits=build.encoder_weight_bits,
        )
