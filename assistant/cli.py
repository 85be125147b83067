"""The ``newsrag`` command: a thin layer that parses flags, calls the library and prints."""

from __future__ import annotations

import gc
import json
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from assistant.api import Assistant
from assistant.config import AssistantSettings
from assistant.console import (
    echo_stream,
    format_answer,
    format_hits,
    print_report,
    progress_bar,
    run_repl,
)
from assistant.followup import load_history
from index.config import ENCODERS, SEARCH_MODES
from index.errors import NewsragError
from index.newsindex import NewsIndex
from index.retrieval import SearchFilters, SearchRequest
from index.sources import nothing_matches

F = TypeVar("F", bound=Callable[..., Any])
EXIT_SKIPPED = 3  # ingest finished, but some inputs were skipped


class NewsragGroup(click.Group):
    """Turns library errors into ``Error: <message>`` and exit code 1, without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsragError as exc:
            raise click.ClickException(str(exc)) from exc


def index_options(func: F) -> F:
    """--index, --embedding-model and --chroma-url, the same on every command."""
    func = click.option(
        "--chroma-url",
        metavar="URL",
        help="Use the Chroma server at http(s)://HOST:PORT instead of the embedded store "
        "(start one with 'chroma run --path DIR --port 8000'); --index then only holds the "
        "keyword index [env NEWSRAG_CHROMA_URL].",
    )(func)
    func = click.option(
        "--embedding-model",
        metavar="NAME|PATH",
        help="sentence-transformers model name or folder "
        "[env NEWSRAG_EMBEDDING_MODEL; default all-MiniLM-L6-v2].",
    )(func)
    return click.option(
        "--index",
        "index_dir",
        type=click.Path(path_type=Path),
        metavar="DIR",
        help="Index folder [env NEWSRAG_INDEX; default ~/.local/share/newsrag/index].",
    )(func)


def top_k_option(func: F) -> F:
    return click.option(
        "-k",
        "--top-k",
        type=click.IntRange(min=1),
        metavar="N",
        help="Passages to retrieve [env NEWSRAG_TOP_K; default 5].",
    )(func)


def search_options(func: F) -> F:
    """--mode, --as-of, --source, --since and --until: how passages are found."""
    options = [
        click.option(
            "--until",
            metavar="DATE",
            help="Only articles published on or before DATE (YYYY-MM-DD).",
        ),
        click.option(
            "--since",
            metavar="DATE",
            help="Only articles published on or after DATE (YYYY-MM-DD).",
        ),
        click.option(
            "--source",
            "sources",
            multiple=True,
            metavar="NAME",
            help="Only articles from this source (repeatable; case, punctuation and a leading "
            "'The' do not matter: 'harbour ledger' is The Harbour Ledger).",
        ),
        click.option(
            "--as-of",
            metavar="DATE",
            default="today",
            show_default=True,
            help="The date the question is asked on: 'last week' and recency are read from it.",
        ),
        click.option(
            "--mode",
            type=click.Choice(SEARCH_MODES),
            help="Search mode [env NEWSRAG_SEARCH_MODE; default hybrid].",
        ),
        click.option(
            "--query-adapter",
            metavar="none|default|PATH",
            help="The learned map applied to the question's vector for the dense search: "
            "none, default (the one shipped for the index's model) or an adapter file "
            "[env NEWSRAG_QUERY_ADAPTER; default none].",
        ),
    ]
    for option in options:
        func = option(func)
    return func


def search_request(
    text: str,
    mode: str | None,
    as_of: str,
    sources: Sequence[str],
    since: str | None,
    until: str | None,
) -> SearchRequest:
    """The search the :func:`search_options` flags ask for (``k`` comes from the settings)."""
    filters = SearchFilters.build(sources, since, until)
    return SearchRequest.build(text, mode=mode, filters=filters, as_of=as_of)


def wait_option(func: F) -> F:
    return click.option(
        "--wait",
        "lock_wait",
        type=click.FloatRange(min=0),
        metavar="SECONDS",
        help="If another newsrag process is writing to the index, wait this long for it "
        "instead of stopping at once [env NEWSRAG_LOCK_WAIT; default 0].",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def settings_from(**overrides: Any) -> AssistantSettings:
    """The environment's settings with the flags given. Commands take the flags that name a
    Settings field (--index, --top-k, --llm, ...) as ``**options`` and pass them here whole."""
    return AssistantSettings.from_env().replace(**overrides)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group(cls=NewsragGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsrag")
def main() -> None:
    """Ask questions over news articles; every answer cites verbatim passages.

    \b
    Example:
      newsrag ingest sample_corpus/ --index ./idx
      newsrag ask "What did Rutte say about a European army?" --index ./idx
    """
    warnings.showwarning = show_warning


def run() -> None:
    """The ``newsrag`` console script: :func:`main`, with what is loaded kept out of the garbage
    collector's way. Nearly all of a command's objects (modules, classes, the index it opened)
    live until the process ends, and Python's exit runs several full collections over them: with
    ~150,000 objects, about 0.8 s of a `newsrag ask` on 2 cores. Frozen objects are skipped
    by every later collection (``gc.freeze``); objects made after are still collected."""
    gc.freeze()  # the imports: every collection during the command skips them
    try:
        main()
    finally:
        gc.freeze()  # and everything else, before the exit's collections


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Warnings as one line on stderr ("warning: ..."), without Python's file and line: newsrag's
    warnings (an index built with another encoder, an emulated bf16) say what to do."""
    kind = "warning" if category is UserWarning else category.__name__
    click.echo(f"{kind}: {message}", err=True)


