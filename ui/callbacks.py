"""What the chat page's events do: each method parses the page's input, calls the assistant or
the index, and hands the result to :mod:`ui.render`.

Every browser tab keeps its own conversation in its Chatbot and State values, which come in and
go out of these methods; the object itself holds only what all tabs share.
"""

# No ``from __future__ import annotations`` here: ``gr.api`` reads the endpoint's signature
# and return annotation with ``inspect.signature``, which would then see strings, not types.

import dataclasses
import logging
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gradio as gr

from assistant import Answer, Assistant, Citation, NewsragError
from assistant.uploads import safe_name, stored_path
from index.config import SEARCH_MODES
from index.errors import ConfigError
from index.fetch import FetchPolicy
from index.records import IngestReport, Problem
from index.retrieval import SearchFilters
from ui import render

History = list[dict[str, Any]]
Turns = list[dict[str, str]]  # this tab's questions, answers and what was searched for
Cited = list[dict[str, Any]]  # this tab's answers' citations, by turn: the [n] links' targets
# the least time between two pieces of an answer on the page: the extractive answerer writes
# all its sentences at once, and a reader should see them arrive one after another
STREAM_PAUSE = 0.06
MAX_K = 50  # passages an API caller may ask for
NOTICE_MARK = "\u26a0\ufe0f "
log = logging.getLogger("newsrag.ui")


upload_name = safe_name  # the library's rule (assistant.uploads), kept under the page's name


def check_k(k: Any) -> int:
    """``k`` as a number of passages (1 to MAX_K), or a ConfigError saying what to send."""
    if isinstance(k, float) and k.is_integer():
        k = int(k)
    if isinstance(k, bool) or not isinstance(k, int):
        raise ConfigError(f"k={k!r} is not a whole number of passages — send 1 to {MAX_K}.")
    if not 1 <= k <= MAX_K:
        raise ConfigError(f"k={k} is not a number of passages — use 1 to {MAX_K}.")
    return k


def check_mode(mode: Any) -> str | None:
    """``mode`` if it is a search mode (None for the index's default), else a ConfigError."""
    if mode is None or mode == "":
        return None
    if mode not in SEARCH_MODES:
        raise ConfigError(
            f"mode={mode!r} is not a search mode — use one of {', '.join(SEARCH_MODES)}."
        )
    return str(mode)


def check_filters(sources: Any, since: Any, until: Any) -> SearchFilters:
    """The search filters from the page's or an API caller's input (a list of source names,
    dates as YYYY-MM-DD or empty), or a ConfigError naming the bad value."""
    if sources is None:
        sources = []
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, list | tuple) or not all(isinstance(s, str) for s in sources):
        raise ConfigError(f"sources={sources!r} is not a list of source names.")
    for name, value in (("since", since), ("until", until)):
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{name}={value!r} is not a date — write it as YYYY-MM-DD.")
    return SearchFilters.build(
        sources, (since or "").strip() or None, (until or "").strip() or None
    )


def filters_note(filters: SearchFilters | None) -> str:
    """How the filters read in the chat ("sources: Reuters; since 2026-01-01"), or ""."""
    return filters.describe() if filters is not None else ""


def notice_markdown(message: str) -> str:
    """A problem with the user's input, shown under the question box."""
    return NOTICE_MARK + render.markdown_text(message)


