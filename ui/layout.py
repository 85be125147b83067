"""The chat page's layout: its components, and which :class:`~ui.callbacks.ChatCallbacks`
method each event runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant import Assistant
from ui import render
from ui.callbacks import ChatCallbacks

# Clicks on an answer's [n] links (href "#cite-TURN-N") open that passage in the side panel.
CITE_CLICKS_JS = """
if (!window.__newsragCiteClicks) {
  window.__newsragCiteClicks = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#cite-"]');
    if (!link) return;
    const match = link.getAttribute('href').match(/^#cite-(\\d+)-(\\d+)$/);
    if (!match) return;
    event.preventDefault();
    trigger('click', {turn: Number(match[1]), n: Number(match[2])});
  }, true);
}
"""
# A passage opened in the side panel scrolls (inside its box) to the first sentence the answer
# cites it for, or to the highlight, which can sit below the article text shown before it.
SCROLL_TO_QUOTE_JS = """
() => {
  const box = document.querySelector('#newsrag-passage .passage-text');
  if (!box) return;
  const target = box.querySelector('strong.quoted') || box.querySelector('mark.cited');
  if (!target) return;
  const offset = target.getBoundingClientRect().top - box.getBoundingClientRect().top;
  box.scrollTop += offset - 24;
}
"""
CHAT_PLACEHOLDER = (
    "Ask about the indexed news articles. Answers quote the articles verbatim and cite them "
    "as [1], [2], …; click a number to read the passage in its article."
)
UPLOAD_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl"]
# Questions answered at once, across tabs and API calls; the rest wait in Gradio's queue.
# Answering only reads and is thread-safe; on 2 CPU cores two at a time answered the most per
# second, with the lowest latency, of 1, 2 and 4 (tests/ui/test_load.py prints the figures).
ANSWER_CONCURRENCY = 2
# every event of a concurrency group needs the limit: Gradio keeps the group's lowest, and one
# left at the default (1) would serialise all answering after the first /ask
ANSWERING: dict[str, Any] = {"concurrency_id": "assistant", "concurrency_limit": ANSWER_CONCURRENCY}
# not GRADIO_DEFAULT_CONCURRENCY_LIMIT: one upload or delete at a time
WRITING: dict[str, Any] = {
    "concurrency_id": "writes",
    "concurrency_limit": 1,
    "api_visibility": "private",
}
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
CONFIRM_DELETE = "Delete {id} and all its passages from the index?"


@dataclass(frozen=True)
class Page:
    """The components the events read and write."""

    header: gr.Markdown
    turns: gr.State
    cited: gr.State
    chatbot: gr.Chatbot
    message: gr.Textbox
    send: gr.Button
    clear: gr.Button
    notice: gr.Markdown
    source_filter: gr.Dropdown
    since: gr.Textbox
    until: gr.Textbox
    examples: gr.Dataset
    passage: gr.HTML
    sources: gr.HTML
    stats: gr.Markdown
    files: gr.File
    add: gr.Button
    url: gr.Textbox
    add_url: gr.Button
    summary: gr.Markdown
    table: gr.Dataframe
    chosen: gr.Textbox
    remove: gr.Button
    confirm: gr.Button
    keep: gr.Button
    deleted: gr.Markdown


def build_app(
    assistant: Assistant,
    examples: Sequence[str] | None = None,
    *,
    private: bool = False,
    allow_private: bool = False,
) -> gr.Blocks:
    """The chat page for ``assistant``, not yet launched (mount it in FastAPI with
    ``gr.mount_gradio_app(app, build_app(assistant), path="/")``).

    ``examples`` are the questions offered under the chat box; by default, questions about the
    three newest articles. ``private`` (for a page behind a login) builds the page without
    anything of the index in it (sources, articles, counts, examples): they load once the page
    opens, which a login guards. ``allow_private`` lets the Add URL box fetch private, loopback
    and link-local addresses (refused by default: the server would fetch them). Besides the
    page, the app serves two API endpoints: ``/ask`` (question, k, mode, sources, since, until
    -> ``Answer.to_dict()``) and ``/chat`` (message, history, sources, since, until -> the text
    box, the chat and the Sources HTML).

    >>> demo = build_app(Assistant.open("./idx"), ["What did Rutte say about a European army?"])
    >>> demo.launch(css=PAGE_CSS)
    """
    callbacks = ChatCallbacks(assistant, examples, allow_private=allow_private)
    with gr.Blocks(title="newsrag", analytics_enabled=False) as demo:
        if private:
            page = _layout(None, [], [])
            demo.load(
                callbacks.opened,
                outputs=[page.stats, page.table, page.source_filter, page.header, page.examples],
                **PRIVATE,
            )
        else:
            stats = assistant.index.stats()
            page = _layout(stats, callbacks.example_questions(), callbacks.library()[1])
        _wire(page, callbacks)
    return demo


def _layout(stats: Any, questions: list[str], rows: list[list[str]]) -> Page:
    """The page's components, filled from ``stats`` (None: left empty until the page loads)."""
    parts: dict[str, Any] = {}
    parts["header"] = gr.Markdown(
        render.header_markdown(stats) if stats else "# newsrag", elem_id="newsrag-header"
    )
    parts["turns"] = gr.State([])  # per tab: follow-ups are resolved against it
    parts["cited"] = gr.State([])  # per tab: what each answer's [n] links open
    with gr.Tabs():
        with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
            with gr.Column(scale=3):
                _chat_column(parts, sorted(stats.sources) if stats else [], questions)
            with gr.Column(scale=2):
                gr.Markdown("### Passage", elem_classes="newsrag-panel-title")
                parts["passage"] = gr.HTML(
                    render.PASSAGE_PLACEHOLDER,
                    css_template=render.SOURCES_CSS,
                    js_on_load=CITE_CLICKS_JS,
                    elem_id="newsrag-passage",
                )
                gr.Markdown("### Sources", elem_classes="newsrag-panel-title")
                parts["sources"] = gr.HTML(
                    render.sources_html(None),
                    label="Sources",
                    css_template=render.SOURCES_CSS,
                    max_height=600,
                    elem_id="newsrag-sources",
                )
        with gr.Tab("Your articles", id="articles"):
            _articles_tab(parts, stats, rows)
    return Page(**parts)


