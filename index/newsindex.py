"""NewsIndex: the one object over loaders, chunker, embedder, store and retriever."""

from __future__ import annotations

import contextlib
import shutil
import warnings
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from chromadb.api import ClientAPI

from index.chunking import Chunker
from index.config import Settings
from index.embeddings import Embedder, canonical_model_name, load_embedder
from index.encoders.onnx_encoder import int8_weight_bits, recipe_version
from index.errors import IndexNotFoundError, NewsragError
from index.folders import (
    drop_collections,
    forget_watch,
    keyword_folder,
    remove_unused,
    stories_folder,
)
from index.ingest import Progress, ingest
from index.keyword import KeywordRow, KeywordSync
from index.loaders import Loaded
from index.lock import write_lock
from index.query_adapter import QueryAdapter, resolve
from index.records import Article, ArticleInfo, Copy, Hit, IndexStats, IngestReport
from index.rerank import CrossEncoderReranker
from index.retrieval import Ranking, Reranker, Retriever, SearchFilters, SearchRequest, as_request
from index.sources import match_filters
from index.store import (
    BuildInfo,
    ChromaStore,
    check_build,
    encoder_warning,
    layout,
    location_option,
    open_client,
    server_layout,
    storage_errors,
)
from index.syndication import Stories, collapse

