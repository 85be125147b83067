"""The newsrag chat page: a Gradio app over an :class:`~assistant.Assistant`.

The callbacks only call the assistant and the index and hand what they return to
:mod:`ui.render`; every browser tab keeps its own conversation in its Chatbot and State values.
"""

# No ``from __future__ import annotations`` here: ``gr.api`` reads the endpoint's return
# annotation with ``inspect.signature``, which would then see a string instead of a type.

import dataclasses
import os
import re
import shutil
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from assistant import Answer, Assistant, Citation, NewsragError
from assistant.uploads import stored_path
from index.records import Problem
from index.retrieval import SearchFilters
from ui import render

History = list[dict[str, Any]]
Turns = list[dict[str, str]]  # this tab's questions, answers and what was searched for
Cited = list[dict[str, Any]]  # this tab's answers' citations, by turn: the [n] links' targets

PAGE_CSS = """
#newsrag-header h1 { margin-bottom: 0.1em; }
#newsrag-header p { color: var(--body-text-color-subdued); margin-top: 0; }
.newsrag-panel-title h3 { margin: 0.2em 0 0.4em; }
"""
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
_UNSAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)


def upload_name(name: str) -> str:
    """A file name that stays inside the upload folder: the last path component, without
    separators, control characters or a leading dot ("../../etc/passwd" -> "passwd")."""
    base = re.split(r"[\\/]", name)[-1]
    base = _UNSAFE_NAME.sub("_", base).strip(" .")
    return base or "upload"


