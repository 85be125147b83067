"""Typed records that cross module boundaries: articles, chunks, scored hits, ingest outcomes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

ANALYSIS_VERSION = 1  # 1: speakers of quotes and reported speech (index.attribution)


@dataclass(frozen=True)
class Article:
    """One news article as newsrag stores it; ``text`` is what chunks and citations point into.

    >>> Article(id="a1", title="Tram line approved", text="The council voted ...").id
    'a1'
    """

    id: str
    title: str
    text: str
    source: str | None = None
    author: str | None = None
    published: str | None = None  # YYYY-MM-DD
    url: str | None = None
    origin: str = ""  # where it was read from ("file.jsonl:12"); not part of the content
    # where each page starts in ``text`` (PDFs; empty for articles without pages)
    pages: tuple[int, ...] = ()

    def content_hash(self) -> str:
        """A digest of everything stored for the article, to tell unchanged from updated. It
        includes ANALYSIS_VERSION, so articles indexed before a change in what ingest derives
        from them (such as speakers) count as updated and are rewritten on the next ingest."""
        payload: dict[str, Any] = {k: v for k, v in asdict(self).items() if k != "origin"}
        if not self.pages:  # articles without pages hash as they did before pages existed
            payload.pop("pages")
        payload["analysis"] = ANALYSIS_VERSION
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Statement:
    """A sentence of an article in which ``speaker`` speaks: ``article.text[start:end]``.
    ``kind`` is "quote" (inside quotation marks) or "reported" ("Rutte warned that ...")."""

    speaker: str
    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Chunk:
    """A passage of an article: ``text == article.text[start:end]``, with the article's metadata."""

    id: str
    article_id: str
    index: int
    start: int
    end: int
    text: str
    title: str
    source: str | None = None
    published: str | None = None
    url: str | None = None
    # Who speaks in the passage (see index.attribution); None: an index built before newsrag
    # recorded speakers, re-ingest with --force to add them.
    statements: tuple[Statement, ...] | None = field(default=None, compare=False)
    page: int | None = None  # the PDF page the passage starts on (1-based); after statements,
    # so positional Chunk(...) calls written before pages existed keep their meaning


@dataclass(frozen=True)
class Copy:
    """An article of a story that was published more than once (a wire story reprinted, an
    article updated under a new URL): what "also in: ..." names (see index.syndication)."""

    article_id: str
    source: str | None
    title: str
    url: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its 1-based rank. ``score`` is the cosine similarity of passage and
    query (higher is better, comparable across modes); ``relevance`` is what the ranking used
    (fused ranks, date preference, reranker), comparable only within one result list."""

    chunk: Chunk
    score: float
    rank: int
    relevance: float = 0.0
    also_in: tuple[Copy, ...] = ()  # the story's other articles, left out of the results

    def to_dict(self) -> dict[str, Any]:
        """The ``newsrag search --json`` object of one passage."""
        c = self.chunk
        data: dict[str, Any] = {
            "rank": self.rank,
            "score": self.score,
            "relevance": self.relevance,
            "chunk_id": c.id,
            "article_id": c.article_id,
            "title": c.title,
            "source": c.source,
            "published": c.published,
            "url": c.url,
            "start": c.start,
            "end": c.end,
            "passage": c.text,
        }
        if c.page is not None:  # PDFs only, so other passages keep their shape
            data["page"] = c.page
        if self.also_in:  # syndicated stories only
            data["also_in"] = [asdict(copy) for copy in self.also_in]
        return data


@dataclass(frozen=True)
class ArticleInfo:
    """An indexed article without its text, for listings."""

    id: str
    title: str
    source: str | None
    published: str | None
    url: str | None
    chunks: int


@dataclass(frozen=True)
class Problem:
    """Something wrong with one input (a file, or one line of it); a warning if not ``skipped``."""

    path: str
    reason: str
    fix: str
    line: int | None = None
    skipped: bool = True

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def __str__(self) -> str:
        return f"{self.where}: {self.reason} — {self.fix}"


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did: ids added, updated, unchanged, and the inputs skipped or warned on."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    chunks_written: int = 0
    ignored_files: int = 0
    seconds: float = 0.0

    @property
    def skipped(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.skipped)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if not p.skipped)

    def to_dict(self) -> dict[str, object]:
        """The ``newsrag ingest --json`` shape."""
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "skipped": len(self.skipped),
            "chunks_written": self.chunks_written,
            "ignored_files": self.ignored_files,
            "seconds": round(self.seconds, 3),
            "problems": [{**asdict(p), "where": p.where} for p in self.problems],
        }


@dataclass(frozen=True)
class IndexStats:
    """Counts and build settings of an index (``newsrag stats --json``)."""

    articles: int
    chunks: int
    embedding_model: str
    embedding_dimension: int
    chunk_size: int
    chunk_overlap: int
    index: str
    collection: str
    sources: dict[str, int] = field(default_factory=dict)
    oldest: str | None = None
    newest: str | None = None
    chunk_header: bool = False
    encoder: str = "float32"  # how the model ran when the index was built
    encoder_version: int = 0  # the ONNX encoder's export recipe (0 for the torch encoders)
    encoder_weight_bits: int = 0  # onnx-int8's weight width, 8 or 7 (0: another encoder)
