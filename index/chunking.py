"""Sentence-aware chunking that keeps every chunk's character offsets into its article."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass

import nupunkt

from index.errors import ConfigError
from index.pdf import page_at
from index.records import Article, Chunk

_LINE = re.compile(r"[^\n]+")
_WORD = re.compile(r"\S+")


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each sentence in ``text``, shifted by ``offset``; lines never merge,
    but the lines of a hard-wrapped paragraph are one (see :func:`unwrap`).

    News text puts datelines, headings and paragraphs on their own lines, which a sentence
    splitter alone would glue to the next sentence. A sentence's span is into ``text`` as it
    is: its text may still hold the wrap's line breaks (:func:`unwrap` it for display).
    """
    return [(start + offset, end + offset) for start, end in _sentence_spans(text)]


# Hard-wrapped text (lines broken at a fixed width, as e-mail, plain-text news wires and some
# Markdown do): a line break is the wrap's, not the author's, when the next line's first word
# would not have fitted on the line. Lines of these widths count as wrapped.
_WRAP_MIN, _WRAP_MAX = 40, 120
_BLOCK_START = re.compile(r"\s*(?:[-*+>|#]|\d+[.)]\s|```|~~~)")
_BLOCK_LINE = re.compile(r"\s*(?:[#|]|```|~~~)")


def unwrap(text: str) -> str:
    """``text`` with the line breaks of hard wrapping (inside a paragraph) turned into
    spaces, and nothing else changed: the result has the same length, so offsets into it are
    offsets into ``text``. Headings, list items, blank lines and short lines keep their breaks.

    >>> unwrap("A council vote on the tram line that was planned for\nmonths took place.")
    'A council vote on the tram line that was planned for months took place.'
    """
    lines = text.split("\n")
    lengths = [len(line.rstrip()) for line in lines]
    wrapped = [n for n in lengths if _WRAP_MIN <= n <= _WRAP_MAX]
    if len(wrapped) < 2:
        return text
    width = max(wrapped)
    out = list(text)
    at = 0
    for i, line in enumerate(lines[:-1]):
        at += len(line)  # the position of this line's "\n"
        following = lines[i + 1]
        words = following.split()
        if (
            words
            and _WRAP_MIN <= lengths[i] <= width
            and lengths[i] + 1 + len(words[0]) > width
            and not _BLOCK_LINE.match(line)
            and not _BLOCK_START.match(following)
        ):
            out[at] = " "
        at += 1
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Cached: ingest splits each article twice (chunks, then speakers), and the answerer
    splits the same passages question after question."""
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(unwrap(text)):
        if not line.group().strip():
            continue
        for start, end in nupunkt.sent_spans(line.group()):
            piece = line.group()[start:end]
            lead = len(piece) - len(piece.lstrip())
            trail = len(piece) - len(piece.rstrip())
            if end - start - lead - trail > 0:
                base = line.start()
                spans.append((base + start + lead, base + end - trail))
    return tuple(spans)


def _word_count(text: str) -> int:
    return len(_WORD.findall(text))


@dataclass(frozen=True)
class Chunker:
    """Packs whole sentences into chunks of at most ``size`` words, repeating about ``overlap``
    words of trailing sentences at the start of the next chunk. A sentence longer than ``size``
    is cut at word boundaries.

    >>> chunks = Chunker(size=120, overlap=20).chunk(article)
    >>> all(c.text == article.text[c.start:c.end] for c in chunks)
    True
    """

    size: int = 160
    overlap: int = 30
    header: bool = False  # index each passage with its article's title and date (with_header)

    def indexed_text(self, chunk: Chunk) -> str:
        """What is embedded and keyword-indexed for ``chunk``; the stored passage stays verbatim."""
        return with_header(chunk) if self.header else chunk.text

    def __post_init__(self) -> None:
        if self.size < 1 or not 0 <= self.overlap < self.size:
            raise ConfigError(
                f"Chunker(size={self.size}, overlap={self.overlap}) needs size >= 1 and "
                "0 <= overlap < size."
            )

    def chunk(self, article: Article) -> list[Chunk]:
        """The article's chunks, in order; their text is ``article.text[start:end]``."""
        units = self._units(article.text)
        # a passage stays on one page of a PDF, so its citation can name the page
        page = [page_at(article.pages, u[0]) for u in units]
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(units):
            j, words = i, 0
            while j < len(units) and (
                j == i or (words + units[j][2] <= self.size and page[j] == page[i])
            ):
                words += units[j][2]
                j += 1
            spans.append((units[i][0], units[j - 1][1]))
            if j >= len(units):
                break
            back, kept = j, 0
            while (
                back - 1 > i
                and kept + units[back - 1][2] <= self.overlap
                and page[back - 1] == page[j]
            ):
                back -= 1
                kept += units[back][2]
            i = back
        return [self._make(article, n, start, end) for n, (start, end) in enumerate(spans)]

    def _units(self, text: str) -> list[tuple[int, int, int]]:
        """Sentences as (start, end, words), with over-long sentences cut into word windows."""
        units: list[tuple[int, int, int]] = []
        for start, end in sentence_spans(text):
            words = [m.span() for m in _WORD.finditer(text, start, end)]
            if len(words) <= self.size:
                units.append((start, end, len(words)))
                continue
            step = self.size - self.overlap
            for w in range(0, len(words), step):
                window = words[w : w + self.size]
                units.append((window[0][0], window[-1][1], len(window)))
                if w + self.size >= len(words):
                    break
        return units

    @staticmethod
    def _make(article: Article, index: int, start: int, end: int) -> Chunk:
        text = article.text[start:end]
        digest = hashlib.sha256(f"{article.id}\x1f{start}\x1f{end}\x1f{text}".encode())
        return Chunk(
            id=f"{article.id}:{digest.hexdigest()[:16]}",
            article_id=article.id,
            index=index,
            start=start,
            end=end,
            text=text,
            title=article.title,
            source=article.source,
            published=article.published,
            url=article.url,
            page=page_at(article.pages, start),
        )


def article_id_of(chunk_id: str) -> str:
    """The article a chunk id belongs to: chunk ids are ``ARTICLE_ID:HASH16``."""
    return chunk_id.rpartition(":")[0]


def with_header(chunk: Chunk) -> str:
    """The text that is embedded and keyword-indexed for ``chunk``: its article's title and date
    on a first line, then the passage, so a passage that never names its subject still carries it.

    >>> with_header(chunk)
    'Rutte warns against a separate European army (2026-01-14)\\nNATO chief Mark Rutte said ...'
    """
    head = chunk.title.strip()
    if chunk.published:
        head = f"{head} ({chunk.published})" if head else chunk.published
    return f"{head}\n{chunk.text}" if head else chunk.text
