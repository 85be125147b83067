"""Rendering for the chat page: answers as chat Markdown, citations as the Sources panel's HTML,
index stats as the header. Every article-derived string is HTML-escaped here and nowhere else."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from assistant.records import Answer, Citation
from index.chunking import unwrap
from index.records import ArticleInfo, IndexStats, IngestReport

NO_ANSWER_NOTE = "*No answer found.*"
SOURCES_PLACEHOLDER = (
    '<p class="sources-empty">The passages cited by the last answer will appear here.</p>'
)
NO_SOURCES = '<p class="sources-empty">No passages cited: the articles do not answer that.</p>'
SOURCES_CSS = """
.sources-empty { color: var(--body-text-color-subdued); font-style: italic; }
.sources-related { font-weight: 600; margin: 0.6em 0 0.4em; }
.passage-text { white-space: pre-wrap; font-size: 0.92em; line-height: 1.5; max-height: 420px;
  overflow-y: auto; }
.passage-text mark.cited { background: #fde68a; color: inherit; padding: 0.1em 0; }
.source { margin: 0 0 1.1em 0; }
.source-head { font-weight: 600; line-height: 1.35; }
.source-head a { text-decoration: none; }
.source-n { color: var(--color-accent); margin-right: 0.3em; }
.source-meta { color: var(--body-text-color-subdued); font-size: 0.9em; margin: 0.15em 0 0.4em; }
.source-passage { white-space: pre-wrap; margin: 0; padding: 0.5em 0.75em;
  border-left: 3px solid var(--border-color-accent); background: var(--background-fill-secondary);
  font-size: 0.92em; line-height: 1.45; }
"""

_MARKER = re.compile(r"\[\d+\]")
# Characters that could start Markdown link, image or reference syntax, as HTML entities:
# CommonMark never treats an entity as syntax, and the browser shows the plain character.
_MARKDOWN_LINK_CHARS = str.maketrans({"[": "&#91;", "]": "&#93;"})
_AFTER_MARKER = {"(": "&#40;", ":": "&#58;"}


def escape(text: str | None) -> str:
    """``text`` safe to put in HTML (and Markdown): ``<``, ``>``, ``&`` and quotes escaped."""
    return html.escape(text or "", quote=True)


def safe_url(url: str | None) -> str | None:
    """``url`` escaped for an ``href`` if it is an http(s) URL, else None (no link is drawn)."""
    url = (url or "").strip()
    if not url.lower().startswith(("http://", "https://")):
        return None
    return escape(url)


def markdown_text(text: str) -> str:
    """``text`` escaped for the chat's Markdown, keeping ``[n]`` citation markers as they are.

    Brackets elsewhere become entities, and a ``(`` or ``:`` right after a marker too, so article
    text cannot form a Markdown link or image.
    """
    parts: list[str] = []
    pos = 0
    for match in _MARKER.finditer(text):
        parts.append(_markdown_segment(text[pos : match.start()], after_marker=pos > 0))
        parts.append(match.group(0))
        pos = match.end()
    parts.append(_markdown_segment(text[pos:], after_marker=pos > 0))
    return "".join(parts)


def _markdown_segment(text: str, after_marker: bool) -> str:
    escaped = escape(text).translate(_MARKDOWN_LINK_CHARS)
    if after_marker and escaped[:1] in _AFTER_MARKER:
        escaped = _AFTER_MARKER[escaped[0]] + escaped[1:]
    return escaped


def answer_markdown(answer: Answer, turn: int | None = None, filters: str = "") -> str:
    """The chat message for ``answer``; a refusal is led by an italic "No answer found." note,
    a resolved follow-up by what was searched for, and notices (an LLM failure, unsupported
    sentences) by a warning line each. With ``turn`` (the answer's number in the chat), each
    ``[n]`` links to its passage and a compact source list follows; ``filters`` is a note of
    the filters the question was asked with."""
    text = markdown_text(answer.answer)
    if turn is not None:
        text = _MARKER.sub(lambda m: _cite_link(turn, m.group(0)), text)
    if answer.refused:
        text = f"{NO_ANSWER_NOTE} {text}"
    lines = [f"*Searched for: {markdown_text(answer.resolved)}*"] if answer.resolved else []
    if filters:
        lines.append(f"*Filters: {markdown_text(filters)}*")
    lines += [f"\u26a0\ufe0f *{markdown_text(notice)}*" for notice in answer.notices]
    lines.append(text)
    if turn is not None and answer.citations:
        lines.append(sources_line(answer, turn))
    return "\n\n".join(lines)


def _cite_link(turn: int, marker: str) -> str:
    n = marker.strip("[]")
    return f'<a href="#cite-{turn}-{n}" class="newsrag-cite">{marker}</a>'


def sources_line(answer: Answer, turn: int) -> str:
    """ "Sources: [1] Title — Source, date · [2] ...", each number a link to its passage."""
    items = []
    for c in sorted(answer.citations, key=lambda c: c.n):
        meta = ", ".join(markdown_text(v) for v in (c.source, c.published) if v)
        title = markdown_text(c.title) or "(untitled)"
        items.append(f"{_cite_link(turn, f'[{c.n}]')} {title}" + (f" — {meta}" if meta else ""))
    return "<small>Sources: " + " · ".join(items) + "</small>"


def streaming_markdown(text: str) -> str:
    """An answer being written, shown as it arrives (escaped like any article text)."""
    return markdown_text(text) + " \u258c"


CONTEXT_CHARS = 700  # article text shown around a cited passage


def passage_html(
    citation: Citation, article_text: str | None, quoted: Sequence[tuple[int, int]] = ()
) -> str:
    """The cited passage highlighted inside its article text, with the article's title (linked
    to the original when it has an http(s) URL), source and date. ``quoted`` (start, end in the
    passage) are the sentences the answer cites it for, shown in bold within the highlight."""
    title = escape(citation.title) or "(untitled)"
    url = safe_url(citation.url)
    link = (
        f'<a href="{url}" target="_blank" rel="noopener noreferrer nofollow">Open the original'
        " \u2197</a>"
        if url
        else ""
    )
    meta = " · ".join(escape(v) for v in (citation.source, citation.published) if v)
    text = article_text or citation.passage
    start, end = citation.start, citation.end
    if article_text is None or article_text[start:end] != citation.passage:
        start, end = 0, len(citation.passage)
        text = citation.passage
    text = unwrap(text)  # hard-wrapped lines read as paragraphs; same length, same offsets
    lo, hi = max(0, start - CONTEXT_CHARS), min(len(text), end + CONTEXT_CHARS)
    before = ("\u2026" if lo > 0 else "") + escape(text[lo:start])
    after = escape(text[end:hi]) + ("\u2026" if hi < len(text) else "")
    cited = _in_bold(text[start:end], quoted)
    return (
        f'<div class="passage-view" id="passage-{citation.n}">'
        f'<div class="source-head"><span class="source-n">[{citation.n}]</span>{title}</div>'
        f'<div class="source-meta">{meta}{" · " if meta and link else ""}{link}</div>'
        f'<div class="passage-text">{before}<mark class="cited">{cited}</mark>{after}</div></div>'
    )


def _in_bold(passage: str, spans: Sequence[tuple[int, int]]) -> str:
    """``passage`` escaped, with ``spans`` of it (in order, apart) in bold; spans that do not
    fit the passage are ignored."""
    out, done = [], 0
    for a, b in spans:
        if done <= a < b <= len(passage):
            out += [
                escape(passage[done:a]),
                f'<strong class="quoted">{escape(passage[a:b])}</strong>',
            ]
            done = b
    return "".join(out) + escape(passage[done:])


PASSAGE_PLACEHOLDER = (
    '<p class="sources-empty">Click a [n] in an answer to read its passage in the article.</p>'
)


def citation_html(citation: Citation, quoted: Sequence[tuple[int, int]] = ()) -> str:
    """One Sources entry: ``[n] title`` (linked if the URL is http(s)), source, date, passage
    (with the ``quoted`` sentences, see ``Answer.quoted``, in bold)."""
    title = escape(citation.title) or "(untitled)"
    url = safe_url(citation.url)
    if url:
        title = f'<a href="{url}" target="_blank" rel="noopener noreferrer nofollow">{title}</a>'
    meta = " · ".join(escape(v) for v in (citation.source, citation.published) if v)
    meta_html = f'<div class="source-meta">{meta}</div>' if meta else ""
    return (
        f'<div class="source" id="source-{citation.n}">'
        f'<div class="source-head"><span class="source-n">[{citation.n}]</span>{title}</div>'
        f"{meta_html}"
        f'<div class="source-passage">{_in_bold(citation.passage, quoted)}</div>'
        "</div>"
    )


def sources_html(answer: Answer | None) -> str:
    """The Sources panel for the last answer: each citation in ``[n]`` order, or a short note."""
    if answer is None:
        return SOURCES_PLACEHOLDER
    if not answer.citations:
        if not answer.related:
            return NO_SOURCES
        related = "\n".join(citation_html(c) for c in answer.related)
        return f'{NO_SOURCES}\n<p class="sources-related">Related passages:</p>\n{related}'
    quoted = answer.quoted()
    return "\n".join(
        citation_html(c, quoted.get(c.n, ())) for c in sorted(answer.citations, key=lambda c: c.n)
    )


def stats_markdown(stats: IndexStats) -> str:
    """Index stats for the "Your articles" tab."""
    sources = ", ".join(f"{escape(k)} ({v})" for k, v in sorted(stats.sources.items())) or "-"
    dates = f"{stats.oldest} to {stats.newest}" if stats.oldest else "-"
    return (
        f"**{stats.articles:,}** {_plural(stats.articles, 'article')} · "
        f"**{stats.chunks:,}** {_plural(stats.chunks, 'chunk')} · model "
        f"<code>{escape(stats.embedding_model)}</code> · chunks of {stats.chunk_size} words "
        f"(overlap {stats.chunk_overlap})<br>Dates: {escape(dates)}<br>Sources: {sources}"
    )


def article_rows(articles: Sequence[ArticleInfo]) -> list[list[str]]:
    """Rows of the articles table: id, date, source, title, passages (as text, never HTML)."""
    return [[a.id, a.published or "", a.source or "", a.title, str(a.chunks)] for a in articles]


def ingest_summary_markdown(report: IngestReport, names: dict[str, str] | None = None) -> str:
    """Added / updated / unchanged / skipped, each skipped input with its reason and fix.
    ``names`` maps stored upload paths back to the names the user gave the files."""
    lines = [
        f"**{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped** "
        f"({report.chunks_written} {_plural(report.chunks_written, 'passage')} written in "
        f"{report.seconds:.1f} s)"
    ]
    for label, problems in (("Skipped", report.skipped), ("Warnings", report.warnings)):
        for problem in problems:
            text = str(problem)
            for stored, shown in (names or {}).items():
                text = text.replace(stored, shown)
            lines.append(f"- {label}: {markdown_text(text)}")
    return "\n".join(lines)


def header_markdown(stats: IndexStats) -> str:
    """The page header: the name, then article and chunk counts and the embedding model."""
    return (
        "# newsrag\n"
        f"{stats.articles:,} {_plural(stats.articles, 'article')} · "
        f"{stats.chunks:,} {_plural(stats.chunks, 'chunk')} · "
        f"model <code>{escape(stats.embedding_model)}</code>"
    )


def example_questions(articles: Sequence[ArticleInfo], n: int = 3) -> list[str]:
    """Questions from the titles of the ``n`` newest articles (``articles`` is newest first)."""
    titles = (" ".join(a.title.split()).rstrip(".?!:;") for a in articles)
    return [f"What happened: {t}?" for t in titles if t][:n]


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"
