"""The passage view shows a hard-wrapped article as paragraphs, and still highlights the
verbatim cited passage (issue 24 item 10)."""

from __future__ import annotations

import textwrap

from assistant.records import Citation
from ui import render

PARAGRAPH = (
    "The harbour authority said on Monday that the new container terminal would open six "
    "months ahead of schedule and under budget. Officials credited a mild winter and a new "
    "crane contract for the early finish."
)


def test_a_wrapped_article_is_shown_without_its_line_breaks_and_the_passage_highlighted() -> None:
    article = "Harbour terminal opens early\n\n" + textwrap.fill(PARAGRAPH, 95) + "\n"
    start = article.index("The harbour")
    end = article.index("budget.") + len("budget.")
    passage = article[start:end]
    assert "\n" in passage  # the citation is verbatim: the wrap's break is in it
    cited = Citation(
        1, "harbour", "Harbour terminal opens early", None, None, None, passage, start, end
    )
    html = render.passage_html(cited, article)
    assert (
        '<mark class="cited">The harbour authority said on Monday that the new container '
        "terminal would open six months ahead of schedule and under budget.</mark>"
    ) in html
    assert "Harbour terminal opens early\n\n<mark" in html  # real paragraph breaks stay
