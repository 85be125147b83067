"""What the ``newsrag`` command prints: answers with their sources, ingest reports, progress."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TextIO

import click

from assistant.claims import backing_sentences
from assistant.followup import Turn
from assistant.records import Answer, Citation
from index.chunking import sentence_spans
from index.newsindex import NewsIndex
from index.records import Copy, Hit, IngestReport
from index.retrieval import SearchRequest

if TYPE_CHECKING:
    from assistant.api import Assistant

REPL_COMMANDS = (
    (":help", "this list"),
    (":new", "start a new conversation: follow-ups forget the questions before"),
    (":quit", "leave (also :q, :exit or Ctrl-D)"),
)
REPL_QUIT = (":quit", ":q", ":exit")
PASSAGE_LINES = 6  # lines of each cited passage an answer shows
HIT_LINES = 4  # lines of each passage `newsrag search` shows


def progress_bar(desc: str, unit: str) -> Callable[[int], Callable[[int], None]]:
    """A progress callback factory for the library: given the total, returns ``advance(n)``."""

    def start(total: int) -> Callable[[int], None]:
        from tqdm import tqdm

        bar = tqdm(
            total=total, unit=unit, desc=desc, file=sys.stderr, leave=False, disable=total == 0
        )

        def advance(done: int) -> None:
            bar.update(done)
            if bar.n >= total:
                bar.close()

        return advance

    return start


def plural(count: int, word: str) -> str:
    """ "1 chunk", "2 chunks"."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def print_report(report: IngestReport, index: NewsIndex) -> None:
    articles, chunks = index.store.counts()
    click.echo(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} "
        f"unchanged, {len(report.skipped)} skipped ({plural(report.chunks_written, 'chunk')} "
        f"written in {report.seconds:.1f} s). The index at {index.store.location} holds "
        f"{plural(articles, 'article')}, {plural(chunks, 'chunk')}."
    )
    for label, problems in (("Skipped", report.skipped), ("Warnings", report.warnings)):
        if problems:
            click.echo(f"{label}:", err=True)
            for problem in problems:
                click.echo(f"  {problem}", err=True)


def repl_banner(articles: int, location: str) -> str:
    """What ``newsrag repl`` says first: the index, its size, how to get help."""
    return (
        f"newsrag repl over {location} ({plural(articles, 'article')}). Ask a question; "
        "follow-ups such as 'What about the Arctic?' are read against the conversation. "
        "Type :help for commands."
    )


def repl_help() -> str:
    """The repl's commands, one a line."""
    lines = ["Commands:", *(f"  {name:<7} {what}" for name, what in REPL_COMMANDS)]
    return "\n".join([*lines, "Anything else is a question."])


def repl_command(line: str) -> str | None:
    """What a repl line that starts with ':' asks for: "help", "new", "quit", or an
    "unknown" note; None for a question."""
    word = line.split()[0].lower() if line.startswith(":") else ""
    if not word:
        return None
    if word in REPL_QUIT:
        return "quit"
    if word in (":help", ":h", ":?"):
        return "help"
    if word == ":new":
        return "new"
    return f"Unknown command {word} — type :help for the list."


def run_repl(
    assistant: Assistant,
    lines: TextIO,
    template: SearchRequest,
    *,
    as_json: bool,
) -> None:
    """``newsrag repl``: answer the questions read from ``lines`` one after another, each as
    a follow-up of the ones before, until :quit or the end of the input; each is searched
    as ``template`` says (its text replaced by the question)."""
    articles, _ = assistant.index.store.counts()
    click.echo(repl_banner(articles, assistant.index.store.location), err=True)
    interactive = lines.isatty()
    turns: list[Turn] = []
    while True:
        if interactive:
            click.echo("newsrag> ", nl=False)
        line = lines.readline()
        if not line:
            break
        question = line.strip()
        command = repl_command(question)
        if command == "quit":
            break
        if command == "new":
            turns = []
            click.echo("(new conversation)", err=True)
            continue
        if command is not None:  # :help, or a command that is not one
            click.echo(repl_help() if command == "help" else command, err=True)
            continue
        if not question:
            continue
        request = replace(template, text=question)
        if as_json:
            answer = assistant.ask(request, history=turns)
            click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        else:
            resolved = assistant.resolve(question, turns)
            if resolved != question:
                click.echo(f"(searched for: {resolved})")
            answer = echo_stream(assistant.stream(request, history=turns))
            click.echo()
        turns.append(Turn(answer.question, answer.answer, answer.resolved))


def also_in(copies: Sequence[Copy]) -> str:
    """The other outlets of a story: "Daily Post (2026-03-02), Wire Service"."""
    names = []
    for copy in copies:
        name = copy.source or copy.url or copy.title
        names.append(f"{name} ({copy.published})" if copy.published else name)
    return ", ".join(names)


