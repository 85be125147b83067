"""The ``newsrag`` command: a thin layer that parses flags, calls the library and prints."""

from __future__ import annotations

import gc
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import click

from assistant.api import Assistant
from assistant.console import (
    echo_stream,
    format_answer,
    format_hits,
    print_report,
    progress_bar,
)
from assistant.followup import Turn, load_history
from index.config import ENCODERS, SEARCH_MODES, Settings
from index.errors import NewsragError
from index.newsindex import NewsIndex
from index.retrieval import SearchFilters

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
            help="Only articles from this source (repeatable; as 'newsrag stats' lists them).",
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
    ]
    for option in options:
        func = option(func)
    return func


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


def settings_from(**overrides: Any) -> Settings:
    """The environment's settings with the flags given. Commands take the flags that name a
    Settings field (--index, --top-k, --llm, ...) as ``**options`` and pass them here whole."""
    return Settings.from_env().replace(**overrides)


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
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
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
@wait_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@json_option
def ingest(
    paths: tuple[Path, ...],
    rebuild: bool,
    quiet: bool,
    as_json: bool,
    **options: Any,
) -> None:
    """Index articles from files and folders (.txt .md .html .json .jsonl).

    Re-ingesting is idempotent: unchanged articles are not re-embedded, changed ones replace
    their old passages. Exit code 3 means some inputs were skipped (each is listed).

    \b
    Example:
      newsrag ingest articles/ more.jsonl --index ./idx
    """
    settings = settings_from(**options)
    if rebuild:
        NewsIndex.drop(
            settings.index_dir,
            settings.collection,
            chroma_url=settings.chroma_url,
            wait=settings.lock_wait,
        )
    index = NewsIndex.open(settings=settings, create=True)
    report = index.ingest(
        paths, progress=None if quiet or as_json else progress_bar("Embedding", "chunk")
    )
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
    filters = SearchFilters.build(sources, since, until)
    turns = load_history(history) if history else None
    assistant = Assistant.open(settings=settings)
    if as_json or choices:
        answer = assistant.ask(
            question, mode=mode, filters=filters, as_of=as_of, history=turns, choices=choices
        )
        if as_json:
            print_json(answer.to_dict())
        else:  # the pick first, then the sentences that back it
            click.echo(f"Choice: {answer.choice or '(none of the options)'}")
            click.echo(format_answer(answer))
        return
    resolved = assistant.resolve(question, turns)
    if resolved != question:
        click.echo(f"(searched for: {resolved})")
    echo_stream(assistant.stream(question, mode=mode, filters=filters, as_of=as_of, history=turns))


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
    against the conversation. Type :new to start over, :quit (or Ctrl-D) to leave.

    \b
    Example:
      newsrag repl --index ./idx
      printf 'What did Rutte say about a European army?\\nWhat about the Arctic?\\n' \\
        | newsrag repl --json
    """
    settings = settings_from(**options)
    filters = SearchFilters.build(sources, since, until)
    assistant = Assistant.open(settings=settings)
    interactive = sys.stdin.isatty()
    turns: list[Turn] = []
    while True:
        if interactive:
            click.echo("newsrag> ", nl=False)
        line = sys.stdin.readline()
        if not line:
            break
        question = line.strip()
        if question in (":quit", ":q", ":exit"):
            break
        if question == ":new":
            turns = []
            click.echo("(new conversation)", err=True)
            continue
        if not question:
            continue
        if as_json:
            answer = assistant.ask(question, mode=mode, filters=filters, as_of=as_of, history=turns)
            click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        else:
            resolved = assistant.resolve(question, turns)
            if resolved != question:
                click.echo(f"(searched for: {resolved})")
            answer = echo_stream(
                assistant.stream(question, mode=mode, filters=filters, as_of=as_of, history=turns)
            )
            click.echo()
        turns.append(Turn(answer.question, answer.answer, answer.resolved))


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
    filters = SearchFilters.build(sources, since, until)
    hits = index.search(query, mode=mode, filters=filters, as_of=as_of)
    if as_json:
        print_json([h.to_dict() for h in hits])
        return
    click.echo(format_hits(hits, query=query))


@main.command()
@index_options
@top_k_option
@answer_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--example",
    "examples",
    multiple=True,
    metavar="QUESTION",
    help="An example question to offer (repeatable).",
)
@click.option(
    "--auth",
    "auth",
    multiple=True,
    metavar="USER:PASS",
    help="Ask for a login (repeatable) [env NEWSRAG_AUTH, USER:PASS].",
)
@click.option(
    "--auth-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Users who may log in, one USER:PASS a line ('#' starts a comment).",
)
def chat(
    host: str,
    port: int,
    examples: tuple[str, ...],
    auth: tuple[str, ...],
    auth_file: Path | None,
    **options: Any,
) -> None:
    """Open the web chat over the index.

    \b
    Example:
      newsrag chat --index ./idx --port 7860
    """
    from ui import launch

    settings = settings_from(**options)
    users = read_users(auth, auth_file)
    launch(
        Assistant.open(settings=settings),
        host=host,
        port=port,
        examples=list(examples) or None,
        **({"auth": users} if users else {}),
    )


def read_users(auth: Sequence[str], auth_file: Path | None) -> list[tuple[str, str]]:
    """(user, password) pairs from ``--auth``, ``NEWSRAG_AUTH`` and ``--auth-file``."""
    entries = [(f"--auth {a.split(':', 1)[0]}:…", a) for a in auth]
    if os.environ.get("NEWSRAG_AUTH"):
        entries.append(("NEWSRAG_AUTH", os.environ["NEWSRAG_AUTH"]))
    if auth_file is not None:
        for n, line in enumerate(auth_file.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                entries.append((f"{auth_file}:{n}", line.strip()))
    users: list[tuple[str, str]] = []
    for where, entry in entries:
        user, sep, password = entry.partition(":")
        if not sep or not user or not password:
            raise click.UsageError(f"{where}: expected USER:PASS with both parts non-empty.")
        users.append((user, password))
    return users


@main.command("eval")
@click.argument("qa_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@index_options
@top_k_option
@answer_options
@click.option(
    "--mode",
    type=click.Choice(SEARCH_MODES),
    help="Search mode [env NEWSRAG_SEARCH_MODE; default hybrid].",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the full JSON report here.",
)
@click.option(
    "--open",
    "open_answers",
    is_flag=True,
    help="Ask multiple-choice questions without their choices: the answers are open, and the "
    "choice an answer names counts as its pick (by default the assistant is given the choices "
    "and picks one).",
)
@click.option(
    "--by",
    metavar="FIELD",
    help="Also score each group of questions that share a value of this field of the Q&A "
    "items (e.g. RealTimeQA's answer_in_search_results or source).",
)
@json_option
def eval_command(
    qa_file: Path,
    mode: str | None,
    out: Path | None,
    open_answers: bool,
    by: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Score retrieval and answers on a Q&A set (JSONL). Each question is asked as of its
    question_date; a question with choices is asked with them (see --open), and the report
    says which ("choices_given").

    \b
    Example:
      newsrag eval eval/sample_qa.jsonl --index ./idx --out report.json
      newsrag eval questions.jsonl --index ./idx --open --json
      newsrag eval questions.jsonl --index ./idx --by answer_in_search_results
    """
    from eval import format_table, load_qa, run_eval, write_report

    settings = settings_from(**options)
    items = load_qa(qa_file)
    bar = None if as_json else progress_bar("Evaluating", "question")
    assistant = Assistant.open(settings=settings)
    report = run_eval(assistant, items, progress=bar, mode=mode, choices=not open_answers, by=by)
    if out:
        write_report(report, out)
    if as_json:
        print_json(report.to_dict())
    else:
        click.echo(format_table(report))
        if out:
            click.echo(f"Report written to {out}")


