"""``newsrag eval``, ``list``, ``stats`` and ``delete``: scoring a Q&A set and looking after the
index."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from assistant.api import Assistant
from assistant.cli import (  # the group and the options every command shares
    answer_options,
    index_options,
    json_option,
    main,
    print_json,
    settings_from,
    top_k_option,
    wait_option,
)
from assistant.console import (
    progress_bar,
)
from index.config import SEARCH_MODES
from index.newsindex import NewsIndex


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
@click.option(
    "--stories",
    is_flag=True,
    help="List the stories published more than once (syndicated copies, updates under a new "
    "URL), each with its articles.",
)
@json_option
def list_command(as_json: bool, stories: bool, **options: Any) -> None:
    """List indexed articles, newest first."""
    index = NewsIndex.open(settings=settings_from(**options))
    if stories:
        from assistant.cli_sources import print_stories

        print_stories(index, as_json)
        return
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
