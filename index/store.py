"""The Chroma store: a chunks collection (one record per passage) and an articles collection
(one record per article, written last, so an article counts as indexed only when all its chunks
are). The chunks collection's metadata records how the index was built."""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import chromadb
import httpx
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.client import Client as ChromaClient
from chromadb.api.models.Collection import Collection
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.api.types import Where
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError
from filelock import FileLock

from index.attribution import statement_rows, statements_from_rows
from index.config import ChromaServer
from index.errors import (
    ArticleNotFoundError,
    ChromaServerError,
    DiskFullError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexReadOnlyError,
    NewsragError,
)
from index.lock import disk_full_error, read_only_error, storage_error
from index.metadata import date_as_int
from index.onnx_encoder import ONNX_ENCODERS, int8_weight_bits, recipe_version
from index.records import Article, ArticleInfo, Chunk

SCHEMA_VERSION = 1
T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")
WRITE_BATCH = 500  # Chroma recommends hundreds of records per write
OPEN_LOCK_NAME = "newsrag-open.lock"  # held while a writer starts embedded Chroma
# A passage's text, and an article's, is stored in its metadata, not as Chroma's document:
# Chroma's local store builds a trigram full-text index of every document (even with FTS turned
# off in the collection's schema), which newsrag never queries (bm25s does keyword search) and
# which took over half of the ingest's write time. Indexes written before keep their documents;
# reads take either.
TEXT_KEY = "text"
# A passage's metadata holds what filters need as keys of their own (article_id, source,
# published_int) and everything else packed into one JSON value: Chroma's local store writes a
# row and index entries per metadata key, and a dozen keys cost as much as the vectors' index.
# Passages written before (one key per field) still read.
PASSAGE_KEY = "passage"


