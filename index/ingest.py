"""The ingest pipeline: loaded articles -> new/updated/unchanged -> chunks with their speakers ->
vectors -> store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from index.attribution import with_statements
from index.chunking import Chunker
from index.embeddings import Embedder
from index.loaders import Loaded
from index.records import Article, Chunk, IngestReport, Problem
from index.store import ChromaStore

ARTICLES_PER_COMMIT = 64  # a crash loses at most this many articles' work
CHUNKS_PER_COMMIT = 256  # and a group is closed at this many chunks, so writes overlap embedding

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Plan:
    """Which articles of an input to write, and what became of the rest."""

    to_write: tuple[Article, ...]
    new_ids: frozenset[str]
    unchanged: tuple[str, ...]
    duplicates: tuple[Problem, ...]


def plan(articles: Sequence[Article], store: ChromaStore) -> Plan:
    """Sort input articles into new, updated and unchanged; report repeated ids."""
    first_seen: dict[str, Article] = {}
    duplicates: list[Problem] = []
    for article in articles:
        seen = first_seen.get(article.id)
        if seen is None:
            first_seen[article.id] = article
            continue
        path, _, line = (
            article.origin.rpartition(":") if ":" in article.origin else (article.origin, "", "")
        )
        duplicates.append(
            Problem(
                path or article.origin,
                f"duplicate article id {article.id!r} (first seen at {seen.origin}); skipped",
                "give every article a unique id",
                int(line) if line.isdigit() else None,
            )
        )
    stored = store.stored_hashes(list(first_seen))
    to_write = [a for a in first_seen.values() if stored.get(a.id) != a.content_hash()]
    unchanged = tuple(a.id for a in first_seen.values() if stored.get(a.id) == a.content_hash())
    new_ids = frozenset(a.id for a in to_write if a.id not in stored)
    return Plan(tuple(to_write), new_ids, unchanged, tuple(duplicates))


def ingest(
    loaded: Loaded,
    store: ChromaStore,
    embedder: Embedder,
    chunker: Chunker,
    progress: Callable[[int], Progress] | None = None,
    on_commit: Callable[[Sequence[tuple[str, Sequence[Chunk]]], int], object] | None = None,
    on_group: Callable[[Sequence[Chunk]], object] | None = None,
) -> IngestReport:
    """Write what changed in ``loaded`` to ``store`` (the caller holds the write lock).

    ``progress(total_chunks)`` returns a callback that is told how many chunks each step
    embedded. ``on_commit(written, generation)`` is called once at the end with every
    (article id, chunks) written, so derived indexes update in bulk; ``on_group(chunks)`` is
    called after each group is written, in order, on the writer thread, so they can prepare
    their part while the model embeds the next group. Articles are committed in
    groups: a crash loses at most the group being written, and the next ingest finishes it
    (an ingest with nothing new still repairs a write that died)."""
    started = time.perf_counter()
    work = plan(loaded.articles, store)
    # who said what is found on the writer thread, group by group, while the model embeds
    chunked = [(article, chunker.chunk(article)) for article in work.to_write]
    written = 0
    if chunked or store.write_state().writing:
        generation = store.begin_write()
        written = _write(
            chunked, store, embedder, chunker, generation, progress, on_group, work.new_ids
        )
        if on_commit is not None:
            on_commit([(article.id, chunks) for article, chunks in chunked], generation)
        store.end_write(generation)
    written_ids = [a.id for a in work.to_write]
    return IngestReport(
        added=tuple(i for i in written_ids if i in work.new_ids),
        updated=tuple(i for i in written_ids if i not in work.new_ids),
        unchanged=work.unchanged,
        problems=loaded.problems + work.duplicates,
        chunks_written=written,
        ignored_files=loaded.ignored_files,
        seconds=time.perf_counter() - started,
    )


def _write(
    chunked: Sequence[tuple[Article, Sequence[Chunk]]],
    store: ChromaStore,
    embedder: Embedder,
    chunker: Chunker,
    generation: int,
    progress: Callable[[int], Progress] | None,
    on_group: Callable[[Sequence[Chunk]], object] | None = None,
    new: frozenset[str] = frozenset(),
) -> int:
    """Embed and commit ``chunked`` in groups; the number of chunks written (``new``: the
    articles that had no record, see ChromaStore.write_articles).

    A group's speakers are found and it is written to the store by a writer thread while the
    next group is embedded, so that work hides behind the model's; one group at a time is
    written, in order, and a write's error is raised here before the next group is handed
    over. Progress counts chunks as they are embedded."""
    advance = progress(sum(len(c) for _, c in chunked)) if progress else None
    written = 0

    def commit(items: list[tuple[Article, Sequence[Chunk], np.ndarray]], count: int) -> int:
        items = [(a, with_statements(chunks, a.text), v) for a, chunks, v in items]
        store.write_articles(items, generation, new=new)
        if on_group is not None:
            on_group([c for _, chunks, _ in items for c in chunks])
        return count

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsrag-write") as writer:
        pending: Future[int] | None = None
        for group in _groups(chunked):
            texts = [chunker.indexed_text(c) for _, chunks in group for c in chunks]
            vectors = _embed_sorted(embedder, texts)
            items, offset = [], 0
            for article, chunks in group:
                items.append((article, chunks, vectors[offset : offset + len(chunks)]))
                offset += len(chunks)
            if advance:
                advance(offset)
            if pending is not None:
                written += pending.result()
            pending = writer.submit(commit, items, offset)
        if pending is not None:
            written += pending.result()
    return written


def _groups(
    chunked: Sequence[tuple[Article, Sequence[Chunk]]],
) -> Iterator[Sequence[tuple[Article, Sequence[Chunk]]]]:
    """Commit groups: up to ARTICLES_PER_COMMIT articles, closed once they hold
    CHUNKS_PER_COMMIT chunks."""
    start = chunks = 0
    for end, (_, article_chunks) in enumerate(chunked, start=1):
        chunks += len(article_chunks)
        if end - start == ARTICLES_PER_COMMIT or chunks >= CHUNKS_PER_COMMIT:
            yield chunked[start:end]
            start, chunks = end, 0
    if start < len(chunked):
        yield chunked[start:]


def _embed_sorted(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Embed in length order (less padding per batch), returned in input order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors = embedder.embed_documents([texts[i] for i in order])
    result = np.empty_like(vectors)
    result[order] = vectors
    return result
