"""Reading article files: .txt/.md (optional YAML front matter), .html, .json and .jsonl.

Each input yields Articles and Problems; one bad file or line never stops the others.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from index.config import DEFAULT_MAX_ARTICLE_MB
from index.errors import IngestError
from index.jsonerrors import json_reason
from index.metadata import article_from_record, clean_text, parse_date, stable_id
from index.records import Article, Problem
from index.safe_input import FRONT_MATTER, lone_surrogate
from index.text_header import read_header

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
SUFFIXES = TEXT_SUFFIXES | {".html", ".htm", ".json", ".jsonl", ".pdf"}
_SNIFF_BYTES = 8192
DEFAULT_MAX_ARTICLE_BYTES = int(DEFAULT_MAX_ARTICLE_MB * 1_000_000)


@dataclass(frozen=True)
class Loaded:
    """What reading some inputs gave: articles in input order, problems, and files not read."""

    articles: tuple[Article, ...]
    problems: tuple[Problem, ...]
    ignored_files: int


def find_files(paths: Iterable[str | Path]) -> tuple[list[Path], int, list[Problem]]:
    """Files to read under ``paths`` (folders recursively, sorted), how many files were
    ignored, and the folders skipped (symlink loops, unreadable folders).

    Symlinked folders are followed once; one that leads back to a folder already being read
    is reported as a loop. Raises IngestError for a path that does not exist: that is a typo,
    not bad content.
    """
    files: list[Path] = []
    ignored = 0
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            ignored += _walk(path, files, problems)
        elif path.exists():
            files.append(path)
        elif path.is_symlink():
            problems.append(
                Problem(
                    str(path),
                    "the symlink points to nothing, or loops back on itself",
                    "fix the link or remove it",
                )
            )
        else:
            raise IngestError(f"No such file or folder: {path} — check the path and try again.")
    return files, ignored, problems


def _walk(top: Path, files: list[Path], problems: list[Problem]) -> int:
    """Add the article files under ``top`` to ``files``; the number of files ignored."""
    ignored = 0
    seen: set[Path] = set()

    def unreadable(error: OSError) -> None:
        problems.append(
            Problem(
                str(error.filename or top),
                f"cannot read the folder ({error.strerror or error})",
                "check that it exists and is readable",
            )
        )

    for root, dirs, names in os.walk(top, followlinks=True, onerror=unreadable):
        real = Path(root).resolve()
        if real in seen:
            problems.append(
                Problem(
                    root,
                    f"symlink loop: this folder is {real}, which is already being read",
                    "remove the symlink that points back into the folder",
                )
            )
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            candidate = Path(root) / name
            if name.startswith(".") or candidate.suffix.lower() not in SUFFIXES:
                ignored += 1
            else:
                files.append(candidate)
    return ignored


def load_paths(paths: Iterable[str | Path], max_bytes: int = DEFAULT_MAX_ARTICLE_BYTES) -> Loaded:
    """Read every article under ``paths``; articles over ``max_bytes`` of text are skipped."""
    files, ignored, problems = find_files(paths)
    articles: list[Article] = []
    for file in files:
        for item in load_file(file, max_bytes):
            if isinstance(item, Article):
                articles.append(item)
            else:
                problems.append(item)
    return Loaded(tuple(articles), tuple(problems), ignored)


def load_file(
    path: Path, max_bytes: int = DEFAULT_MAX_ARTICLE_BYTES
) -> Iterator[Article | Problem]:
    """Articles read from one file, or the problems that kept them out. An article whose text
    is over ``max_bytes`` (UTF-8) is skipped; so is a .txt/.md/.html file over that size
    (HTML: four times it, for the markup)."""
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        yield Problem(
            name,
            f"unsupported file type {suffix or '(none)'!r}",
            "use .txt, .md, .html, .json, .jsonl or .pdf",
        )
        return
    if suffix == ".pdf":
        yield from _load_pdf(path, max_bytes)
        return
    if suffix not in {".json", ".jsonl"}:
        too_big = _too_big_file(path, max_bytes * (4 if suffix in {".html", ".htm"} else 1))
        if too_big is not None:
            yield too_big
            return
    text = _read_text(path)
    if isinstance(text, Problem):
        yield text
        return
    if suffix == ".jsonl":
        items: Iterable[Article | Problem] = _load_jsonl(name, text)
    elif suffix == ".json":
        items = _load_json(name, text)
    elif suffix in {".html", ".htm"}:
        items = [_load_html(path, text)]
    else:
        items = _load_text(path, text)
    for item in items:
        if isinstance(item, Article) and len(item.text.encode()) > max_bytes:
            yield too_large(name, len(item.text.encode()), max_bytes, _line_of(item))
        else:
            yield item


def too_large(name: str, size: int, max_bytes: int, line: int | None = None) -> Problem:
    return Problem(
        name,
        f"article is {_mb(size)}, over the {_mb(max_bytes)} limit",
        "split it into smaller articles, or raise the limit with --max-article-mb "
        "(NEWSRAG_MAX_ARTICLE_MB)",
        line,
    )


def _too_big_file(path: Path, limit: int) -> Problem | None:
    try:
        size = path.stat().st_size
    except OSError:
        return None  # reading it reports why
    return too_large(str(path), size, limit) if size > limit else None


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} kB"


def _line_of(article: Article) -> int | None:
    _, _, line = article.origin.rpartition(":")
    return int(line) if line.isdigit() else None


def _read_text(path: Path) -> str | Problem:
    name = str(path)
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):  # a pipe or a device would block or never end
            return Problem(
                name,
                f"not a regular file (a {_file_kind(mode)})",
                "remove it, or ingest the article files themselves",
            )
        data = path.read_bytes()
    except OSError as exc:
        return Problem(name, f"cannot read the file ({exc.strerror or exc})", _read_fix(exc, path))
    if not data.strip():
        return Problem(name, "file is empty", "remove it or add the article text")
    if b"\x00" in data[:_SNIFF_BYTES]:
        return Problem(name, "binary file, not text", "give it the right extension or remove it")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return Problem(
            name,
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            "re-save the file as UTF-8",
            line,
        )


def _read_fix(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ELOOP or (exc.errno == errno.ENOENT and path.is_symlink()):
        return "fix or remove the symlink"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"make it readable (e.g. 'chmod a+r {path}')"
    return "check that it exists and is readable"


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def _load_jsonl(name: str, text: str) -> Iterator[Article | Problem]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Problem(
                name,
                f"malformed JSON ({json_reason(exc)})",
                "fix or remove this line",
                number,
            )
            continue
        except RecursionError:
            yield _too_deep(name, "fix or remove this line", number)
            continue
        yield from _from_record(record, name, number)


def _load_json(name: str, text: str) -> Iterator[Article | Problem]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Problem(
            name,
            f"malformed JSON ({json_reason(exc)})",
            "fix the JSON (one object, or a list of objects)",
            exc.lineno,
        )
        return
    except RecursionError:
        yield _too_deep(name, "fix the JSON (one object, or a list of objects)")
        return
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    records = data if isinstance(data, list) else [data]
    for number, record in enumerate(records, start=1):
        # A record's line is only known for JSONL; for a list we report its position.
        for item in _from_record(record, name, None):
            if isinstance(item, Problem) and len(records) > 1:
                yield Problem(
                    item.path, f"record {number}: {item.reason}", item.fix, skipped=item.skipped
                )
            else:
                yield item


def _too_deep(name: str, fix: str, line: int | None = None) -> Problem:
    return Problem(name, "JSON nested too deeply to read (thousands of '[' or '{')", fix, line)


def _from_record(record: object, name: str, line: int | None) -> Iterator[Article | Problem]:
    surrogate = lone_surrogate(record)
    if surrogate is not None:
        yield Problem(
            name,
            f"text holds a lone surrogate {surrogate} (half of a character: not valid Unicode)",
            "re-export the file as valid UTF-8, or remove the stray \\udXXX escape",
            line,
        )
        return
    article, problems = article_from_record(record, name, line)
    yield from problems
    if article is not None:
        yield article


def _load_text(path: Path, text: str) -> Iterator[Article | Problem]:
    name = str(path)
    if text.lstrip().startswith("---"):
        try:
            post = frontmatter.loads(text, handler=FRONT_MATTER)
        except RecursionError:
            yield Problem(
                name,
                "YAML front matter nested too deeply to read",
                "fix the block between the '---' lines",
            )
            return
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            yield Problem(
                name,
                f"invalid YAML front matter ({getattr(exc, 'problem', exc)})",
                "fix the block between the '---' lines",
                line,
            )
            return
        if post.metadata:
            record = {**post.metadata, "text": post.content}
            if not any(key in record for key in ("id", "doc_id")):
                record["id"] = _path_id(path)
            yield from _from_record(record, name, None)
            return
    header = read_header(clean_text(text))
    if not header.body:
        yield Problem(
            name,
            "only a title line, no article text",
            "put the headline on the first line and the text below it",
        )
        return
    yield Article(
        _path_id(path),
        header.title,
        header.body,
        author=header.author,
        published=header.published or _name_date(path),
        origin=name,
    )


def _name_date(path: Path) -> str | None:
    """The date a file name starts with ("2025-04-14-museum-reopens.txt"), else None."""
    match = re.match(r"(\d{4}-\d{2}-\d{2})(?!\d)", path.name)
    return parse_date(match.group(1)) if match else None


def _load_pdf(path: Path, max_bytes: int) -> Iterator[Article | Problem]:
    from index.pdf import pdf_article

    too_big = _too_big_file(path, max_bytes * 10)  # a PDF's text is a small part of it
    if too_big is not None:
        yield too_big
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        yield Problem(
            str(path), f"cannot read the file ({exc.strerror or exc})", _read_fix(exc, path)
        )
        return
    item = pdf_article(data, str(path), _path_id(path), path.stem)
    if isinstance(item, Article) and len(item.text.encode()) > max_bytes:
        item = too_large(str(path), len(item.text.encode()), max_bytes)
    yield item


def _load_html(path: Path, html: str) -> Article | Problem:
    return html_article(html, str(path), _path_id(path), path.stem)


def html_article(
    html: str, name: str, fallback_id: str, fallback_title: str, url: str | None = None
) -> Article | Problem:
    """The article of an HTML page (trafilatura: title, author, date, site, canonical URL, main
    text), or the Problem that kept it out. Its id comes from the canonical URL, else ``url``
    (where the page was fetched), else ``fallback_id``."""
    # imported here: only HTML needs it, and it adds 0.2 s to every command's start
    import trafilatura
    from trafilatura.settings import Document

    doc = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False
    )
    meta: dict[str, Any] = {}
    if isinstance(doc, Document):
        meta = doc.as_dict()
    title = str(meta.get("title") or "").strip()
    text = clean_text(str(meta.get("text") or ""))
    if title and text.startswith(title + "\n"):  # the extractor repeats the headline
        text = text[len(title) + 1 :].lstrip()
    if not text:
        return Problem(
            name,
            "no article text found in the HTML",
            "check that the page holds the article body (not only scripts or "
            "navigation), or save the text as .txt",
        )
    url = str(meta.get("url") or "") or url or None
    return Article(
        id=stable_id(url) if url else fallback_id,
        title=title or fallback_title,
        text=text,
        source=meta.get("sitename") or meta.get("hostname") or None,
        author=meta.get("author") or None,
        published=parse_date(meta.get("date")),
        url=url,
        origin=name,
    )


def _path_id(path: Path) -> str:
    """Readable and stable for a file that stays where it is: ``tram-line-1a2b3c4d``."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:48] or "article"
    return f"{slug}-{stable_id(str(path.resolve()))[:8]}"
