"""What the ``newsrag`` command prints: answers with their sources, ingest reports, progress."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Sequence

import click

from assistant.records import Answer
from index.newsindex import NewsIndex
from index.records import Hit, IngestReport


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


def print_report(report: IngestReport, index: NewsIndex) -> None:
    articles, chunks = index.store.counts()
    click.echo(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} "
        f"unchanged, {len(report.skipped)} skipped ({report.chunks_written} chunks written in "
        f"{report.seconds:.1f} s). The index at {index.store.location} holds {articles} "
        f"articles, {chunks} chunks."
    )
    for label, problems in (("Skipped", report.skipped), ("Warnings", report.warnings)):
        if problems:
            click.echo(f"{label}:", err=True)
            for problem in problems:
                click.echo(f"  {problem}", err=True)


def format_hits(hits: Sequence[Hit], width: int = 100) -> str:
    """Ranked passages with their article, date and scores, for ``newsrag search``."""
    if not hits:
        return "No passages found."
    lines: list[str] = []
    for hit in hits:
        c = hit.chunk
        meta = ", ".join(x for x in (c.source, c.published) if x)
        lines += [
            f"{hit.rank}. {c.title}" + (f" — {meta}" if meta else ""),
            f"   cosine {hit.score:.3f} · relevance {hit.relevance:.3f} · {c.id}",
            textwrap.fill(
                c.text,
                width,
                initial_indent="   ",
                subsequent_indent="   ",
                max_lines=4,
                placeholder=" …",
            ),
            "",
        ]
    return "\n".join(lines).rstrip()


def format_answer(answer: Answer, width: int = 100) -> str:
    """The answer, then each cited passage with its title, source and date."""
    lines = [textwrap.fill(answer.answer, width)]
    for c in answer.citations:
        meta = ", ".join(x for x in (c.source, c.published) if x)
        lines += ["", f"[{c.n}] {c.title}" + (f" — {meta}" if meta else "")]
        if c.url:
            lines.append(f"    {c.url}")
        lines.append(
            textwrap.fill(
                c.passage,
                width,
                initial_indent="    ",
                subsequent_indent="    ",
                max_lines=6,
                placeholder=" …",
            )
        )
    return "\n".join(lines)