def _chat_column(parts: dict[str, Any], source_names: list[str], questions: list[str]) -> None:
    parts["chatbot"] = gr.Chatbot(
        label="Chat",
        height=520,
        placeholder=CHAT_PLACEHOLDER,
        feedback_options=None,
        latex_delimiters=[],
        buttons=["copy"],
        elem_id="newsrag-chat",
    )
    with gr.Row():
        parts["message"] = gr.Textbox(
            label="Question",
            placeholder="Ask a question about the news…",
            show_label=False,
            container=False,
            scale=5,
            autofocus=True,
            elem_id="newsrag-question",
        )
        parts["send"] = gr.Button("Send", variant="primary", size="md", scale=0, min_width=100)
        parts["clear"] = gr.Button("New chat", size="md", scale=0, min_width=100)
    parts["notice"] = gr.Markdown("", elem_id="newsrag-notice")
    with gr.Accordion("Filters", open=False, elem_id="newsrag-filters"), gr.Row():
        parts["source_filter"] = gr.Dropdown(
            choices=source_names,
            multiselect=True,
            label="Sources (none = all)",
            elem_id="newsrag-sources-filter",
        )
        parts["since"] = gr.Textbox(
            "", label="Since", placeholder="YYYY-MM-DD", elem_id="newsrag-since"
        )
        parts["until"] = gr.Textbox(
            "", label="Until", placeholder="YYYY-MM-DD", elem_id="newsrag-until"
        )
    parts["examples"] = gr.Dataset(
        components=[parts["message"]],
        samples=[[q] for q in questions],
        label="Example questions",
        visible=bool(questions),
        elem_id="newsrag-examples",
    )


