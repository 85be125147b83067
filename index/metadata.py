"""Normalising article metadata from any input format: dates, authors, sources and stable ids."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlparse

from dateutil import parser as date_parser

from index.records import Article, Problem

TEXT_KEYS = ("text", "body", "content")
DATE_KEYS = ("published", "publish_date", "published_at", "date")
ID_KEYS = ("id", "doc_id")
_DATE_DEFAULT = datetime(2000, 1, 1)


def parse_date(value: object) -> str | None:
    """``YYYY-MM-DD`` for a date in any common format; ``None`` if it cannot be read as a date."""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    if not isinstance(value, str) or not value.strip():
        return None
    raw = value.strip()
    # 14.01.2026 and 14/01/2026 are day-first in news bylines; ISO and "2025/08/28" are year-first.
    dayfirst = re.match(r"^\d{1,2}[./]\d{1,2}[./]\d{4}", raw) is not None
    try:
        parsed = date_parser.parse(raw, dayfirst=dayfirst, default=_DATE_DEFAULT)
    except (ValueError, OverflowError):
        return None
    return parsed.strftime("%Y-%m-%d")


def join_authors(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list | tuple):
        names = [str(v).strip() for v in value if str(v).strip()]
        return ", ".join(names) or None
    return None


def source_from_url(url: str | None) -> str | None:
    """``usatoday.com`` for ``https://www.usatoday.com/story/...``."""
    if not url:
        return None
    host = urlparse(url).hostname or ""
    return host.removeprefix("www.") or None


def stable_id(*parts: str | None) -> str:
    """A 16-hex-digit id derived from content, the same on every run."""
    digest = hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()
    return digest[:16]


def clean_text(text: str) -> str:
    """Unix newlines, no trailing spaces on lines, no surrounding blank lines."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def first(record: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = record.get(key)
        if value not in (None, "", []):
            return value
    return None


def article_from_record(
    record: object, path: str, line: int | None
) -> tuple[Article | None, list[Problem]]:
    """Build an Article from a JSON-like record; the problems say why not, or what was guessed."""
    if not isinstance(record, Mapping):
        kind = type(record).__name__
        return None, [
            Problem(
                path,
                f"expected a JSON object, found {kind}",
                "write one article object per line (JSONL) or a list of objects (JSON)",
                line,
            )
        ]
    text_value = first(record, TEXT_KEYS)
    if not isinstance(text_value, str) or not clean_text(text_value):
        return None, [
            Problem(
                path, "record has no text", "give it a non-empty 'text' (or 'body') field", line
            )
        ]
    text = clean_text(text_value)
    problems: list[Problem] = []
    title = str(record.get("title") or "").strip()
    if not title:
        title = text.split("\n", 1)[0][:120]
        problems.append(
            Problem(
                path,
                "record has no title; used its first line",
                "add a 'title' field",
                line,
                skipped=False,
            )
        )
    raw_date = first(record, DATE_KEYS)
    published = parse_date(raw_date)
    if raw_date is not None and published is None:
        problems.append(
            Problem(
                path,
                f"date {raw_date!r} is not a date; stored without one",
                "use a date such as 2026-01-14",
                line,
                skipped=False,
            )
        )
    url = str(record["url"]).strip() if record.get("url") else None
    source = str(record["source"]).strip() if record.get("source") else source_from_url(url)
    author = join_authors(first(record, ("author", "authors")))
    raw_id = first(record, ID_KEYS)
    if raw_id is not None:
        article_id = str(raw_id).strip()
    else:  # the URL names the article across edits; without one, the content does
        article_id = stable_id(url) if url else stable_id(title, text)
    origin = f"{path}:{line}" if line is not None else path
    article = Article(article_id, title, text, source, author, published, url, origin)
    return article, problems