if TYPE_CHECKING:
    from index.fetch import FetchPolicy


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
            keyword_folder(store.data_dir or settings.index_dir, store.name),
            store,
            self.chunker,
        )
        self._embedder = embedder
        self._reranker = reranker
        self._retriever: Retriever | None = None
        self._stories: tuple[tuple[Path, float], Stories] | None = None  # (folder, mtime), groups

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
    def stories(self) -> Stories:
        """The story groups of syndicated copies, read again when another process (a watch)
        changed them."""
        folder = stories_folder(self.store.data_dir or self.settings.index_dir, self.store.name)
        meta = folder / "stories.json"
        stamp = (folder, meta.stat().st_mtime if meta.exists() else 0.0)
        if self._stories is None or self._stories[0] != stamp:
            self._stories = (stamp, Stories.open(folder))
        return self._stories[1]

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
        root = None if settings.chroma_url else settings.index_dir
        folder = layout.data_dir(root, settings.collection) if root else None
        client = client or open_client(
            folder or settings.index_dir,
            create=create,
            chroma_url=settings.chroma_url,
            location=location,
        )
        if root is not None:
            return cls._open_client(client, settings, embedder, create, folder, root)
        with storage_errors(location):
            name = server_layout.read(client, settings.collection).current
        index = cls._open_client(client, settings, embedder, create, None, None, name)
        index.store.follow_layout(None, settings.collection)
        return index

    @classmethod
    def _open_client(
        cls,
        client: ClientAPI,
        settings: Settings,
        embedder: Embedder | None,
        create: bool,
        folder: Path | None,
        root: Path | None,
        name: str | None = None,
    ) -> NewsIndex:
        """The index in ``client`` (embedded: in ``folder`` of the index folder ``root``)
        called ``name`` (default: the collection setting; on a server, a rebuild's name)."""
        location = settings.location
        name = name or settings.collection
        model_name = embedder.name if embedder else canonical_model_name(settings.embedding_model)
        with storage_errors(location, folder):
            stored = ChromaStore.read_build(client, name)
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
            raise IndexNotFoundError.at(location, location_option(location), settings.collection)
        store = ChromaStore.open(
            client,
            name,
            build,
            create=create,
            location=location,
            data_dir=folder,
            root=root,
        )
        return cls(store, settings, embedder)

    @classmethod
    def rebuild(
        cls,
        paths: Iterable[str | Path],
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        progress: Callable[[int], Progress] | None = None,
        fetch: FetchPolicy | None = None,
        feed: bool = False,
    ) -> tuple[NewsIndex, IngestReport]:
        """Build the index anew from the articles under ``paths`` (read as :meth:`ingest`
        reads them) and switch to it; returns the new index and its ingest report.

        An embedded index is built in a new folder beside the one in use (which is never
        read, so a damaged one does not matter): processes reading the index keep answering
        from the old one until the new one is complete, then a pointer file is replaced in
        one atomic rename and they reopen there on their next call. With a Chroma server the
        old collections are dropped first. Holds the write lock throughout."""
        settings = settings or Settings.from_env()
        max_bytes = int(settings.max_article_mb * 1_000_000)
        from index.web import load_inputs

        # a path that does not exist fails before anything
        loaded = load_inputs(paths, max_bytes, fetch, feed=feed)
        forget_watch(settings.index_dir, settings.collection)
        if settings.chroma_url:
            return cls._rebuild_on_server(loaded, settings, embedder, progress)
        root = settings.index_dir
        with write_lock(root, settings.location, settings.lock_wait):
            build = layout.new_build(root, settings.collection)
            try:
                client = open_client(build, create=True, location=settings.location)
                # not following the index folder's pointer until it points here
                index = cls._open_client(client, settings, embedder, True, build, None)
                report = index._ingest(loaded, progress, locked=True)
            except BaseException:
                shutil.rmtree(build, ignore_errors=True)
                raise
            unused = layout.publish(root, settings.collection, build)
            index.store.follow_layout(root)
            remove_unused(root, settings.collection, unused)
        return index, report

    @classmethod
    def _rebuild_on_server(
        cls,
        loaded: Loaded,
        settings: Settings,
        embedder: Embedder | None,
        progress: Callable[[int], Progress] | None,
    ) -> tuple[NewsIndex, IngestReport]:
        """A rebuild on a Chroma server: written under a new name, then the server's pointer
        collection is switched to it (index.store.server_layout)."""
        location, base = settings.location, settings.collection
        client = open_client(settings.index_dir, create=True, chroma_url=settings.chroma_url)
        with write_lock(settings.index_dir, location, settings.lock_wait):
            name = server_layout.new_name(base)
            try:
                index = cls._open_client(client, settings, embedder, True, None, None, name)
                report = index._ingest(loaded, progress, locked=True)
            except BaseException:
                with contextlib.suppress(NewsragError):  # the server may be what failed
                    drop_collections(client, settings.index_dir, name, location)
                raise
            with storage_errors(location):
                unused = server_layout.publish(client, base, name)
            index.store.follow_layout(None, base)
            for old in unused:
                drop_collections(client, settings.index_dir, old, location)
        return index, report

    @staticmethod
    def drop(
        index_dir: str | Path,
        collection: str = "newsrag",
        *,
        chroma_url: str = "",
        wait: float = 0.0,
    ) -> bool:
        """Delete the index called ``collection`` at ``index_dir`` (or on the Chroma server
        ``chroma_url``, for every client of it) with its local keyword index, story groups and
        watch state; False if there was none. Takes the write lock (waiting up to ``wait``
        seconds for another writer)."""
        folder = Path(index_dir).expanduser().absolute()
        location = chroma_url or str(folder)
        client = open_client(folder, create=True, chroma_url=chroma_url)
        with write_lock(folder, location, wait):
            if not chroma_url:
                dropped = drop_collections(client, folder, collection, location)
                dropped = layout.forget(folder, collection) or dropped
                forget_watch(folder, collection)
                return dropped
            with storage_errors(location):
                names = server_layout.names_of(client, collection)
                dropped = server_layout.forget(client, collection)
            for name in names:
                dropped = drop_collections(client, folder, name, location) or dropped
            forget_watch(folder, collection)
        return dropped

    def ingest(
        self,
        paths: Iterable[str | Path],
        progress: Callable[[int], Progress] | None = None,
        *,
        fetch: FetchPolicy | None = None,
        feed: bool = False,
    ) -> IngestReport:
        """Read articles under ``paths`` (files, folders, and URLs of pages, PDFs, feeds and
        sitemaps, fetched under ``fetch``; ``feed``: a page stands for the feed it links) and
        index what is new or changed."""
        from index.web import load_inputs  # httpx and the feed parsers load only when needed

        max_bytes = int(self.settings.max_article_mb * 1_000_000)
        return self._ingest(load_inputs(paths, max_bytes, fetch, feed=feed), progress)

    def ingest_loaded(
        self, loaded: Loaded, progress: Callable[[int], Progress] | None = None
    ) -> IngestReport:
        """Index what a loader read (articles and the problems met reading them)."""
        return self._ingest(loaded, progress)

    def ingest_articles(self, articles: Iterable[Article]) -> IngestReport:
        """Index already-built Article records (for callers with their own loaders)."""
        return self._ingest(Loaded(tuple(articles), (), 0))

    def _ingest(
        self,
        loaded: Loaded,
        progress: Callable[[int], Progress] | None = None,
        *,
        locked: bool = False,
    ) -> IngestReport:
        rows: list[KeywordRow] = []  # made on the writer thread, group by group
        with nullcontext() if locked else self.writing():
            report = ingest(
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
            self.keyword.current()  # checks the saved keyword index: a damaged one is rebuilt
            written = set(report.added) | set(report.updated)
            if written:
                stories = self.stories
                stories.add(
                    (a.id, a.text, Copy(a.id, a.source, a.title, a.url, a.published))
                    for a in loaded.articles
                    if a.id in written
                )
                stories.save()
            return report

    def writing(self) -> AbstractContextManager[None]:
        """Hold the index's write lock (waiting up to ``settings.lock_wait`` seconds)."""
        s = self.settings
        return write_lock(s.index_dir, s.location, s.lock_wait)

    def search(
        self,
        query: str | SearchRequest,
        k: int | None = None,
        *,
        mode: str | None = None,
        filters: SearchFilters | None = None,
        as_of: str | date | None = "today",
    ) -> list[Hit]:
        """The ``k`` best passages for ``query`` (default ``settings.top_k``), best first.

        ``query`` is the text, or a whole :class:`SearchRequest` (then give no other argument).
        ``mode`` is hybrid (default), dense or keyword; ``filters`` limit sources and dates;
        ``as_of`` (default today; None for no time preference) is the date the question is
        asked on, so "last week" and recency are read from it.
        """
        request = as_request(query, k, mode, filters, as_of)
        s = self.settings
        request = request.with_defaults(s.top_k, s.search_mode)
        stories = self.stories
        if not stories.grouped:
            return self.retriever.find(request)
        # a story counts once: look deeper, then keep one article of each story
        k = request.k or s.top_k
        hits = self.retriever.find(replace(request, k=k * 2 + 5))
        return collapse(hits, stories, k)

    def match_filters(
        self, filters: SearchFilters | None
    ) -> tuple[SearchFilters | None, tuple[str, ...]]:
        """``filters`` with their source names as this index spells them ("harbour ledger" ->
        "The Harbour Ledger"), and a notice for each name it does not hold, naming the closest
        ones (see index.sources)."""
        if filters is None or not filters.sources:
            return filters, ()
        return match_filters(filters, (a.source for a in self.articles() if a.source))

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
            stories = self.stories
            if article_id in stories.story:
                stories.remove(article_id)
                stories.save()

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