@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH|URL...")
@index_options
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    metavar="WORDS",
    help="Words per chunk [env NEWSRAG_CHUNK_SIZE; default 160].",
)
@click.option(
    "--chunk-overlap",
    type=click.IntRange(min=0),
    metavar="WORDS",
    help="Words repeated between chunks [env NEWSRAG_CHUNK_OVERLAP; default 30].",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    metavar="N",
    help="Texts per embedding batch of the torch encoders [env NEWSRAG_BATCH_SIZE; default 64].",
)
@click.option(
    "--encoder",
    type=click.Choice(ENCODERS),
    help="How the embedding model runs: openvino (OpenVINO, bfloat16 where the CPU has it; the "
    "fastest on CPUs with AMX), onnx-int8 (int8 matrix products in onnxruntime, the fastest "
    "elsewhere), onnx (float32 in onnxruntime), float32 (torch) or bf16 (torch, for CPUs with "
    "AVX512-BF16 or AMX) [env NEWSRAG_ENCODER; default openvino with AMX, else onnx-int8].",
)
@click.option(
    "--chunk-header/--no-chunk-header",
    default=None,
    help="Index each passage with its article's title and date [env NEWSRAG_CHUNK_HEADER].",
)
@click.option(
    "--rebuild",
    is_flag=True,
    help="Delete the index first and build it anew (needed to change the model or chunking).",
)
@click.option(
    "--max-article-mb",
    type=click.FloatRange(min=0, min_open=True),
    metavar="MB",
    help="Skip articles whose text is larger [env NEWSRAG_MAX_ARTICLE_MB; default 10].",
)
@click.option(
    "--feed",
    is_flag=True,
    help='Read a web page URL as the feed it links to (<link rel="alternate">); feeds and '
    "sitemaps given directly are recognised without it.",
)
@click.option(
    "--allow-private",
    is_flag=True,
    help="Fetch URLs on private, loopback and link-local addresses too (refused by default).",
)
@wait_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@json_option
def ingest(
    paths: tuple[str, ...],
    rebuild: bool,
    quiet: bool,
    as_json: bool,
    feed: bool,
    allow_private: bool,
    **options: Any,
) -> None:
    """Index articles from files and folders (.txt .md .html .json .jsonl .pdf) and from URLs
    of web pages, PDFs, RSS/Atom/JSON feeds and sitemaps.

    Re-ingesting is idempotent: unchanged articles are not re-embedded, changed ones replace
    their old passages. Exit code 3 means some inputs were skipped (each is listed).

    \b
    Example:
      newsrag ingest articles/ more.jsonl report.pdf --index ./idx
      newsrag ingest https://example.com/news/feed.xml https://example.com/story.html
    """
    settings = settings_from(**options)
    from index.fetch import FetchPolicy, is_url

    inputs = [p if is_url(p) else Path(p) for p in paths]
    fetch = FetchPolicy(allow_private=allow_private)
    progress = None if quiet or as_json else progress_bar("Embedding", "chunk")
    if rebuild:  # built beside the index in use, which readers keep until it is complete
        index, report = NewsIndex.rebuild(
            inputs, settings=settings, progress=progress, fetch=fetch, feed=feed
        )
    else:
        index = NewsIndex.open(settings=settings, create=True)
        report = index.ingest(inputs, progress=progress, fetch=fetch, feed=feed)
    if as_json:
        print_json(report.to_dict())
    else:
        print_report(report, index)
    if report.skipped:
        sys.exit(EXIT_SKIPPED)


