"""Reading PDF articles (reports, e-papers) with pypdf: text in reading order, page by page.

The article's ``pages`` holds the offset in its text where each page starts, so a passage
knows its page ("p. 3"). A PDF without a text layer (a scan) is skipped with the reason.
"""

from __future__ import annotations

import io
import logging
import re
from datetime import datetime

from index.metadata import clean_text, parse_date
from index.records import Article, Problem

PAGE_BREAK = "\n\n"
_PDF_DATE = re.compile(r"^D?:?(\d{4})(\d{2})?(\d{2})?")
_MIN_CHARS_PER_PAGE = 20  # fewer characters than this on every page: no text layer


def is_pdf(data: bytes) -> bool:
    """True when ``data`` starts like a PDF file."""
    return data[:1024].lstrip().startswith(b"%PDF-")


def pdf_article(
    data: bytes, name: str, article_id: str, fallback_title: str, url: str | None = None
) -> Article | Problem:
    """The article a PDF holds, or the Problem that kept it out. ``name`` is what a report calls
    it (a path or URL); ``article_id`` its id; ``fallback_title`` the title when neither the
    metadata nor the first page gives one."""
    # imported here: only PDFs need it
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings are not the user's
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _unlock(reader):
            return Problem(name, "the PDF is encrypted", "save an unprotected copy and ingest it")
        texts = [clean_text(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        return Problem(name, f"cannot read the PDF ({exc})", "check that it is a complete PDF")
    if not any(len(t) >= _MIN_CHARS_PER_PAGE for t in texts):
        return Problem(
            name,
            f"no text in the PDF ({len(texts)} page(s); a scan without a text layer?)",
            "run OCR on it first (for example 'ocrmypdf in.pdf out.pdf'), then ingest the result",
        )
    text, pages = join_pages(texts)
    title = _meta(info, "title") or _first_line(text) or fallback_title
    return Article(
        id=article_id,
        title=title,
        text=text,
        author=_meta(info, "author"),
        published=_pdf_date(info),
        url=url,
        origin=name,
        pages=pages,
    )


def join_pages(texts: list[str]) -> tuple[str, tuple[int, ...]]:
    """The article text and where each page starts in it (empty pages keep their number)."""
    parts: list[str] = []
    starts: list[int] = []
    at = 0
    for page in texts:
        if parts and page:
            at += len(PAGE_BREAK)
        starts.append(at)
        if page:
            parts.append(page)
            at += len(page)
    return PAGE_BREAK.join(parts), tuple(starts)


def page_at(pages: tuple[int, ...], offset: int) -> int | None:
    """The 1-based page holding character ``offset`` of a text with page starts ``pages``."""
    if not pages:
        return None
    page = 1
    for number, start in enumerate(pages, start=1):
        if start <= offset:
            page = number
    return page


def _unlock(reader: object) -> bool:
    try:
        return bool(reader.decrypt(""))  # type: ignore[attr-defined]
    except (NotImplementedError, ValueError):  # an AES key pypdf cannot use without extras
        return False


def _meta(info: object, key: str) -> str | None:
    value = getattr(info, key, None) if info is not None else None
    value = str(value).strip() if value else ""
    return value or None


def _pdf_date(info: object) -> str | None:
    if info is None:
        return None
    try:
        created = getattr(info, "creation_date", None)
    except ValueError:  # a malformed /CreationDate
        created = None
    if isinstance(created, datetime):
        return created.strftime("%Y-%m-%d")
    raw = getattr(info, "get", lambda _k: None)("/CreationDate")
    match = _PDF_DATE.match(str(raw or ""))
    if match and match.group(2) and match.group(3):
        return parse_date(f"{match.group(1)}-{match.group(2)}-{match.group(3)}")
    return None


def _first_line(text: str) -> str | None:
    for line in text.split("\n"):
        words = line.split()
        if 2 <= len(words) <= 25:
            return " ".join(words)
    return None