def open_client(index_dir: Path, *, create: bool, chroma_url: str = "") -> ClientAPI:
    """A Chroma client with telemetry off: of the server at ``chroma_url`` when it is set
    (ChromaServerError when it does not answer), else embedded at ``index_dir``."""
    if chroma_url:
        return _server_client(ChromaServer.parse(chroma_url))
    if not create and not index_dir.is_dir():
        raise IndexNotFoundError(
            f"No index at {index_dir} — run 'newsrag ingest PATH --index {index_dir}' first."
        )
    location = str(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(exc, location, index_dir) from exc
    with storage_errors(location):
        if not create:
            return _embedded_client(location)
        # two processes creating one new index at once would both create Chroma's tables
        # ("table collections already exists"): they start Chroma one at a time
        try:
            creating = FileLock(str(index_dir / OPEN_LOCK_NAME))
            with creating:
                return _embedded_client(location)
        except OSError as exc:
            raise storage_error(exc, location, index_dir) from exc


def _embedded_client(location: str) -> ClientAPI:
    return chromadb.PersistentClient(
        path=location, settings=ChromaSettings(anonymized_telemetry=False)
    )


def forget_embedded(index_dir: Path) -> None:
    """Make the next client of ``index_dir`` start a new embedded Chroma instead of sharing
    the one this process already runs for it (chromadb keeps one per folder)."""
    SharedSystemClient._identifier_to_system.pop(str(index_dir), None)
    SharedSystemClient._identifier_to_refcount.pop(str(index_dir), None)


def _server_client(server: ChromaServer) -> ClientAPI:
    try:
        return chromadb.HttpClient(
            host=server.host,
            port=server.port,
            ssl=server.ssl,
            settings=ChromaSettings(anonymized_telemetry=False),
        )
    except ValueError as exc:
        # chromadb turns a failed first request into ValueError; the real cause is its context
        cause = exc.__context__
        if isinstance(cause, httpx.TransportError):
            raise ChromaServerError(
                f"Cannot reach the Chroma server at {server.url} ({_reason(cause)}) — start it "
                f"with 'chroma run --path DIR --port {server.port}' or fix --chroma-url / "
                "NEWSRAG_CHROMA_URL."
            ) from exc
        raise ChromaServerError(
            f"The server at {server.url} did not answer as a Chroma server "
            f"({_reason(cause or exc)}) — point --chroma-url / NEWSRAG_CHROMA_URL at a Chroma "
            f"1.x server ('chroma run --path DIR --port {server.port}')."
        ) from exc


def location_option(location: str) -> str:
    """The command-line option that points at ``location`` (a server URL or an index folder)."""
    return f"--chroma-url {location}" if _is_url(location) else f"--index {location}"


@contextmanager
def server_errors(location: str) -> Iterator[None]:
    """Report a Chroma server at ``location`` that goes away as ChromaServerError."""
    try:
        yield
    except httpx.TransportError as exc:
        if not _is_url(location):
            raise
        port = ChromaServer.parse(location).port
        raise ChromaServerError(
            f"Lost the Chroma server at {location} ({_reason(exc)}) — start it again (e.g. "
            f"'chroma run --path DIR --port {port}') and rerun the command; an interrupted "
            "ingest keeps the articles it committed and writes the rest."
        ) from exc


@contextmanager
def storage_errors(location: str) -> Iterator[None]:
    """Report a Chroma server that goes away (ChromaServerError), a read-only index
    (IndexReadOnlyError) and a full disk (DiskFullError) with their fixes."""
    with server_errors(location):
        try:
            yield
        except ChromaError as exc:
            translated = _storage_error(str(exc), location)
            if translated is None:
                raise
            raise translated from exc


def _storage_error(message: str, location: str) -> NewsragError | None:
    """The newsrag error for a Chroma error message, or None when it is not about storage."""
    text = message.lower()
    folder = Path(location) if not _is_url(location) else None
    if "readonly database" in text or "read-only file system" in text:
        if folder is None:
            return IndexReadOnlyError(
                f"The Chroma server at {location} cannot write its database ({_reason_of(text)})"
                " — give 'chroma run' a writable --path and run the command again."
            )
        return read_only_error(location, folder, _reason_of(text))
    if "disk is full" in text or "no space left" in text:
        if folder is None:
            return DiskFullError(
                f"The Chroma server at {location} ran out of disk space ({_reason_of(text)}) — "
                "free space on the server's disk and run the same command again: articles "
                "written before this point are kept, and the rest are written then."
            )
        return disk_full_error(location, folder, _reason_of(text))
    return None


def _reason_of(text: str) -> str:
    """'database or disk is full' from Chroma's 'Query error: ... (code: 13) database or disk
    is full'."""
    return re.sub(r"^.*\(code: \d+\)\s*", "", text).strip() or text


def _server_call(
    method: Callable[Concatenate[ChromaStore, P], R],
) -> Callable[Concatenate[ChromaStore, P], R]:
    @functools.wraps(method)
    def call(self: ChromaStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.damaged:
            self._replace_client()
        try:
            with self.gate.reading(), storage_errors(self.location):
                return method(self, *args, **kwargs)
        except (DiskFullError, IndexReadOnlyError):
            # an embedded Chroma that failed to write can hang on its next call: the next
            # call (after the user freed space or fixed permissions) starts a fresh one
            self.damaged = not _is_url(self.location)
            raise

    return call


class _Gate:
    """Any number of calls at once, or one reopen of the client with no call under way."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._calls = 0
        self._reopening = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._reopening)
            self._calls += 1
        try:
            yield
        finally:
            with self._cond:
                self._calls -= 1
                self._cond.notify_all()

    @contextmanager
    def alone(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._reopening)
            self._reopening = True
            self._cond.wait_for(lambda: self._calls == 0)
        try:
            yield
        finally:
            with self._cond:
                self._reopening = False
                self._cond.notify_all()


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def _reason(exc: BaseException) -> str:
    """'connection refused' from '[Errno 111] Connection refused', and the like."""
    text = " ".join(re.sub(r"^\[Errno -?\d+\]\s*", "", str(exc)).split()).rstrip(".")
    if not text:
        return type(exc).__name__
    text = text if len(text) <= 120 else text[:117] + "..."
    return text[0].lower() + text[1:]


def _first_generation() -> int:
    """Where a new index's write generation starts: the time in microseconds, so an index
    dropped and built again (perhaps by another machine sharing a Chroma server) never reuses a
    generation that a keyword index elsewhere still records."""
    return time.time_ns() // 1000


@dataclass(frozen=True)
class WriteState:
    """The write journal of an index: its generation, whether a write is under way (or died
    under way), and the articles that write was committing."""

    generation: int
    writing: bool = False
    pending: tuple[str, ...] = ()

    @property
    def uncommitted(self) -> frozenset[str]:
        """Articles whose passages may be half-written: readers leave them out."""
        return frozenset(self.pending) if self.writing else frozenset()


@dataclass(frozen=True)
class BuildInfo:
    """How an index was built; stored in the chunks collection's metadata."""

    embedding_model: str
    embedding_dimension: int
    chunk_size: int
    chunk_overlap: int
    chunk_header: bool = False  # title and date embedded and keyword-indexed with each passage
    encoder: str = "float32"  # how the model ran (index/config.ENCODERS); older indexes: float32
    # the ONNX export recipe of the encoder (index/onnx_encoder.EXPORT_VERSION), 0 for torch;
    # ONNX indexes from before it was recorded were built by recipe 1
    encoder_version: int = 0
    # onnx-int8's weight width where the index was built (index/onnx_encoder.weight_bits): 8,
    # or 7 on x86 without VNNI; 0 for the other encoders and int8 indexes from before it was
    # recorded
    encoder_weight_bits: int = 0

    def as_metadata(self) -> dict[str, Any]:
        return {
            "newsrag_schema": SCHEMA_VERSION,
            "embedding_model": self.embedding_model,
            "embedding_dimension": self.embedding_dimension,
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
            "chunk_header": self.chunk_header,
            "encoder": self.encoder,
            "encoder_version": self.encoder_version,
            "encoder_weight_bits": self.encoder_weight_bits,
        }

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any]) -> BuildInfo:
        encoder = str(meta.get("encoder", "float32"))
        return cls(
            str(meta["embedding_model"]),
            int(meta["embedding_dimension"]),
            int(meta["chunk_size"]),
            int(meta["chunk_overlap"]),
            bool(meta.get("chunk_header", False)),
            encoder,
            int(meta.get("encoder_version", 1 if encoder in ONNX_ENCODERS else 0)),
            int(meta.get("encoder_weight_bits", 0)),
        )