def answer_options(func: F) -> F:
    """--words, --llm and --llm-base-url: how the answer is written."""
    options = [
        click.option(
            "--llm-base-url",
            metavar="URL",
            help="An OpenAI-compatible server for --llm openai:MODEL (llama.cpp, vLLM, LM "
            "Studio) [env NEWSRAG_LLM_BASE_URL].",
        ),
        click.option(
            "--llm",
            metavar="PROVIDER:MODEL",
            help="Write answers with a chat model, e.g. openai:gpt-4o-mini or ollama:llama3.2 "
            "(needs newsrag[llm]), or a local GGUF model run by llama.cpp: gguf:PATH, "
            "gguf:smollm2, gguf:qwen2.5-0.5b, gguf:qwen2.5-1.5b (needs newsrag[local-llm]; "
            "make local-models) [env NEWSRAG_LLM; default: extractive answers, no LLM].",
        ),
        click.option(
            "--words",
            "answer_words",
            type=click.IntRange(min=10),
            metavar="N",
            help="About how many words an answer may have [env NEWSRAG_ANSWER_WORDS; default 80].",
        ),
    ]
    for option in options:
        func = option(func)
    return func


@main.command()
@click.argument("question")
@index_options
@top_k_option
@search_options
@answer_options
@click.option(
    "--history",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="The conversation so far, to resolve a follow-up: a JSON list or JSONL of "
    "'newsrag ask --json' answers or chat messages ({role, content}).",
)
@click.option(
    "--choice",
    "choices",
    multiple=True,
    metavar="OPTION",
    help="An option of a multiple-choice question (repeat for each): the answer picks the one "
    "the passages support best and leads with the sentence that names it ('choice' in --json).",
)
@json_option
def ask(
    question: str,
    mode: str | None,
    as_of: str,
    sources: tuple[str, ...],
    since: str | None,
    until: str | None,
    history: Path | None,
    choices: tuple[str, ...],
    as_json: bool,
    **options: Any,
) -> None:
    """Answer QUESTION from the index, citing passages as [n].

    \b
    Example:
      newsrag ask "What did Rutte say about a European army?" --index ./idx --json
      newsrag ask "Who won the vote last week?" --as-of 2026-03-10 --source Reuters
      newsrag ask "What did Rutte say about a European army?" --json > chat.jsonl
      newsrag ask "What about the Arctic?" --history chat.jsonl
      newsrag ask "Where was Maduro captured?" --choice Cuba --choice Venezuela
    """
    settings = settings_from(**options)
    request = search_request(question, mode, as_of, sources, since, until)
    turns = load_history(history) if history else None
    assistant = Assistant.open(settings=settings)
    if as_json or choices:
        answer = assistant.ask(request, history=turns, choices=choices)
        if as_json:
            print_json(answer.to_dict())
        else:  # the pick first, then the sentences that back it
            click.echo(f"Choice: {answer.choice or '(none of the options)'}")
            click.echo(format_answer(answer))
        return
    resolved = assistant.resolve(question, turns)
    if resolved != question:
        click.echo(f"(searched for: {resolved})")
    echo_stream(assistant.stream(request, history=turns))


@main.command()
@index_options
@top_k_option
@search_options
@answer_options
@json_option
def repl(
    mode: str | None,
    as_of: str,
    sources: tuple[str, ...],
    since: str | None,
    until: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Ask questions one after another; follow-ups ("What about the Arctic?") are read
    against the conversation. Type :help for commands, :new to start over, :quit (or Ctrl-D)
    to leave.

    \b
    Example:
      newsrag repl --index ./idx
      printf 'What did Rutte say about a European army?\\nWhat about the Arctic?\\n' \\
        | newsrag repl --json
    """
    settings = settings_from(**options)
    template = search_request("", mode, as_of, sources, since, until)
    assistant = Assistant.open(settings=settings)
    run_repl(assistant, sys.stdin, template, as_json=as_json)


@main.command()
@click.argument("query")
@index_options
@top_k_option
@search_options
@json_option
def search(
    query: str,
    mode: str | None,
    as_of: str,
    sources: tuple[str, ...],
    since: str | None,
    until: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Show the passages retrieval finds for QUERY, best first (no answer).

    \b
    Example:
      newsrag search "European army" --mode keyword --since 2026-01-01 --json
    """
    settings = settings_from(**options)
    index = NewsIndex.open(settings=settings)
    request = search_request(query, mode, as_of, sources, since, until)
    filters, notices = index.match_filters(request.filters)
    for notice in notices:
        click.echo(f"Note: {notice}", err=True)
    if filters is not None and filters != request.filters:
        request = replace(request, filters=filters)
    hits = index.search(request)
    if as_json:
        print_json([h.to_dict() for h in hits])
        return
    click.echo(format_hits(hits, query=query) if hits or not filters else nothing_matches(filters))


# The other commands live in modules of their own, which add themselves to ``main``:
# chat and serve (assistant.cli_server), eval, list, stats and delete (assistant.cli_index),
# watch and sources (assistant.cli_sources).
from assistant import cli_index, cli_server, cli_sources  # noqa: E402, F401

__all__ = ["EXIT_SKIPPED", "main", "run"]
