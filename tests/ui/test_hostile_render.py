"""HTML and script in articles (tests/fixtures/hostile/markup.md) stay inert everywhere the chat
page shows them. Each output is turned into HTML as the page does (Markdown rendered with raw HTML
allowed, as Gradio's Markdown and Chatbot do before their own sanitising, which is not relied on)
and must hold no element, event handler or link that the article put there, while still showing
the article's text."""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import gradio as gr
from markdown_it import MarkdownIt

from assistant import Answer, Assistant, Citation
from index import NewsIndex
from index.loaders import load_paths
from index.records import Article, ArticleInfo, IndexStats
from index.retrieval import SearchFilters
from tests.conftest import ROOT
from ui import build_app, render
from ui.app import filters_note

MARKUP = ROOT / "tests" / "fixtures" / "hostile" / "markup.md"
FORBIDDEN = {"script", "img", "svg", "iframe", "object", "embed", "style", "link", "meta", "form"}
SHOWN = [  # the article's markup, which the reader must see as text
    "<script>window.__pwned = 'text'</script>",
    "<img src=x onerror=\"window.__pwned='onerror'\">",
]


class Elements(HTMLParser):
    """The elements, attributes and text of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(name, value or "") for name, value in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_inert(html: str, links: tuple[str, ...] = ("#cite-",)) -> str:
    """Fail on an element, handler or link the article could have planted (``links``: how the
    hrefs newsrag writes begin); returns the text."""
    found = Elements()
    found.feed(html)
    found.close()
    assert not FORBIDDEN & set(found.tags), found.tags
    assert not [name for name, _ in found.attrs if name.startswith("on") or name == "src"]
    for name, value in found.attrs:
        if name == "href":
            assert value.startswith(links), value
    assert "window.__pwned" not in " ".join(v for _, v in found.attrs)
    return "".join(found.text)


def markdown_page(markdown: str) -> str:
    """``markdown`` as HTML, by a renderer that trusts any link (as not every one checks)."""
    renderer = MarkdownIt("commonmark", {"html": True})
    renderer.validateLink = lambda url: True  # type: ignore[method-assign]
    return renderer.render(markdown)


def hostile() -> Article:
    (article,) = load_paths([MARKUP]).articles
    assert "<script>" in article.title and article.source and "<b " in article.source
    assert article.url and article.url.startswith("javascript:")
    return article


def citation(n: int = 1) -> Citation:
    a = hostile()
    return Citation(n, a.id, a.title, a.source, a.published, a.url, a.text, 0, len(a.text))


def test_chat_answer_with_notices_filters_and_sources_line_is_inert() -> None:
    a = hostile()
    first, second = a.text.split("\n\n")
    answer = Answer(
        question="What did Petra Lund say?",
        answer=f"According to {a.source}: {first} [1] {second} [1]",
        refused=False,
        citations=(citation(),),
        notices=(f"The language model failed: {a.title}",),
        resolved=f"What did {a.title} say?",
    )
    note = filters_note(SearchFilters.build([a.source or ""], "2026-01-01"))
    text = assert_inert(markdown_page(render.answer_markdown(answer, turn=0, filters=note)))
    for shown in [*SHOWN, a.title, a.source or "", "[online](javascript:window.__pwned='link')"]:
        assert shown in text
    text = assert_inert(markdown_page(render.streaming_markdown(answer.answer)))
    assert all(shown in text for shown in SHOWN)


def test_sources_panel_and_passage_view_are_inert() -> None:
    a = hostile()
    for html in (
        render.sources_html(Answer("q", "x [1]", False, (citation(),))),
        render.sources_html(Answer("q", "No.", True, related=(citation(),))),
        render.passage_html(citation(), a.text),
        render.passage_html(replace(citation(), start=5, end=9), None),
    ):
        text = assert_inert(html)
        assert a.title in text and f"{a.source}" in text and "<a " not in html  # no http URL


def test_articles_tab_stats_header_and_table_show_text() -> None:
    a = hostile()
    info = ArticleInfo(a.id, a.title, a.source, a.published, a.url, 2)
    stats = IndexStats(
        articles=1,
        chunks=2,
        embedding_model="<img src=x onerror=alert(1)>",
        embedding_dimension=64,
        chunk_size=160,
        chunk_overlap=30,
        index="/idx",
        collection="newsrag",
        sources={a.source or "": 1},
    )
    for markdown in (render.stats_markdown(stats), render.header_markdown(stats)):
        assert "<img src=x onerror=alert(1)>" in assert_inert(markdown_page(markdown))
    assert f"{a.source}" in assert_inert(markdown_page(render.stats_markdown(stats)))
    # the table gets plain strings, and shows them as text ("str" cells, not markdown/html)
    assert render.article_rows([info]) == [[a.id, "2026-02-20", a.source, a.title, "2"]]


def test_uploaded_hostile_files_stay_text_in_the_app(fake_index: NewsIndex, tmp_path: Path) -> None:
    """Through the upload callback: the summary names files (and their problems) as text, and
    the table, header and stats show the hostile article's fields as text."""
    demo = build_app(Assistant(fake_index), examples=[])
    add = next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", None) == "add_files")
    folder = tmp_path / "in"
    folder.mkdir()
    good = folder / "<svg onload=alert(1)>.md"
    good.write_text(MARKUP.read_text(encoding="utf-8"), encoding="utf-8")
    broken = folder / "<img src=x onerror=alert(2)>.md"
    broken.write_text("---\ntitle: [<script>alert(3)</script>\n---\n\nBody text here.\n")
    summary, stats_md, rows, _, header, _ = add(
        [str(good), str(broken)], progress=lambda *a, **k: None
    )
    assert summary.startswith("**1 added, 0 updated, 0 unchanged, 1 skipped**"), summary
    assert "<img src=x onerror=alert(2)>.md" in assert_inert(markdown_page(summary))
    for markdown in (stats_md, header):
        assert_inert(markdown_page(markdown))
    assert [row[3] for row in rows] == [hostile().title]
    (table,) = [b for b in demo.blocks.values() if isinstance(b, gr.Dataframe)]
    assert table.datatype == "str"
