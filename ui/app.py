"""The newsrag chat page: a Gradio app over an :class:`~assistant.Assistant`.

The callbacks only call the assistant and hand its Answer to :mod:`ui.render`; every browser tab
keeps its own history in its Chatbot value.
"""

# No ``from __future__ import annotations`` here: ``gr.api`` reads the endpoint's return
# annotation with ``inspect.signature``, which would then see a string instead of a type.

import os
from collections.abc import Iterator, Sequence
from typing import Any

import gradio as gr

from assistant import Answer, Assistant, NewsragError
from ui import render

History = list[dict[str, Any]]
Turns = list[dict[str, str]]  # this tab's questions, answers and what was searched for

PAGE_CSS = """
#newsrag-header h1 { margin-bottom: 0.1em; }
#newsrag-header p { color: var(--body-text-color-subdued); margin-top: 0; }
#newsrag-sources-title h3 { margin: 0.2em 0 0.4em; }
"""
CHAT_PLACEHOLDER = (
    "Ask about the indexed news articles. Answers quote the articles verbatim and cite them "
    "as [1], [2], …; the cited passages appear under **Sources**."
)


def build_app(assistant: Assistant, examples: Sequence[str] | None = None) -> gr.Blocks:
    """The chat page for ``assistant``, not yet launched.

    ``examples`` are the questions offered under the chat box; by default, questions about the
    three newest articles. Besides the page, the app serves two API endpoints: ``/ask``
    (question, k -> ``Answer.to_dict()``) and ``/chat`` (message, history -> the chat outputs).

    >>> demo = build_app(Assistant.open("./idx"), ["What did Rutte say about a European army?"])
    >>> demo.launch(css=PAGE_CSS)
    """
    stats = assistant.index.stats()
    questions = (
        list(examples)
        if examples is not None
        else render.example_questions(assistant.index.articles())
    )
    top_k = assistant.settings.top_k

    def answer(question: str, k: int | None = None) -> Answer:
        if not question.strip():
            raise gr.Error("The question is empty — type a question about the news.")
        if k is not None and k < 1:
            raise gr.Error(f"k={k} is not a number of passages — use 1 or more.")
        try:
            return assistant.ask(question.strip(), k)
        except NewsragError as exc:
            raise gr.Error(str(exc)) from exc

    def chat(message: str, history: History, turns: Turns) -> Iterator[tuple[Any, ...]]:
        """Answer ``message`` as a follow-up of this tab's ``turns``, streaming; yields the
        textbox, the chat history, the Sources HTML and the turns."""
        if not message.strip():
            yield message, history, gr.skip(), turns
            return
        question = message.strip()
        asked = [*history, {"role": "user", "content": render.markdown_text(question)}]
        streamed = ""
        try:
            for part in assistant.stream(question, history=turns):
                if isinstance(part, str):
                    streamed += part
                    reply = {"role": "assistant", "content": render.streaming_markdown(streamed)}
                    yield "", [*asked, reply], gr.skip(), turns
                    continue
                reply = {"role": "assistant", "content": render.answer_markdown(part)}
                turn = {
                    "question": part.question,
                    "answer": part.answer,
                    "resolved_question": part.resolved or part.question,
                }
                yield "", [*asked, reply], render.sources_html(part), [*turns, turn]
        except NewsragError as exc:
            raise gr.Error(str(exc)) from exc

    def new_chat() -> tuple[str, History, str, Turns]:
        return "", [], render.sources_html(None), []

    def ask(question: str, k: int = top_k) -> dict[str, Any]:
        """Answer ``question`` from the ``k`` best passages: {question, answer, refused,
        citations: [{n, article_id, title, source, published, url, passage, start, end}],
        related, notices, unsupported, answerer, resolved_question} (``newsrag ask --json``)."""
        return answer(question, k).to_dict()

    with gr.Blocks(title="newsrag", analytics_enabled=False) as demo:
        gr.Markdown(render.header_markdown(stats), elem_id="newsrag-header")
        turns = gr.State([])  # per tab: follow-ups are resolved against it
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Chat",
                    height=520,
                    placeholder=CHAT_PLACEHOLDER,
                    feedback_options=None,
                    latex_delimiters=[],
                    buttons=["copy"],
                )
                with gr.Row():
                    message = gr.Textbox(
                        label="Question",
                        placeholder="Ask a question about the news…",
                        show_label=False,
                        container=False,
                        scale=5,
                        autofocus=True,
                    )
                    send = gr.Button("Send", variant="primary", size="md", scale=0, min_width=120)
                    clear = gr.Button("New chat", size="md", scale=0, min_width=120)
                if questions:
                    gr.Examples(
                        [[q] for q in questions], inputs=[message], label="Example questions"
                    )
            with gr.Column(scale=2):
                gr.Markdown("### Sources", elem_id="newsrag-sources-title")
                sources = gr.HTML(
                    render.sources_html(None),
                    label="Sources",
                    css_template=render.SOURCES_CSS,
                    js_on_load=None,
                    max_height=600,
                    elem_id="newsrag-sources",
                )
        gr.on(
            [message.submit, send.click],
            chat,
            inputs=[message, chatbot, turns],
            outputs=[message, chatbot, sources, turns],
            api_name="chat",
            concurrency_id="assistant",
        )
        outputs = [message, chatbot, sources, turns]
        clear.click(new_chat, outputs=outputs, api_visibility="private")
        chatbot.clear(new_chat, outputs=outputs, api_visibility="private")
        gr.api(ask, api_name="ask", concurrency_id="assistant")
    return demo


def launch(
    assistant: Assistant,
    host: str = "127.0.0.1",
    port: int = 7860,
    examples: Sequence[str] | None = None,
    **launch_kwargs: Any,
) -> gr.Blocks:
    """Build the chat page for ``assistant`` and serve it at http://host:port.

    Blocks unless ``prevent_thread_lock=True`` is passed; returns the app (``.close()`` stops it).
    Other keyword arguments go to ``gr.Blocks.launch``.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    demo = build_app(assistant, examples)
    options: dict[str, Any] = {"show_error": True, "css": PAGE_CSS, **launch_kwargs}
    demo.launch(server_name=host, server_port=port, **options)
    return demo
