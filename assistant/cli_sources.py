"""The ``newsrag watch`` and ``newsrag sources`` commands: keeping an index current from feeds,
sitemaps, pages and folders (see docs/sources.md)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from assistant.cli import index_options, json_option, main, print_json, settings_from
from index.newsindex import NewsIndex


def print_stories(index: NewsIndex, as_json: bool) -> None:
    groups = index.stories.groups()
    if as_json:
        print_json([[asdict(c) for c in group] for group in groups])
        return
    for n, group in enumerate(groups, start=1):
        click.echo(f"story {n}: {len(group)} articles")
        for c in group:
            click.echo(f"  {c.article_id}\t{c.published or '-'}\t{c.source or '-'}\t{c.title}")
    click.echo(f"{len(groups)} stories published more than once", err=True)


@main.command()
@click.argument("targets", nargs=-1, metavar="SOURCE...")
@index_options
@click.option(
    "--every",
    default="30m",
    show_default=True,
    metavar="DURATION",
    help="How often to read each source (90s, 30m, 2h, 1d).",
)
@click.option(
    "--sources",
    "sources_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="A TOML file naming sources: [[source]] tables with url or path (and every, feed).",
)
@click.option("--feed", is_flag=True, help="Read page URLs as the feed they link to.")
@click.option(
    "--allow-private",
    is_flag=True,
    help="Fetch URLs on private, loopback and link-local addresses too (refused by default).",
)
@click.option("--once", is_flag=True, help="Read every source once, then stop.")
def watch(
    targets: tuple[str, ...],
    every: str,
    sources_file: Path | None,
    feed: bool,
    allow_private: bool,
    once: bool,
    **options: Any,
) -> None:
    """Keep the index current: read feeds, sitemaps, pages and folders every --every, and
    ingest what is new or changed (a running 'newsrag chat' sees it). What was read is kept in
    the index folder, so a restart goes on where it stopped. Ctrl-C stops.

    \b
    Example:
      newsrag watch https://example.com/feed.xml ~/news/inbox --every 15m --index ./idx
      newsrag watch --sources sources.toml
    """
    from index.fetch import FetchPolicy
    from index.watch import Source, Watcher, parse_duration, read_sources_file

    seconds = parse_duration(every)
    sources = [Source(t, seconds, feed) for t in targets]
    if sources_file is not None:
        sources += read_sources_file(sources_file, seconds)
    if not sources:
        raise click.UsageError("Name a SOURCE (feed, sitemap, page URL or folder) or --sources.")
    index = NewsIndex.open(settings=settings_from(**options), create=True)
    watcher = Watcher(
        index, sources, policy=FetchPolicy(allow_private=allow_private), log=click.echo
    )
    try:
        watcher.run(rounds=1 if once else None)
    except KeyboardInterrupt:
        click.echo("Stopped; the next 'newsrag watch' goes on from here.", err=True)


@main.command("sources")
@index_options
@json_option
def sources_command(as_json: bool, **options: Any) -> None:
    """List the sources 'newsrag watch' reads into this index and when each was last read."""
    from index.watch import WatchState, describe, state_path

    index = NewsIndex.open(settings=settings_from(**options))
    rows = [describe(s) for s in WatchState.load(state_path(index)).sources.values()]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        status = f"failing: {row['last_error']}" if row["last_error"] else "ok"
        click.echo(
            f"{row['source']}\t{row['kind'] or '-'}\tlast read {row['last_read'] or 'never'}\t"
            f"{row['articles']} articles\t{status}"
        )
    click.echo(f"{len(rows)} sources", err=True)