@main.command("list")
@index_options
@json_option
def list_command(as_json: bool, **options: Any) -> None:
    """List indexed articles, newest first."""
    index = NewsIndex.open(settings=settings_from(**options))
    infos = index.articles()
    if as_json:
        print_json([asdict(i) for i in infos])
        return
    for i in infos:
        click.echo(f"{i.id}\t{i.published or '-'}\t{i.source or '-'}\t{i.title}")
    click.echo(f"{len(infos)} articles", err=True)


@main.command()
@index_options
@json_option
def stats(as_json: bool, **options: Any) -> None:
    """Show counts and how the index was built."""
    index = NewsIndex.open(settings=settings_from(**options))
    data = asdict(index.stats())
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        if key == "sources":
            value = ", ".join(f"{k} ({v})" for k, v in value.items()) or "-"
        click.echo(f"{key:<20} {value}")


@main.command()
@click.argument("article_ids", nargs=-1, required=True, metavar="ID...")
@index_options
@wait_option
def delete(
    article_ids: tuple[str, ...],
    **options: Any,
) -> None:
    """Remove articles (and all their passages) from the index."""
    index = NewsIndex.open(settings=settings_from(**options))
    for article_id in article_ids:
        index.delete(article_id)
        click.echo(f"Deleted {article_id}")