class ChromaStore:
    """Reads and writes one newsrag index inside a Chroma client (embedded or server).

    >>> store = ChromaStore.open(open_client(path, create=True), "newsrag", build, create=True)
    >>> store.write_article(article, chunks, vectors)
    """

    def __init__(
        self,
        client: ClientAPI,
        chunks: Collection,
        articles: Collection,
        build: BuildInfo,
        location: str,
    ) -> None:
        self.client = client
        self.chunks = chunks
        self.articles = articles
        self.build = build
        self.location = location
        self.gate = _Gate()
        self.damaged = False  # a write failed for lack of space or permission
        self._seen: tuple[int, bool] | None = None  # the journal this process's client reflects

    @classmethod
    def read_build(cls, client: ClientAPI, name: str) -> BuildInfo | None:
        """The build info of the index called ``name``, or None when there is no such index."""
        names = {c.name for c in client.list_collections()}
        if f"{name}_chunks" not in names or f"{name}_articles" not in names:
            return None
        meta = client.get_collection(f"{name}_chunks", embedding_function=None).metadata or {}
        return BuildInfo.from_metadata(meta)

    @classmethod
    def open(
        cls, client: ClientAPI, name: str, build: BuildInfo, *, create: bool, location: str
    ) -> ChromaStore:
        """Open (or with ``create``, make) the index; its build must match ``build``."""
        with storage_errors(location):
            existing = cls.read_build(client, name)
            if existing is None and not create:
                raise IndexNotFoundError(
                    f"No newsrag index {name!r} at {location} — run 'newsrag ingest PATH "
                    f"{location_option(location)}' first."
                )
            if existing is not None:
                check_build(existing, build, location, chunking=create)
                build = existing
            config: Any = {"hnsw": {"space": "cosine"}}
            chunks = client.get_or_create_collection(
                f"{name}_chunks",
                metadata=build.as_metadata(),
                configuration=config,
                embedding_function=None,
            )
            articles = client.get_or_create_collection(  # an existing one keeps its metadata
                f"{name}_articles",
                metadata={"newsrag_schema": SCHEMA_VERSION, "generation": _first_generation()},
                configuration=config,
                embedding_function=None,
            )
        store = cls(client, chunks, articles, build, location)
        store.follow(store.write_state())
        return store

    # -- the write journal: generation, writing flag and pending ids --------------------------
    # Every write bumps the generation first (so derived indexes can tell they are stale) and
    # sets ``writing``; each group of articles is named in ``pending`` before its passages are
    # written, and an article record is written only after all of its passages (the commit
    # point). A write that dies leaves ``writing`` set: readers skip the pending articles, and
    # the next write deletes the passages of any pending article that never got its record.

    @_server_call
    def write_state(self) -> WriteState:
        """The journal as stored now (read fresh: another process may be writing)."""
        meta = self.client.get_collection(self.articles.name, embedding_function=None).metadata
        meta = meta or {}
        pending = json.loads(str(meta.get("pending") or "[]"))
        return WriteState(
            int(meta.get("generation", 0)), bool(meta.get("writing", False)), tuple(pending)
        )

    def generation(self) -> int:
        """The current write generation."""
        return self.write_state().generation

    def follow(self, state: WriteState) -> None:
        """Catch up with writes made by other processes. An embedded Chroma client keeps the
        vector index it loaded, so once another process has started or finished a write (the
        journal ``state`` differs from the one this client reflects), the client is reopened
        before the next read; calls under way finish first."""
        key = (state.generation, state.writing)
        if self._seen is None or _is_url(self.location):
            self._seen = key
            return
        if key == self._seen:
            return
        with self.gate.alone():
            if key != self._seen:
                self._reopen()
                self._seen = key

    def _reopen(self, *, fresh: bool = False) -> None:
        """A new client of the same index. ``fresh`` leaves the old embedded Chroma behind
        without stopping it (stopping a damaged one can hang) instead of closing it."""
        with storage_errors(self.location):
            if fresh:
                forget_embedded(Path(self.location))
            elif isinstance(self.client, ChromaClient):  # releases its hold on the loaded data
                self.client.close()
            self.client = open_client(Path(self.location), create=False)
            self.chunks = self.client.get_collection(self.chunks.name, embedding_function=None)
            self.articles = self.client.get_collection(self.articles.name, embedding_function=None)

    def _replace_client(self) -> None:
        with self.gate.alone():
            if self.damaged:
                self._reopen(fresh=True)
                self.damaged = False

    @_server_call
    def begin_write(self) -> int:
        """Start a write (the caller holds the write lock): finish off a write that died, bump
        the generation and mark the index as being written. Returns the new generation."""
        state = self.write_state()
        if state.writing:
            self._drop_uncommitted(state.pending)
        generation = state.generation + 1
        self._set_state(generation, writing=True, pending=())
        return generation

    @_server_call
    def end_write(self, generation: int) -> None:
        """Mark the write of ``generation`` finished (derived indexes are updated by then)."""
        self._set_state(generation, writing=False, pending=())

    def _set_state(self, generation: int, *, writing: bool, pending: Sequence[str]) -> None:
        self._seen = (generation, writing)  # this client holds its own writes
        self.articles.modify(
            metadata={
                "newsrag_schema": SCHEMA_VERSION,
                "generation": generation,
                "writing": writing,
                "pending": json.dumps(list(pending)),
            }
        )

    def _drop_uncommitted(self, pending: Sequence[str]) -> None:
        """Delete the passages of ``pending`` articles that have no article record."""
        if not pending:
            return
        committed = set(self.articles.get(ids=list(pending), include=[])["ids"])
        orphans = [article_id for article_id in pending if article_id not in committed]
        for batch in _batches(orphans, WRITE_BATCH):
            self.chunks.delete(where=cast(Where, {"article_id": {"$in": batch}}))

    # -- writing -------------------------------------------------------------------------------

    @_server_call
    def stored_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """content_hash of each already indexed article among ``ids``."""
        found: dict[str, str] = {}
        for batch in _batches(list(ids), WRITE_BATCH):
            got = self.articles.get(ids=batch, include=["metadatas"])
            for article_id, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                found[article_id] = str(meta.get("content_hash", ""))
        return found

    @_server_call
    def write_articles(
        self,
        items: Sequence[tuple[Article, Sequence[Chunk], np.ndarray]],
        generation: int,
        *,
        new: frozenset[str] = frozenset(),
    ) -> None:
        """Replace these articles' passages, then record the articles (the commit point).

        The articles are named as pending first and any older record of theirs is removed, so
        until this returns an article is either not indexed at all or indexed in full. ``new``
        names articles that had no record when the ingest planned (under the write lock): no
        record of theirs is looked for (a costly no-op in Chroma's local store)."""
        ids = [article.id for article, _, _ in items]
        self._set_state(generation, writing=True, pending=ids)
        for batch in _batches(ids, WRITE_BATCH):
            stored = [i for i in batch if i not in new]
            if stored:
                self.articles.delete(ids=stored)  # uncommit the old versions of updated articles
            self.chunks.delete(where=cast(Where, {"article_id": {"$in": batch}}))
        records = [
            (c, v) for _, chunks, vectors in items for c, v in zip(chunks, vectors, strict=True)
        ]
        for batch_records in _batches(records, WRITE_BATCH):
            self.chunks.upsert(
                ids=[c.id for c, _ in batch_records],
                embeddings=np.stack([v for _, v in batch_records]),
                metadatas=[_chunk_metadata(c) for c, _ in batch_records],
            )
        for batch_items in _batches(list(items), WRITE_BATCH):
            self.articles.upsert(
                ids=[a.id for a, _, _ in batch_items],
                embeddings=np.stack([_mean_vector(v) for _, _, v in batch_items]),
                metadatas=[_article_metadata(a, len(c)) for a, c, _ in batch_items],
            )

    @_server_call
    def delete(self, article_id: str, generation: int) -> None:
        if not self.articles.get(ids=[article_id], include=[])["ids"]:
            raise ArticleNotFoundError(
                f"No article with id {article_id!r} in {self.location} — see 'newsrag list "
                f"{location_option(self.location)}' for the ids."
            )
        self._set_state(generation, writing=True, pending=[article_id])
        self.articles.delete(ids=[article_id])  # uncommit first, then remove the passages
        self.chunks.delete(where={"article_id": article_id})

    # -- reading -------------------------------------------------------------------------------

    @_server_call
    def nearest(
        self, vector: np.ndarray, n: int, where: Mapping[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """The ``n`` chunk ids nearest to ``vector`` with their cosine similarity, best first.
        (Chroma answers an empty collection with no ids; counting first cost 7 ms a query at
        35,741 passages on 2 AVX2 cores.)"""
        if n < 1:
            return []
        result = self.chunks.query(
            query_embeddings=[vector],
            n_results=n,
            where=dict(where) if where else None,
            include=["distances"],
        )
        dists = (result["distances"] or [[]])[0]
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(result["ids"][0], dists, strict=True)]

    @_server_call
    def get_chunks(self, ids: Sequence[str]) -> dict[str, tuple[Chunk, np.ndarray]]:
        """The chunks called ``ids`` with their stored vectors (missing ids are left out)."""
        if not ids:
            return {}
        got = self.chunks.get(ids=list(ids), include=["documents", "metadatas", "embeddings"])
        vectors = got["embeddings"] if got["embeddings"] is not None else []
        return {
            cid: (_chunk_from(cid, doc, meta), np.asarray(vec, dtype=np.float32))
            for cid, doc, meta, vec in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], vectors, strict=True
            )
        }

    def iter_chunks(self) -> Iterator[Chunk]:
        """Every stored chunk (for rebuilding derived indexes)."""
        with self.gate.reading(), storage_errors(self.location):
            total = self.chunks.count()
            for offset in range(0, total, 5000):
                got = self.chunks.get(include=["documents", "metadatas"], limit=5000, offset=offset)
                for cid, doc, meta in zip(
                    got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
                ):
                    yield _chunk_from(cid, doc, meta)

    @_server_call
    def article(self, article_id: str) -> Article:
        got = self.articles.get(ids=[article_id], include=["documents", "metadatas"])
        if not got["ids"]:
            raise ArticleNotFoundError(
                f"No article with id {article_id!r} in {self.location} — see 'newsrag list "
                f"{location_option(self.location)}' for the ids."
            )
        meta = (got["metadatas"] or [{}])[0]
        text = str(meta.get(TEXT_KEY) or (got["documents"] or [""])[0] or "")
        return Article(
            article_id,
            str(meta.get("title", "")),
            text,
            _opt(meta, "source"),
            _opt(meta, "author"),
            _opt(meta, "published"),
            _opt(meta, "url"),
            pages=tuple(json.loads(str(meta["pages"]))) if meta.get("pages") else (),
        )

    @_server_call
    def list_articles(self) -> list[ArticleInfo]:
        infos = [
            ArticleInfo(
                aid,
                str(meta.get("title", "")),
                _opt(meta, "source"),
                _opt(meta, "published"),
                _opt(meta, "url"),
                int(meta.get("chunks", 0)),
            )
            for aid, meta in self._article_metadatas()
        ]
        return sorted(infos, key=lambda a: (a.published or "", a.id), reverse=True)

    @_server_call
    def counts(self) -> tuple[int, int]:
        """(articles, chunks)."""
        return self.articles.count(), self.chunks.count()

    def _article_metadatas(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        total = self.articles.count()
        for offset in range(0, total, WRITE_BATCH):
            got = self.articles.get(include=["metadatas"], limit=WRITE_BATCH, offset=offset)
            yield from zip(got["ids"], got["metadatas"] or [], strict=True)


def check_build(stored: BuildInfo, wanted: BuildInfo, location: str, *, chunking: bool) -> None:
    """Raise IndexMismatchError when ``wanted`` cannot use an index built as ``stored``.

    The chunk settings only matter when writing (``chunking``); any model difference always does.
    """
    rebuild = f"newsrag ingest PATH {location_option(location)} --rebuild"
    if stored.embedding_model != wanted.embedding_model:
        raise IndexMismatchError(
            f"The index at {location} was built with embedding model {stored.embedding_model!r}, "
            f"but {wanted.embedding_model!r} is configured. Use --embedding-model "
            f"{stored.embedding_model!r} (or NEWSRAG_EMBEDDING_MODEL), or rebuild the index "
            f"with the new model: {rebuild} --embedding-model {wanted.embedding_model!r}"
        )
    if chunking and (stored.chunk_size, stored.chunk_overlap, stored.chunk_header) != (
        wanted.chunk_size,
        wanted.chunk_overlap,
        wanted.chunk_header,
    ):
        raise IndexMismatchError(
            f"The index at {location} was built with chunk size {stored.chunk_size}, overlap "
            f"{stored.chunk_overlap} and chunk headers {_on_off(stored.chunk_header)}, but "
            f"{wanted.chunk_size}/{wanted.chunk_overlap} with headers "
            f"{_on_off(wanted.chunk_header)} is configured. Use the stored settings, or "
            f"rebuild: {rebuild}"
        )


def encoder_warning(
    stored: BuildInfo, encoder: str, location: str, *, given: bool, bits: int | None = None
) -> str | None:
    """The warning when ``encoder`` differs from the one that built the index, else None.
    ``bits``: the int8 weight width here (default: :func:`int8_weight_bits` on this CPU).

    Not an error: bf16 and float32 vectors of one model agree to cosine >= 0.9999, so they
    can be mixed. An index keeps its encoder for queries and later ingests (the configured one
    only builds new indexes); only an embedder passed in (``given``) overrides it.
    """
    if stored.encoder == encoder:
        if stored.encoder_version == recipe_version(encoder):
            bits = int8_weight_bits(encoder) if bits is None else bits
            if stored.encoder_weight_bits in (0, bits):
                return None
            return (
                f"The index at {location} was built with {stored.encoder_weight_bits}-bit "
                f"{encoder} weights on another CPU; this one runs {bits}-bit ones (see "
                "'newsrag stats'), whose vectors differ slightly (cosine about 0.99). Search "
                "works across both; to re-embed everything on this machine: newsrag ingest "
                f"PATH {location_option(location)} --rebuild"
            )
        return (
            f"The index at {location} was built by an earlier {encoder} recipe "
            f"({stored.encoder_version}); new passages and questions are embedded by recipe "
            f"{recipe_version(encoder)}, whose vectors differ slightly (cosine about 0.995). To "
            f"re-embed everything with it: newsrag ingest PATH {location_option(location)} "
            "--rebuild"
        )
    if given:
        return (
            f"The index at {location} was built with the {stored.encoder} encoder; embedding "
            f"with the given {encoder} embedder (near-identical vectors of the same model)."
        )
    return (
        f"The index at {location} was built with the {stored.encoder} encoder and keeps it "
        f"({encoder} is configured). To switch, rebuild: newsrag ingest PATH "
        f"{location_option(location)} --rebuild --encoder {encoder}"
    )


def _on_off(flag: bool) -> str:
    return "on" if flag else "off"


def _batches(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _mean_vector(vectors: np.ndarray) -> np.ndarray:
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm else mean


def _drop_none(meta: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in meta.items() if v is not None}


def _chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    passage = _drop_none(
        {
            TEXT_KEY: chunk.text,
            "index": chunk.index,
            "start": chunk.start,
            "end": chunk.end,
            "title": chunk.title,
            "published": chunk.published,
            "url": chunk.url,
            "page": chunk.page,
            "statements": None if chunk.statements is None else statement_rows(chunk.statements),
        }
    )
    return _drop_none(
        {
            "article_id": chunk.article_id,
            "source": chunk.source,
            "published_int": date_as_int(chunk.published),
            PASSAGE_KEY: json.dumps(passage, ensure_ascii=False),
        }
    )


def chunk_fields(meta: Mapping[str, Any]) -> dict[str, Any]:
    """A passage's stored metadata with its packed fields unpacked (``text``, ``start``, ...);
    passages written before packing read as they are."""
    if PASSAGE_KEY not in meta:
        return dict(meta)
    fields = {k: v for k, v in meta.items() if k != PASSAGE_KEY}
    fields.update(json.loads(str(meta[PASSAGE_KEY])))
    return fields


def _article_metadata(article: Article, chunks: int) -> dict[str, Any]:
    return _drop_none(
        {
            "title": article.title,
            "source": article.source,
            "author": article.author,
            "published": article.published,
            "published_int": date_as_int(article.published),
            "url": article.url,
            "pages": json.dumps(article.pages) if article.pages else None,
            "content_hash": article.content_hash(),
            "chunks": chunks,
            TEXT_KEY: article.text,
        }
    )


def _opt(meta: Mapping[str, Any], key: str) -> str | None:
    value = meta.get(key)
    return None if value is None else str(value)


def _chunk_from(chunk_id: str, text: str | None, stored: Mapping[str, Any]) -> Chunk:
    meta = chunk_fields(stored)
    statements = meta.get("statements")
    if isinstance(statements, str):  # a JSON string of its own before passages were packed
        statements = json.loads(statements)
    return Chunk(
        id=chunk_id,
        article_id=str(meta["article_id"]),
        index=int(meta.get("index", 0)),
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=str(meta.get(TEXT_KEY) or text or ""),
        title=str(meta.get("title", "")),
        source=_opt(meta, "source"),
        published=_opt(meta, "published"),
        url=_opt(meta, "url"),
        page=int(meta["page"]) if meta.get("page") is not None else None,
        statements=None if statements is None else statements_from_rows(statements),
    )