class ChatCallbacks:
    """The chat page's event handlers over ``assistant`` (see :func:`ui.layout.build_app`).

    >>> callbacks = ChatCallbacks(Assistant.open("./idx"))
    >>> callbacks.ask("What did Rutte say about a European army?")["answer"]
    """

    def __init__(
        self,
        assistant: Assistant,
        examples: Sequence[str] | None = None,
        stream_pause: float = STREAM_PAUSE,
        *,
        allow_private: bool = False,
    ) -> None:
        self.assistant = assistant
        self.stream_pause = stream_pause
        self.examples = None if examples is None else list(examples)
        self.index = assistant.index
        self.top_k = assistant.settings.top_k
        self.uploads = Path(assistant.settings.index_dir) / "uploads"
        self.writing = threading.Lock()  # one upload or delete at a time; questions go on
        self.fetch = FetchPolicy(allow_private=allow_private)  # the Add URL box's fetching

    # -- answering ---------------------------------------------------------------------------

    def answer(self, question: Any, k: Any = None, mode: Any = None, filters: Any = None) -> Answer:
        """The assistant's answer, every argument checked first; errors become ``gr.Error``."""
        try:
            if not isinstance(question, str) or not question.strip():
                raise ConfigError("The question is empty — type a question about the news.")
            passages = check_k(k) if k is not None else None
            search_mode = check_mode(mode)
            return self.assistant.ask(question.strip(), passages, mode=search_mode, filters=filters)
        except NewsragError as exc:
            raise gr.Error(str(exc)) from exc

    def ask(
        self,
        question: str,
        k: int | None = None,
        mode: str | None = None,
        sources: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> dict[str, Any]:
        """Answer ``question`` from the ``k`` best passages (default: the index's top_k; mode
        hybrid, dense or keyword; only ``sources``, articles published ``since``/``until``
        YYYY-MM-DD): {question, answer, refused, citations: [{n, article_id, title, source,
        published, url, passage, start, end, quoted}], related, notices, unsupported,
        answerer, resolved_question, choice} (``newsrag ask --json``)."""
        try:
            filters = check_filters(sources, since, until)
        except NewsragError as exc:
            raise gr.Error(str(exc)) from exc
        return self.answer(
            question, self.top_k if k is None else k, mode, filters or None
        ).to_dict()

    def chat_api(
        self,
        message: str,
        history: History,
        sources: list[str] | None = None,
        since: str = "",
        until: str = "",
    ) -> tuple[str, History, str]:
        """Answer ``message`` as a follow-up of ``history`` (chat messages), within the
        filters: (the cleared text box, the history with the answer, the Sources HTML)."""
        if not isinstance(message, str) or not message.strip():
            raise gr.Error("The message is empty — type a question about the news.")
        if not isinstance(history, list) or not all(isinstance(m, dict) for m in history):
            raise gr.Error("history is not a list of chat messages ({role, content}).")
        try:
            filters = check_filters(sources, since, until)
            *_, final = self._replies(message.strip(), history, [], [], filters, history)
        except NewsragError as exc:
            raise gr.Error(str(exc)) from exc
        return final[0], final[1], final[2]

    def chat(
        self,
        message: str,
        history: History,
        turns: Turns,
        cited: Cited,
        sources: list[str] | None = None,
        since: str = "",
        until: str = "",
    ) -> Iterator[tuple[Any, ...]]:
        """Answer ``message`` as a follow-up of this tab's ``turns``, within the filters,
        streaming. Yields the text box, the chat, the Sources HTML, the turns, the citations,
        the notice under the box and the Passage panel. A problem with the input (a bad date,
        an index error) is a notice under the box, logged in one line; the conversation stays."""
        if not isinstance(message, str) or not message.strip():
            yield message, history, gr.skip(), turns, cited, "", gr.skip()
            return
        try:
            filters = check_filters(sources, since, until)
            yield from self._replies(message.strip(), history, turns, cited, filters, turns)
        except NewsragError as exc:
            log.warning("chat: %s", exc)
            yield message, history, gr.skip(), turns, cited, notice_markdown(str(exc)), gr.skip()

    def _replies(
        self,
        question: str,
        history: History,
        turns: Turns,
        cited: Cited,
        filters: SearchFilters,
        follows: Sequence[Any],
    ) -> Iterator[tuple[Any, ...]]:
        """The page's updates while ``question`` is answered (see :meth:`chat`): the answer
        text as it is written, then the answer with its links and sources."""
        asked = [*history, {"role": "user", "content": render.markdown_text(question)}]
        streamed = ""
        cleared = render.PASSAGE_PLACEHOLDER  # the last answer's passage goes with it
        shown = 0.0
        for part in self.assistant.stream(question, filters=filters, history=follows):
            if isinstance(part, str):
                if streamed:
                    time.sleep(max(0.0, shown + self.stream_pause - time.monotonic()))
                shown = time.monotonic()
                streamed += part
                reply = {"role": "assistant", "content": render.streaming_markdown(streamed)}
                yield "", [*asked, reply], gr.skip(), turns, cited, "", cleared
                continue
            content = render.answer_markdown(part, len(cited), filters_note(filters))
            yield (
                "",
                [*asked, {"role": "assistant", "content": content}],
                render.sources_html(part),
                [*turns, turn_record(part)],
                [*cited, citation_record(part)],
                "",
                cleared,
            )

    def show_passage(self, cited: Cited, evt: gr.EventData) -> str:
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
            text = self.index.article(citation.article_id).text
        except NewsragError:
            text = None  # deleted since: show the passage on its own
        return render.passage_html(citation, text, quoted)

    def new_chat(self) -> tuple[str, History, str, Turns, Cited, str, str]:
        return "", [], render.sources_html(None), [], [], render.PASSAGE_PLACEHOLDER, ""

    def example_questions(self) -> list[str]:
        """The questions offered under the chat box: the given ones, or questions about the
        three newest articles."""
        if self.examples is not None:
            return self.examples
        return render.example_questions(self.index.articles())

    def pick_example(self, sample: Any) -> str:
        """The question of a clicked example."""
        if isinstance(sample, list | tuple):
            return str(sample[0]) if sample else ""
        return str(sample or "")

    def opened(self) -> tuple[str, list[list[str]], Any, str, Any]:
        """What a private page (behind a login) shows once it opens: the articles tab, the
        source filter's choices, the header and the example questions."""
        questions = self.example_questions()
        examples = gr.update(samples=[[q] for q in questions], visible=bool(questions))
        return (*self.library(), examples)

    # -- the articles tab --------------------------------------------------------------------

    def library(self) -> tuple[str, list[list[str]], Any, str]:
        """The articles tab's stats and table, the source filter's choices and the header."""
        stats = self.index.stats()
        return (
            render.stats_markdown(stats),
            render.article_rows(self.index.articles()),
            gr.update(choices=sorted(stats.sources)),
            render.header_markdown(stats),
        )

    def add_files(
        self,
        files: list[Any] | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - how Gradio injects the progress bar
    ) -> tuple[str, str, list[list[str]], Any, str, None]:
        """Copy the uploaded files into the upload folder and ingest them."""
        if not files:
            raise gr.Error("No files chosen — drop .txt, .md, .html, .json or .jsonl files first.")
        stored, names, unsaved = self._save_uploads(files)
        report = self._ingest(stored, progress, unsaved)
        return (render.ingest_summary_markdown(report, names), *self.library(), None)

    def add_urls(
        self,
        text: str | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - how Gradio injects the progress bar
    ) -> tuple[str, str, list[list[str]], Any, str, str]:
        """Fetch and ingest the web pages, feeds, sitemaps or PDFs at the URLs in ``text`` (see
        :func:`split_urls`). A bad URL is a line of the summary; the box keeps the text when
        one was skipped, so it can be corrected."""
        urls, refused = split_urls(text or "")
        if not urls and not refused:
            notice = notice_markdown("No URL given — paste the address of a page or a feed.")
            return (notice, *self.library(), text or "")
        report = self._ingest(urls, progress, refused, fetch=self.fetch)
        kept = (text or "") if report.skipped else ""
        return (render.ingest_summary_markdown(report), *self.library(), kept)

    def _ingest(
        self,
        inputs: Sequence[str | Path],
        progress: gr.Progress,
        problems: Sequence[Problem],
        fetch: FetchPolicy | None = None,
    ) -> IngestReport:
        """Ingest ``inputs`` (one write at a time), with ``problems`` met before it reported
        first; an error of the index becomes ``gr.Error``."""
        progress(0, desc="Reading" if fetch else "Embedding")
        with self.writing:
            try:
                report = self.index.ingest(inputs, progress=embedding_bar(progress), fetch=fetch)
            except NewsragError as exc:
                raise gr.Error(str(exc)) from exc
        return dataclasses.replace(report, problems=(*problems, *report.problems))

    def _save_uploads(self, files: list[Any]) -> tuple[list[Path], dict[str, str], list[Problem]]:
        """The uploads copied into the upload folder, their given names, and those not saved."""
        stored: list[Path] = []
        names: dict[str, str] = {}
        unsaved: list[Problem] = []
        for item in files:
            source = Path(item if isinstance(item, str) else item.name)
            try:  # uploads/<digest>/<name>: two files of one name never replace each other
                target = stored_path(self.uploads, source)
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
        return stored, names, unsaved

    def ask_to_delete(self, article_id: str) -> tuple[Any, Any, Any, str]:
        """The Delete button asks first: it gives way to "Yes, delete" and "Cancel"."""
        article_id = (article_id or "").strip()
        if not article_id:
            raise gr.Error("No article chosen — click a row of the table, then Delete.")
        question = (
            f"Delete `{render.escape(article_id)}` and all its passages from the index? "
            "This cannot be undone."
        )
        return gr.update(visible=False), gr.update(visible=True), gr.update(visible=True), question

    def keep_article(self) -> tuple[Any, Any, Any, str]:
        """Cancel: nothing is deleted, the Delete button is back."""
        return gr.update(visible=True), gr.update(visible=False), gr.update(visible=False), ""

    def delete_article(self, article_id: str) -> tuple[Any, ...]:
        """Delete the chosen article (confirmed): a note, the articles tab, the buttons back."""
        article_id = (article_id or "").strip()
        buttons = self.keep_article()[:3]
        if not article_id:
            raise gr.Error("No article chosen — click a row of the table, then Delete.")
        with self.writing:
            try:
                self.index.delete(article_id)
            except NewsragError as exc:
                raise gr.Error(str(exc)) from exc
        return (f"Deleted `{render.escape(article_id)}`.", *self.library(), *buttons)

    def pick_row(self, rows: Any, evt: gr.SelectData) -> str:
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        values = rows.values.tolist() if hasattr(rows, "values") else rows
        return str(values[row][0]) if 0 <= row < len(values) else ""


def embedding_bar(progress: gr.Progress) -> Any:
    """The ingest's progress callback: ``bar(total)`` gives a function that advances the page's
    bar by n passages."""

    def bar(total: int) -> Any:
        done = [0]

        def advance(n: int) -> None:
            done[0] += n
            progress(done[0] / max(total, 1), desc=f"Embedding {done[0]}/{total} passages")

        return advance

    return bar


def split_urls(text: str) -> tuple[list[str], list[Problem]]:
    """The http(s) URLs in ``text`` (split by spaces or lines, a comma ending one dropped; each
    once), and a Problem for each other word: the box reads web addresses, never a path on the
    server. A comma inside a URL stays: some news sites put one in their paths."""
    urls: list[str] = []
    refused: list[Problem] = []
    for word in dict.fromkeys(w.rstrip(",") for w in text.split() if w.rstrip(",")):
        parts = urlsplit(word)
        if parts.scheme.lower() in ("http", "https") and parts.netloc:
            urls.append(word)
            continue
        refused.append(
            Problem(
                word,
                "is not a web address (http:// or https://)",
                "paste the full address of a page, feed, sitemap or PDF, such as "
                "https://example.com/news/feed.xml",
            )
        )
    return urls, refused


def turn_record(answer: Answer) -> dict[str, str]:
    """What this tab remembers of ``answer`` to resolve the next follow-up."""
    return {
        "question": answer.question,
        "answer": answer.answer,
        "resolved_question": answer.resolved or answer.question,
    }


def citation_record(answer: Answer) -> dict[str, Any]:
    """What this tab remembers of ``answer``'s citations: the targets of its ``[n]`` links."""
    return {
        "citations": [c.to_dict() for c in answer.citations + answer.related],
        "quoted": answer.quoted(),  # what the passage view shows in bold
    }
