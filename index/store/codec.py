"""The metadata codec: how passages and articles are stored as Chroma metadata, and read back.

A passage's text, and an article's, is stored in its metadata, not as Chroma's document:
Chroma's local store builds a trigram full-text index of every document (even with FTS turned
off in the collection's schema), which newsrag never queries (bm25s does keyword search) and
which took over half of the ingest's write time. Indexes written before keep their documents;
reads take either.

A passage's metadata holds what filters need as keys of their own (article_id, source,
published_int) and everything else packed into one JSON value: Chroma's local store writes a
row and index entries per metadata key, and a dozen keys cost as much as the vectors' index.
Passages written before (one key per field) still read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from index.attribution import statement_rows, statements_from_rows
from index.records import Article, ArticleInfo, Chunk
from index.timeframe import day_number

TEXT_KEY = "text"
PASSAGE_KEY = "passage"


def mean_vector(vectors: np.ndarray) -> np.ndarray:
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm else mean


def _drop_none(meta: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in meta.items() if v is not None}


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
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
            "published_int": day_number(chunk.published or None),
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


def article_metadata(article: Article, chunks: int) -> dict[str, Any]:
    return _drop_none(
        {
            "title": article.title,
            "source": article.source,
            "author": article.author,
            "published": article.published,
            "published_int": day_number(article.published or None),
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


def chunk_from(chunk_id: str, text: str | None, stored: Mapping[str, Any]) -> Chunk:
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


def article_from(article_id: str, meta: Mapping[str, Any], document: str | None) -> Article:
    """The article stored as ``meta`` (and, in older indexes, ``document``)."""
    return Article(
        article_id,
        str(meta.get("title", "")),
        str(meta.get(TEXT_KEY) or document or ""),
        _opt(meta, "source"),
        _opt(meta, "author"),
        _opt(meta, "published"),
        _opt(meta, "url"),
        pages=tuple(json.loads(str(meta["pages"]))) if meta.get("pages") else (),
    )


def article_info(article_id: str, meta: Mapping[str, Any]) -> ArticleInfo:
    return ArticleInfo(
        article_id,
        str(meta.get("title", "")),
        _opt(meta, "source"),
        _opt(meta, "published"),
        _opt(meta, "url"),
        int(meta.get("chunks", 0)),
    )