def _articles_tab(parts: dict[str, Any], stats: Any, rows: list[list[str]]) -> None:
    parts["stats"] = gr.Markdown(
        render.stats_markdown(stats) if stats else "", elem_id="newsrag-stats"
    )
    parts["files"] = gr.File(
        label="Add articles (drop several files: .txt .md .html .json .jsonl)",
        file_count="multiple",
        file_types=UPLOAD_TYPES,
        elem_id="newsrag-upload",
    )
    parts["add"] = gr.Button("Add to the index", variant="primary", elem_id="newsrag-add")
    with gr.Row(equal_height=True):
        parts["url"] = gr.Textbox(
            label="Or add from the web: URLs of pages, RSS/Atom/JSON feeds, sitemaps or PDFs",
            placeholder="https://example.com/news/feed.xml",
            scale=5,
            elem_id="newsrag-url",
        )
        parts["add_url"] = gr.Button("Add URL", scale=0, min_width=120, elem_id="newsrag-add-url")
    parts["summary"] = gr.Markdown(elem_id="newsrag-upload-summary")
    parts["table"] = gr.Dataframe(
        rows,
        headers=["id", "date", "source", "title", "passages"],
        interactive=False,
        wrap=True,
        label="Indexed articles (newest first; click a row to choose it)",
        elem_id="newsrag-articles",
    )
    with gr.Row():
        parts["chosen"] = gr.Textbox(label="Article id", scale=4, elem_id="newsrag-chosen")
        parts["remove"] = gr.Button(
            "Delete", variant="stop", scale=0, min_width=120, elem_id="newsrag-delete"
        )
        parts["confirm"] = gr.Button(
            "Yes, delete",
            variant="stop",
            scale=0,
            min_width=120,
            visible=False,
            elem_id="newsrag-confirm-delete",
        )
        parts["keep"] = gr.Button(
            "Cancel", scale=0, min_width=100, visible=False, elem_id="newsrag-cancel-delete"
        )
    parts["deleted"] = gr.Markdown(elem_id="newsrag-deleted")


def _wire(page: Page, callbacks: ChatCallbacks) -> None:
    """Connect the page's events to ``callbacks``."""
    chat_outputs = [
        page.message,
        page.chatbot,
        page.sources,
        page.turns,
        page.cited,
        page.notice,
        page.passage,
    ]
    gr.on(
        [page.message.submit, page.send.click],
        callbacks.chat,
        inputs=[
            page.message,
            page.chatbot,
            page.turns,
            page.cited,
            page.source_filter,
            page.since,
            page.until,
        ],
        outputs=chat_outputs,
        api_name="chat_page",  # /chat is the API's (chat_api): this one streams to the page
        **ANSWERING,
        **PRIVATE,
    )
    page.examples.click(
        callbacks.pick_example, inputs=[page.examples], outputs=[page.message], **PRIVATE
    )
    page.passage.click(
        callbacks.show_passage, inputs=[page.cited], outputs=[page.passage], **PRIVATE
    )
    page.passage.change(None, js=SCROLL_TO_QUOTE_JS)
    reset = [
        page.message,
        page.chatbot,
        page.sources,
        page.turns,
        page.cited,
        page.passage,
        page.notice,
    ]
    page.clear.click(callbacks.new_chat, outputs=reset, **PRIVATE)
    page.chatbot.clear(callbacks.new_chat, outputs=reset, **PRIVATE)
    library = [page.stats, page.table, page.source_filter, page.header]
    page.add.click(
        callbacks.add_files,
        inputs=[page.files],
        outputs=[page.summary, *library, page.files],
        **WRITING,
    )
    gr.on(
        [page.url.submit, page.add_url.click],
        callbacks.add_urls,
        inputs=[page.url],
        outputs=[page.summary, *library, page.url],
        **WRITING,
    )
    page.table.select(callbacks.pick_row, inputs=[page.table], outputs=[page.chosen], **PRIVATE)
    asking = [page.remove, page.confirm, page.keep, page.deleted]
    page.remove.click(callbacks.ask_to_delete, inputs=[page.chosen], outputs=asking, **PRIVATE)
    page.keep.click(callbacks.keep_article, outputs=asking, **PRIVATE)
    page.confirm.click(
        callbacks.delete_article,
        inputs=[page.chosen],
        outputs=[page.deleted, *library, page.remove, page.confirm, page.keep],
        **WRITING,
    )
    gr.api(callbacks.chat_api, api_name="chat", **ANSWERING)
    gr.api(callbacks.ask, api_name="ask", **ANSWERING)