def build_app(assistant: Assistant, examples: Sequence[str] | None = None) -> gr.Blocks:
    """The chat page for ``assistant``, not yet launched.

    ``examples`` are the questions offered under the chat box; by default, questions about the
    three newest articles. Besides the page, the app serves two API endpoints: ``/ask``
    (question, k -> ``Answer.to_dict()``) and ``/chat`` (message, history -> the chat outputs).

    >>> demo = build_app(Assistant.open("./idx"), ["What did Rutte say about a European army?"])
    >>> demo.launch(css=PAGE_CSS)
    """
    index = assistant.index
    questions = (
        list(examples) if examples is not None else render.example_questions(index.articles())
    )
    top_k = assistant.settings.top_k
    uploads = Path(assistant.settings.index_dir) / "uploads"
    writing = threading.Lock()  # one upload or delete at a time; questions go on meanwhile

    def answer(question: str, k: int | None = None) -> Answer:
        if not question.strip():
            raise gr.Error("The question is empty — type a question about the news.")
        if k is not None and k < 1:
            raise gr.Error(f"k={k} is not a number of passages — use 1 or more.")
        try:
            return assistant.ask(question.strip(), k)
        except NewsragError as exc:
            raise gr.Error(str(exc)) from exc

    def chat(
        message: str,
        history: History,
        turns: Turns,
        cited: Cited,
        sources: list[str] | None = None,
        since: str = "",
        until: str = "",
    ) -> Iterator[tuple[Any, ...]]:
        """Answer ``message`` as a follow-up of this tab's ``turns``, within the filters,
        streaming; yields the textbox, the chat, the Sources HTML, the turns and the citations."""
        if not message.strip():
            yield message, history, gr.skip(), turns, cited
            return
        question = message.strip()
        try:
            filters = SearchFilters.build(
                sources or (), since.strip() or None, until.strip() or None
            )
        except NewsragError as exc:
            raise gr.Error(str(exc)) from exc
        asked = [*history, {"role": "user", "content": render.markdown_text(question)}]
        streamed = ""
        try:
            for part in assistant.stream(question, filters=filters, history=turns):
                if isinstance(part, str):
                    streamed += part
                    reply = {"role": "assistant", "content": render.streaming_markdown(streamed)}
                    yield "", [*asked, reply], gr.skip(), turns, cited
                    continue
                turn = len(cited)
                content = render.answer_markdown(part, turn, filters_note(filters))
                entry = {
                    "question": part.question,
                    "answer": part.answer,
                    "resolved_question": part.resolved or part.question,
                }
                record = {
                    "citations": [c.to_dict() for c in part.citations + part.related],
                    "quoted": part.quoted(),  # what the passage view shows in bold
                }
                yield (
                    "",
                    [*asked, {"role": "assistant", "content": content}],
                    render.sources_html(part),
                    [*turns, entry],
                    [*cited, record],
                )
        except NewsragError as exc:
            raise gr.Error(str(exc)) from exc

    def show_passage(cited: Cited, evt: gr.EventData) -> str:
        """The passage a clicked ``[n]`` cites, highlighted in its article."""
        data = getattr(evt, "_data", None) or {}
        turn, n = data.get("turn"), data.get("n")
        if not isinstance(turn, int) or not isinstance(n, int) or not 0 <= turn < len(cited):
            return render.PASSAGE_PLACEHOLDER
        found = [c for c in cited[turn]["citations"] if c["n"] == n]
        if not found:
            return render.PASSAGE_PLACEHOLDER
        citation = Citation(**found[0])
        quoted = cited[turn].get("quoted", {}).get(n, [])
        try:
            text = index.article(citation.article_id).text
        except NewsragError:
            text = None  # deleted since: show the passage on its own
        return render.passage_html(citation, text, quoted)

    def new_chat() -> tuple[str, History, str, Turns, Cited, str]:
        return "", [], render.sources_html(None), [], [], render.PASSAGE_PLACEHOLDER

    def ask(question: str, k: int = top_k) -> dict[str, Any]:
        """Answer ``question`` from the ``k`` best passages: {question, answer, refused,
        citations: [{n, article_id, title, source, published, url, passage, start, end,
        quoted}], related, notices, unsupported, answerer, resolved_question, choice}
        (``newsrag ask --json``)."""
        return answer(question, k).to_dict()

    def library() -> tuple[str, list[list[str]], Any, str]:
        """The articles tab's stats and table, the source filter's choices and the header."""
        stats = index.stats()
        return (
            render.stats_markdown(stats),
            render.article_rows(index.articles()),
            gr.update(choices=sorted(stats.sources)),
            render.header_markdown(stats),
        )

    def add_files(
        files: list[Any] | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - how Gradio injects the progress bar
    ) -> tuple[str, str, list[list[str]], Any, str, None]:
        """Copy the uploaded files into the upload folder and ingest them."""
        if not files:
            raise gr.Error("No files chosen — drop .txt, .md, .html, .json or .jsonl files first.")
        stored: list[Path] = []
        names: dict[str, str] = {}
        unsaved: list[Problem] = []
        for item in files:
            source = Path(item if isinstance(item, str) else item.name)
            try:  # uploads/<digest>/<name>: two files of one name never replace each other
                target = stored_path(uploads, source)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
            except OSError as exc:  # full disk, read-only index folder: skip it, say why
                unsaved.append(
                    Problem(
                        source.name,
                        f"could not be saved to the upload folder ({exc.strerror or exc})",
                        "free some disk space or make the index folder writable, then upload "
                        "it again",
                    )
                )
                continue
            stored.append(target)
            names[str(target)] = source.name
        progress(0, desc="Embedding")

        def bar(total: int) -> Any:
            done = [0]

            def advance(n: int) -> None:
                done[0] += n
                progress(done[0] / max(total, 1), desc=f"Embedding {done[0]}/{total} passages")

            return advance

        with writing:
            try:
                report = index.ingest(stored, progress=bar)
            except NewsragError as exc:
                raise gr.Error(str(exc)) from exc
        report = dataclasses.replace(report, problems=(*unsaved, *report.problems))
        return (render.ingest_summary_markdown(report, names), *library(), None)

    def delete_article(article_id: str) -> tuple[str, str, list[list[str]], Any, str]:
        article_id = article_id.strip()
        if not article_id:
            raise gr.Error("No article chosen — click a row of the table, then Delete.")
        with writing:
            try:
                index.delete(article_id)
            except NewsragError as exc:
                raise gr.Error(str(exc)) from exc
        return (f"Deleted `{render.escape(article_id)}`.", *library())

    def pick_row(rows: Any, evt: gr.SelectData) -> str:
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        values = rows.values.tolist() if hasattr(rows, "values") else rows
        return str(values[row][0]) if 0 <= row < len(values) else ""

    stats = index.stats()
    with gr.Blocks(title="newsrag", analytics_enabled=False) as demo:
        header = gr.Markdown(render.header_markdown(stats), elem_id="newsrag-header")
        turns = gr.State([])  # per tab: follow-ups are resolved against it
        cited = gr.State([])  # per tab: what each answer's [n] links open
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Chat",
                        height=520,
                        placeholder=CHAT_PLACEHOLDER,
                        feedback_options=None,
                        latex_delimiters=[],
                        buttons=["copy"],
                        elem_id="newsrag-chat",
                    )
                    with gr.Row():
                        message = gr.Textbox(
                            label="Question",
                            placeholder="Ask a question about the news…",
                            show_label=False,
                            container=False,
                            scale=5,
                            autofocus=True,
                            elem_id="newsrag-question",
                        )
                        send = gr.Button(
                            "Send", variant="primary", size="md", scale=0, min_width=100
                        )
                        clear = gr.Button("New chat", size="md", scale=0, min_width=100)
                    with (
                        gr.Accordion("Filters", open=False, elem_id="newsrag-filters"),
                        gr.Row(),
                    ):
                        source_filter = gr.Dropdown(
                            choices=sorted(stats.sources),
                            multiselect=True,
                            label="Sources (none = all)",
                            elem_id="newsrag-sources-filter",
                        )
                        since = gr.Textbox(
                            "", label="Since", placeholder="YYYY-MM-DD", elem_id="newsrag-since"
                        )
                        until = gr.Textbox(
                            "", label="Until", placeholder="YYYY-MM-DD", elem_id="newsrag-until"
                        )
                    if questions:
                        gr.Examples(
                            [[q] for q in questions],
                            inputs=[message],
                            label="Example questions",
                        )
                with gr.Column(scale=2):
                    gr.Markdown("### Passage", elem_classes="newsrag-panel-title")
                    passage = gr.HTML(
                        render.PASSAGE_PLACEHOLDER,
                        css_template=render.SOURCES_CSS,
                        js_on_load=CITE_CLICKS_JS,
                        elem_id="newsrag-passage",
                    )
                    gr.Markdown("### Sources", elem_classes="newsrag-panel-title")
                    sources = gr.HTML(
                        render.sources_html(None),
                        label="Sources",
                        css_template=render.SOURCES_CSS,
                        max_height=600,
                        elem_id="newsrag-sources",
                    )
            with gr.Tab("Your articles", id="articles"):
                stats_md = gr.Markdown(render.stats_markdown(stats), elem_id="newsrag-stats")
                files = gr.File(
                    label="Add articles (drop several files: .txt .md .html .json .jsonl)",
                    file_count="multiple",
                    file_types=UPLOAD_TYPES,
                    elem_id="newsrag-upload",
                )
                add = gr.Button("Add to the index", variant="primary", elem_id="newsrag-add")
                summary = gr.Markdown(elem_id="newsrag-upload-summary")
                table = gr.Dataframe(
                    render.article_rows(index.articles()),
                    headers=["id", "date", "source", "title", "passages"],
                    interactive=False,
                    wrap=True,
                    label="Indexed articles (newest first; click a row to choose it)",
                    elem_id="newsrag-articles",
                )
                with gr.Row():
                    chosen = gr.Textbox(label="Article id", scale=4, elem_id="newsrag-chosen")
                    remove = gr.Button("Delete", variant="stop", scale=0, min_width=120)
                deleted = gr.Markdown()
        chat_outputs = [message, chatbot, sources, turns, cited]
        gr.on(
            [message.submit, send.click],
            chat,
            inputs=[message, chatbot, turns, cited, source_filter, since, until],
            outputs=chat_outputs,
            api_name="chat",
            concurrency_id="assistant",
            concurrency_limit=ANSWER_CONCURRENCY,
        )
        passage.click(show_passage, inputs=[cited], outputs=[passage], api_visibility="private")
        passage.change(None, js=SCROLL_TO_QUOTE_JS)
        reset = [message, chatbot, sources, turns, cited, passage]
        clear.click(new_chat, outputs=reset, api_visibility="private")
        chatbot.clear(new_chat, outputs=reset, api_visibility="private")
        add.click(
            add_files,
            inputs=[files],
            outputs=[summary, stats_md, table, source_filter, header, files],
            concurrency_id="writes",
            concurrency_limit=1,  # not GRADIO_DEFAULT_CONCURRENCY_LIMIT: one write at a time
            api_visibility="private",
        )
        table.select(pick_row, inputs=[table], outputs=[chosen], api_visibility="private")
        remove.click(
            delete_article,
            inputs=[chosen],
            outputs=[deleted, stats_md, table, source_filter, header],
            concurrency_id="writes",
            concurrency_limit=1,  # not GRADIO_DEFAULT_CONCURRENCY_LIMIT: one write at a time
            api_visibility="private",
        )
        # every event of a concurrency group needs the limit: Gradio keeps the group's lowest,
        # and one left at the default (1) would serialise all answering after the first /ask
        gr.api(
            ask,
            api_name="ask",
            concurrency_id="assistant",
            concurrency_limit=ANSWER_CONCURRENCY,
        )
    return demo


def filters_note(filters: SearchFilters | None) -> str:
    """How the filters read in the chat ("sources: Reuters; since 2026-01-01"), or ""."""
    return filters.describe() if filters is not None else ""


def launch(
    assistant: Assistant,
    host: str = "127.0.0.1",
    port: int = 7860,
    examples: Sequence[str] | None = None,
    **launch_kwargs: Any,
) -> gr.Blocks:
    """Build the chat page for ``assistant`` and serve it at http://host:port.

    Blocks unless ``prevent_thread_lock=True`` is passed; returns the app (``.close()`` stops it).
    Other keyword arguments go to ``gr.Blocks.launch`` (``auth=[(user, password)]`` asks for a
    login).
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    demo = build_app(assistant, examples)
    options: dict[str, Any] = {"show_error": True, "css": PAGE_CSS, **launch_kwargs}
    demo.launch(server_name=host, server_port=port, **options)
    return demo
