"""Rendering of the chat page: escaping of article text, URLs, refusals, the Sources panel."""

from assistant.records import Answer, Citation
from index.records import ArticleInfo, IndexStats
from ui import render


def citation(n: int = 1, **fields: object) -> Citation:
    values: dict[str, object] = {
        "article_id": "a1",
        "title": "Tram line approved",
        "source": "Northgate Gazette",
        "published": "2025-07-15",
        "url": "https://gazette.example/tram",
        "passage": "The council voted 31 to 12 for the tram line.",
        "start": 0,
        "end": 45,
    }
    values.update(fields)
    return Citation(n=n, **values)  # type: ignore[arg-type]


def answer(text: str, *citations: Citation, refused: bool = False) -> Answer:
    return Answer("What was approved?", text, refused, tuple(citations))


EVIL_TITLE = "<script>alert(1)</script>"
EVIL_PASSAGE = "Before <img src=x onerror=alert(1)> after"


def test_sources_escape_title_and_passage() -> None:
    html = render.sources_html(answer("x [1]", citation(title=EVIL_TITLE, passage=EVIL_PASSAGE)))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Before &lt;img src=x onerror=alert(1)&gt; after" in html


def test_sources_escape_source_date_and_url() -> None:
    c = citation(
        source='<b onmouseover="x">Wire</b>',
        published="<i>2025</i>",
        url='https://ok.example/?q="><script>alert(1)</script>',
    )
    html = render.citation_html(c)
    assert "<b " not in html and "<i>" not in html and "<script>" not in html
    assert "&lt;b onmouseover=&quot;x&quot;&gt;Wire&lt;/b&gt; · &lt;i&gt;2025&lt;/i&gt;" in html
    assert 'href="https://ok.example/?q=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html


def test_answer_markdown_escapes_html_and_keeps_markers() -> None:
    text = "Officials said <script>alert(1)</script> it was approved. [1] Work starts soon. [2]"
    md = render.answer_markdown(answer(text, citation(1), citation(2)))
    assert md == (
        "Officials said &lt;script&gt;alert(1)&lt;/script&gt; it was approved. [1] "
        "Work starts soon. [2]"
    )


def test_answer_markdown_cannot_form_links_or_images() -> None:
    md = render.markdown_text(
        "See [here](javascript:alert(1)) and ![x](y) [1](javascript:z) [2]: javascript:w"
    )
    assert "](" not in md and "]:" not in md
    assert md == (
        "See &#91;here&#93;(javascript:alert(1)) and !&#91;x&#93;(y) "
        "[1]&#40;javascript:z) [2]&#58; javascript:w"
    )


def test_refused_answer_is_marked() -> None:
    refused = answer("I could not find an answer to that in the indexed articles.", refused=True)
    assert render.answer_markdown(refused) == (
        "*No answer found.* I could not find an answer to that in the indexed articles."
    )
    assert render.sources_html(refused) == render.NO_SOURCES


def test_answered_answer_is_not_marked() -> None:
    assert not render.answer_markdown(answer("Approved. [1]", citation())).startswith("*")


def test_safe_url_allows_only_http_and_https() -> None:
    assert render.safe_url("https://a.example/x?a=1&b=2") == "https://a.example/x?a=1&amp;b=2"
    assert render.safe_url("  HTTP://a.example/ ") == "HTTP://a.example/"
    for bad in (
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,x",
        "//evil.example",
        "ftp://a.example",
        "",
        None,
    ):
        assert render.safe_url(bad) is None


def test_citation_links_only_http_urls() -> None:
    linked = render.citation_html(citation(url="https://gazette.example/tram"))
    assert (
        '<a href="https://gazette.example/tram" target="_blank" '
        'rel="noopener noreferrer nofollow">Tram line approved</a>'
    ) in linked
    for url in ("javascript:alert(1)", None):
        html = render.citation_html(citation(url=url))
        assert "<a " not in html and "javascript" not in html
        assert "Tram line approved" in html


def test_sources_panel_lists_citations_in_order_with_metadata() -> None:
    first = citation(1, title="First", passage="Passage one.")
    second = citation(
        2, title="Second", source=None, published=None, url=None, passage="Passage two.\n\nMore."
    )
    html = render.sources_html(answer("A. [1] B. [2]", second, first))
    assert html.index("[1]") < html.index("First") < html.index("[2]") < html.index("Second")
    assert '<div class="source-meta">Northgate Gazette · 2025-07-15</div>' in html
    assert html.count('class="source-meta"') == 1
    assert '<div class="source-passage">Passage two.\n\nMore.</div>' in html


def test_sources_placeholder_before_any_answer() -> None:
    assert render.sources_html(None) == render.SOURCES_PLACEHOLDER


def test_header_shows_counts_and_escaped_model() -> None:
    stats = IndexStats(
        articles=1,
        chunks=34,
        embedding_model="<m>",
        embedding_dimension=384,
        chunk_size=160,
        chunk_overlap=30,
        index="/tmp/idx",
        collection="newsrag",
    )
    assert render.header_markdown(stats) == (
        "# newsrag\n1 article · 34 chunks · model <code>&lt;m&gt;</code>"
    )


def test_example_questions_from_newest_titles() -> None:
    infos = [
        ArticleInfo(str(i), title, None, None, None, 1)
        for i, title in enumerate(
            ["Tram line opens.", "  Floods   hit Wrenford ", "", "Rates held?", "Too old"]
        )
    ]
    assert render.example_questions(infos) == [
        "What happened: Tram line opens?",
        "What happened: Floods hit Wrenford?",
        "What happened: Rates held?",
    ]


def test_the_sentences_an_answer_cites_are_bold_inside_the_highlighted_passage() -> None:
    passage = "Work starts in May. The council voted <31> to 12. Fares stay at 2 euros."
    article = f"Intro.\n{passage}\nOutro."
    cited = citation(passage=passage, start=7, end=7 + len(passage))
    html = render.passage_html(cited, article, [(0, 19), (50, len(passage))])
    assert (
        '<mark class="cited"><strong class="quoted">Work starts in May.</strong> The council '
        'voted &lt;31&gt; to 12. <strong class="quoted">Fares stay at 2 euros.</strong></mark>'
    ) in html
    assert html.index("Intro.") < html.index("<mark") < html.index("Outro.")


def test_spans_outside_the_passage_or_overlapping_are_ignored() -> None:
    cited = citation()
    for spans in ([], [(0, 999)], [(5, 5)], [(-1, 3)]):
        html = render.passage_html(cited, None, spans)
        assert '<mark class="cited">The council voted 31 to 12 for the tram line.</mark>' in html
    html = render.passage_html(cited, None, [(4, 11), (8, 20)])
    assert html.count("<strong") == 1 and '<strong class="quoted">council</strong>' in html


def test_the_sources_panel_bolds_the_sentences_each_passage_is_cited_for() -> None:
    passage = "Work starts in May. The council voted <31> to 12."
    cited = citation(passage=passage, end=len(passage))
    html = render.sources_html(answer("The council voted <31> to 12. [1]", cited))
    assert (
        '<div class="source-passage">Work starts in May. <strong class="quoted">The council '
        "voted &lt;31&gt; to 12.</strong></div>"
    ) in html


def test_one_passage_written_is_singular() -> None:
    from index.records import IngestReport

    one = render.ingest_summary_markdown(IngestReport(added=("a",), chunks_written=1, seconds=0.5))
    assert "(1 passage written in 0.5 s)" in one
    two = render.ingest_summary_markdown(IngestReport(added=("a",), chunks_written=2, seconds=0.5))
    assert "(2 passages written in 0.5 s)" in two