def format_hits(hits: Sequence[Hit], width: int = 100, query: str = "") -> str:
    """Ranked passages with their article, date and scores, for ``newsrag search``; each shown
    from the sentence that best matches ``query`` (see :func:`excerpt`)."""
    if not hits:
        return "No passages found."
    lines: list[str] = []
    for hit in hits:
        c = hit.chunk
        page = f"p. {c.page}" if c.page is not None else None
        meta = ", ".join(x for x in (c.source, c.published, page) if x)
        if hit.also_in:
            meta += f" · also in: {also_in(hit.also_in)}"
        lines += [
            f"{hit.rank}. {c.title}" + (f" — {meta}" if meta else ""),
            f"   cosine {hit.score:.3f} · relevance {hit.relevance:.3f} · {c.id}",
            textwrap.fill(
                excerpt(
                    c.text,
                    backing_sentences(c.text, [query] if query else []),
                    (width - 8) * HIT_LINES,
                ),
                width,
                initial_indent="   ",
                subsequent_indent="   ",
                max_lines=HIT_LINES,
                placeholder=" …",
            ),
            "",
        ]
    return "\n".join(lines).rstrip()


def echo_stream(parts: Iterable[str | Answer], width: int = 100) -> Answer:
    """Print an answer as it is written, then its notices and sources; returns the Answer.

    The streamed text is the model's raw words; if checking its citations changed it (markers
    renumbered or dropped), the checked answer is printed after it.
    """
    streamed: list[str] = []
    for part in parts:
        if isinstance(part, Answer):
            if not streamed:  # nothing came before the Answer (a refusal or a fallback)
                click.echo(format_answer(replace(part, resolved=None), width))
            else:
                click.echo("\n" + _after_stream(part, "".join(streamed), width))
            return part
        streamed.append(part)
        click.echo(part, nl=False)
    raise RuntimeError("the answer stream ended without an Answer")


def _after_stream(answer: Answer, streamed: str, width: int) -> str:
    lines = [f"Note: {notice}" for notice in answer.notices]
    if streamed.strip() != answer.answer.strip():
        lines += ["Checked answer:", textwrap.fill(answer.answer, width)]
    lines += _sources(answer, width)
    return "\n".join(lines)


def _header(answer: Answer) -> str:
    lines = [f"(searched for: {answer.resolved})"] if answer.resolved else []
    lines += [f"Note: {notice}" for notice in answer.notices]
    return "".join(f"{line}\n" for line in lines)


def _sources(answer: Answer, width: int) -> list[str]:
    lines = _passages(answer.citations, width, answer.quoted())
    if answer.related:
        lines += ["", "Related passages (they do not answer the question):"]
        question = [answer.resolved or answer.question]
        matching = {c.n: backing_sentences(c.passage, question) for c in answer.related}
        lines += _passages(answer.related, width, matching)
    return lines


def format_answer(answer: Answer, width: int = 100) -> str:
    """The answer, then each cited passage with its title, source and date; a refusal lists the
    closest passages as related; notices and the resolved follow-up question come first."""
    lines = [_header(answer) + textwrap.fill(answer.answer, width), *_sources(answer, width)]
    return "\n".join(lines)


def _passages(
    citations: Sequence[Citation], width: int, shown: dict[int, list[tuple[int, int]]]
) -> list[str]:
    """Each passage with its title, source and date, shown from the first of ``shown[n]``
    (the sentences to keep in view)."""
    lines: list[str] = []
    for c in citations:
        page = f"p. {c.page}" if c.page is not None else None
        meta = ", ".join(x for x in (c.source, c.published, page) if x)
        lines += ["", f"[{c.n}] {c.title}" + (f" — {meta}" if meta else "")]
        if c.url:
            lines.append(f"    {c.url}")
        if c.also_in:
            lines.append("    also in: " + also_in(c.also_in))
        lines.append(
            textwrap.fill(
                excerpt(c.passage, shown.get(c.n, []), (width - 8) * PASSAGE_LINES),
                width,
                initial_indent="    ",
                subsequent_indent="    ",
                max_lines=PASSAGE_LINES,
                placeholder=" …",
            )
        )
    return lines


def excerpt(passage: str, spans: Sequence[tuple[int, int]], room: int) -> str:
    """``passage`` shown so that the first of ``spans`` (sentences of it, in order; see
    :func:`backing_sentences`) is in view: from as many sentences before it as fit in ``room``
    characters with it, marked "… " when that is not the passage's start.

    >>> excerpt("Talks began. Rutte warned of a European army.", [(13, 45)], 40)
    '… Rutte warned of a European army.'
    """
    if not spans:
        return passage
    sentences = sentence_spans(passage)
    target = spans[0]
    first = next((i for i, s in enumerate(sentences) if s[0] >= target[0]), len(sentences))
    while first > 0 and target[1] - sentences[first - 1][0] <= room:
        first -= 1
    if first == 0 or first == len(sentences):
        return passage
    return "… " + passage[sentences[first][0] :]
