"""`watch`: polling a changing feed on a real local server, across restarts, with failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from index import NewsIndex, Settings
from index.errors import ConfigError
from index.fetch import FetchPolicy
from index.watch import Source, Watcher, WatchState, parse_duration, read_sources_file, state_path
from tests.index.local_site import LocalSite, article_html

POLICY = FetchPolicy(allow_private=True, read_timeout=2.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def feed_xml(site: LocalSite, keys: list[str]) -> str:
    items = "".join(
        f"<item><title>Story {k}</title><link>{site.url(f'/s/{k}.html')}</link><guid>{k}</guid>"
        f"<description>Summary of {k}.</description></item>"
        for k in keys
    )
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
    return f"{head}{items}</channel></rss>"


def story(key: str) -> str:
    return article_html(
        f"Story {key}",
        f"This is the full text of story {key}. It has two sentences about {key}.\n\n"
        f"A second paragraph about {key} follows here.",
    )


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite() as s:
        for key in "abc":
            s.page(f"/s/{key}.html", story(key))
        yield s


def watcher(settings: Settings, sources: list[Source], clock: Clock, log: list[str]) -> Watcher:
    """A fresh index object and watcher, as a restarted process would make them."""
    index = NewsIndex.open(settings=settings, create=True)
    return Watcher(index, sources, policy=POLICY, log=log.append, clock=clock, retry_wait=0.0)


def test_a_changing_feed_across_restarts(site: LocalSite, fake_settings: Settings) -> None:
    feed = site.add("/feed.xml", feed_xml(site, ["a", "b"]), "application/rss+xml", etag='"v1"')
    sources, clock, log = [Source(feed, every=600)], Clock(), []
    (first,) = watcher(fake_settings, sources, clock, log).poll_due()
    assert first.report is not None and len(first.report.added) == 2
    # restart: a new process reads the state from the index folder
    clock.now += 60
    assert watcher(fake_settings, sources, clock, log).poll_due() == []  # not due yet
    clock.now += 600
    (second,) = watcher(fake_settings, sources, clock, log).poll_due()
    assert second.not_modified
    assert site.requests[-1][1]["If-None-Match"] == '"v1"'
    # the feed changes: only the new item's page is read
    site.add("/feed.xml", feed_xml(site, ["a", "b", "c"]), "application/rss+xml", etag='"v2"')
    clock.now += 600
    (third,) = watcher(fake_settings, sources, clock, log).poll_due()
    assert third.report is not None and len(third.report.added) == 1
    assert [site.hits(f"/s/{k}.html") for k in "abc"] == [1, 1, 1]
    assert log[-1] == f"{feed}: 1 added, 0 updated, 0 unchanged"
    state = WatchState.load(state_path(NewsIndex.open(settings=fake_settings)))
    assert state.get(feed).articles == 3 and state.get(feed).etag == '"v2"'
    assert len(NewsIndex.open(settings=fake_settings).articles()) == 3


def test_a_running_reader_sees_new_articles(site: LocalSite, fake_settings: Settings) -> None:
    feed = site.add("/feed.xml", feed_xml(site, ["a"]), "application/rss+xml")
    clock, log = Clock(), []
    watcher(fake_settings, [Source(feed)], clock, log).poll_due()
    reader = NewsIndex.open(settings=fake_settings)  # the chat, opened before the next poll
    assert len(reader.search("story", k=5, as_of=None)) == 1
    site.add("/feed.xml", feed_xml(site, ["a", "b"]), "application/rss+xml")
    clock.now += 3600
    watcher(fake_settings, [Source(feed)], clock, log).poll_due()
    found = {h.chunk.title for h in reader.search("story b", k=5, as_of=None)}
    assert "Story b" in found


def test_a_failing_source_is_retried_reported_once_and_backs_off(
    site: LocalSite, fake_settings: Settings
) -> None:
    busy = site.add("/busy.xml", "down", "text/html", status=503)
    good = site.add("/feed.xml", feed_xml(site, ["a"]), "application/rss+xml")
    clock, log = Clock(), []
    w = watcher(fake_settings, [Source(busy, every=600), Source(good, every=600)], clock, log)
    results = w.poll_due()
    assert site.hits("/busy.xml") == 3  # three attempts (tenacity), then reported
    assert [r.error is None for r in results] == [False, True]
    assert log[0] == (
        f"{busy}: HTTP 503 Service Unavailable — try again later (failed 1x in a row; next try "
        "in 10m)"
    )
    clock.now += 600
    w.poll_due()
    assert log[-2].endswith("(failed 2x in a row; next try in 20m)")
    state = w.state.get(busy)
    assert state.failures == 2 and state.next_due == clock.now + 1200
    site.add("/busy.xml", feed_xml(site, ["b"]), "application/rss+xml")
    clock.now += 1200
    w.poll_due()
    assert w.state.get(busy).failures == 0 and w.state.get(busy).last_error is None


def test_a_watched_folder_ingests_new_and_changed_files(
    tmp_path: Path, fake_settings: Settings
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "one.txt").write_text("First headline\n\nThe first story's text.\n")
    clock, log = Clock(), []
    w = watcher(fake_settings, [Source(str(inbox), every=60)], clock, log)
    (first,) = w.poll_due()
    assert first.report is not None and len(first.report.added) == 1
    clock.now += 60
    (same,) = w.poll_due()
    assert same.report is None and log[-1] == f"{inbox}: nothing new"
    (inbox / "two.txt").write_text("Second headline\n\nThe second story's text.\n")
    (inbox / "one.txt").write_text("First headline\n\nThe first story, corrected.\n")
    clock.now += 60
    (third,) = w.poll_due()
    assert third.report is not None
    assert (len(third.report.added), len(third.report.updated)) == (1, 1)


def test_sources_file(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(
        'every = "1h"\n[[source]]\nurl = "https://example.com/feed.xml"\n'
        '[[source]]\npath = "inbox"\nevery = "90s"\n'
        '[[source]]\nurl = "https://e.com/"\nfeed = true\n'
    )
    assert read_sources_file(path) == [
        Source("https://example.com/feed.xml", 3600.0),
        Source("inbox", 90.0),
        Source("https://e.com/", 3600.0, feed=True),
    ]


def test_sources_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[[source]]\nevery = "5m"\n')
    with pytest.raises(ConfigError) as info:
        read_sources_file(path)
    assert str(info.value) == (
        f'{path}: source 1 has no url or path — write url = "https://..." or path = "folder" '
        "in each [[source]]."
    )
    path.write_text('[[source]\nurl = "x"\n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_sources_file(path)


def test_durations() -> None:
    assert [parse_duration(t) for t in ("90s", "30m", "2h", "1d", "1.5h")] == [
        90,
        1800,
        7200,
        86400,
        5400,
    ]
    with pytest.raises(ConfigError) as info:
        parse_duration("30")
    assert str(info.value) == (
        "--every: '30' is not a duration — write a number and a unit, e.g. 90s, 30m, 2h or 1d."
    )


def test_watch_once_and_sources_from_the_cli(site: LocalSite, tmp_path: Path) -> None:
    feed = site.add("/feed.xml", feed_xml(site, ["a", "b"]), "application/rss+xml")
    idx = str(tmp_path / "idx")
    model = ("--embedding-model", "fake:32")
    runner = CliRunner()
    result = runner.invoke(
        main, ["watch", feed, "--once", "--allow-private", "--index", idx, *model]
    )
    assert result.exit_code == 0, result.output
    assert f"{feed}: 2 added, 0 updated, 0 unchanged" in result.stdout
    result = runner.invoke(main, ["sources", "--index", idx, "--json", *model])
    (row,) = json.loads(result.stdout)
    assert (row["source"], row["kind"], row["articles"], row["failures"]) == (feed, "feed", 2, 0)
    assert row["last_read"].endswith("Z")
