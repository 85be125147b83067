"""Keeping an index current: poll feeds, sitemaps, pages and folders, ingest what is new.

Polls send the ETag/Last-Modified they were last given, so an unchanged feed costs one 304; a
feed's items read before are not fetched again; a folder's unchanged files are not read again.
What was read is kept in ``INDEX/watch/COLLECTION.json``, so a restarted watch goes on where the
last one stopped. Network failures are retried with exponential backoff (tenacity); a source
that still fails is reported in one line and tried again later, the others go on.
"""

from __future__ import annotations

import json
import os
import re
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from index.errors import ConfigError
from index.fetch import Fetched, Fetcher, FetchError, FetchPolicy, is_url
from index.loaders import Loaded, find_files, load_file
from index.newsindex import NewsIndex
from index.records import Article, IngestReport, Problem
from index.web import WebLoader

DEFAULT_EVERY = 30 * 60.0
MAX_BACKOFF = 6 * 3600.0  # a failing source is tried at least this often
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, where: str = "--every") -> float:
    """Seconds in "90s", "30m", "2h" or "1d"; ConfigError naming ``where`` otherwise."""
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(
            f"{where}: {text!r} is not a duration — write a number and a unit, e.g. 90s, 30m, "
            "2h or 1d."
        )
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class Source:
    """Something to watch: a URL (feed, sitemap, page) or a folder, read every ``every`` s."""

    target: str
    every: float = DEFAULT_EVERY
    feed: bool = False

    @property
    def is_url(self) -> bool:
        return is_url(self.target)


@dataclass(frozen=True)
class SourceState:
    """What the watch knows of one source (``seen``: item keys, or files with their stamps)."""

    target: str
    kind: str = ""
    etag: str | None = None
    last_modified: str | None = None
    last_read: str | None = None  # when it was last read well (ISO 8601, UTC)
    last_tried: str | None = None
    last_error: str | None = None
    failures: int = 0  # failed polls in a row
    next_due: float = 0.0  # epoch seconds
    articles: int = 0  # articles added or updated from it, in all
    seen: tuple[str, ...] = ()


@dataclass
class WatchState:
    """Every watched source's state, kept in a JSON file (written atomically)."""

    path: Path
    sources: dict[str, SourceState] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> WatchState:
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            states = {
                s["target"]: SourceState(**{**s, "seen": tuple(s.get("seen", ()))})
                for s in data["sources"]
            }
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"{path}: the watch state cannot be read ({exc}) — delete the file to start "
                "over (sources are then read again in full; nothing indexed is lost)."
            ) from exc
        return cls(path, states)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        data = {"sources": [asdict(s) for s in self.sources.values()]}
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)

    def get(self, target: str) -> SourceState:
        return self.sources.get(target) or SourceState(target)


def state_path(index: NewsIndex) -> Path:
    return index.settings.index_dir / "watch" / f"{index.settings.collection}.json"


def read_sources_file(path: Path, every: float = DEFAULT_EVERY) -> list[Source]:
    """Sources named in a TOML file: ``[[source]]`` tables with ``url`` or ``path`` and an
    optional ``every`` ("15m") and ``feed``; a top-level ``every`` is the default."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the sources file ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}) — fix the file.") from exc
    if "every" in data:
        every = parse_duration(str(data["every"]), f"{path}: every")
    sources = []
    for n, raw in enumerate(data.get("source", []), start=1):
        target = raw.get("url") or raw.get("path") if isinstance(raw, dict) else None
        if not isinstance(target, str) or not target:
            raise ConfigError(
                f'{path}: source {n} has no url or path — write url = "https://..." or '
                'path = "folder" in each [[source]].'
            )
        seconds = every
        if "every" in raw:
            seconds = parse_duration(str(raw["every"]), f"{path}: source {n} every")
        sources.append(Source(target, seconds, bool(raw.get("feed", False))))
    if not sources:
        raise ConfigError(f"{path}: no [[source]] tables — add one per feed, sitemap or folder.")
    return sources


@dataclass(frozen=True)
class PollResult:
    """One poll of one source: ``report`` is None when nothing was ingested (unchanged, or
    the poll failed: then ``error`` is the line that says why)."""

    target: str
    report: IngestReport | None = None
    error: str | None = None
    not_modified: bool = False
    problems: tuple[Problem, ...] = ()


class Watcher:
    """Polls sources into one index.

    >>> watcher = Watcher(index, [Source("https://example.com/feed.xml", every=1800)])
    >>> watcher.poll_due()          # one pass over the sources that are due
    >>> watcher.run()               # poll forever (Ctrl-C stops)
    """

    def __init__(
        self,
        index: NewsIndex,
        sources: Sequence[Source],
        *,
        policy: FetchPolicy | None = None,
        log: Callable[[str], object] = print,
        attempts: int = 3,
        retry_wait: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.index = index
        self.sources = list(sources)
        self.policy = policy or FetchPolicy()
        self.log = log
        self.attempts = attempts
        self.retry_wait = retry_wait
        self.clock = clock
        self.state = WatchState.load(state_path(index))

    def poll_due(self) -> list[PollResult]:
        """Poll every source whose time has come; the state is saved after each."""
        results = []
        with Fetcher(self.policy) as fetcher:
            for source in self.sources:
                if self.state.get(source.target).next_due <= self.clock():
                    results.append(self.poll(source, fetcher))
        return results

    def run(self, rounds: int | None = None, sleep: Callable[[float], object] = time.sleep) -> None:
        """Poll due sources, sleep until the next is due, repeat (``rounds`` times, or forever)."""
        done = 0
        while rounds is None or done < rounds:
            self.poll_due()
            done += 1
            if rounds is not None and done >= rounds:
                break
            due = min(self.state.get(s.target).next_due for s in self.sources)
            sleep(max(1.0, due - self.clock()))

    def poll(self, source: Source, fetcher: Fetcher) -> PollResult:
        old = self.state.get(source.target)
        now = self.clock()
        stamp = _iso(now)
        try:
            if source.is_url:
                result, new = self._poll_url(source, old, fetcher)
            else:
                result, new = self._poll_folder(source, old)
        except FetchError as exc:
            failures = old.failures + 1
            wait = min(source.every * 2 ** (failures - 1), max(source.every, MAX_BACKOFF))
            line = (
                f"{source.target}: {exc.reason} — {exc.fix} (failed {failures}x in a row; "
                f"next try in {_human(wait)})"
            )
            self.log(line)
            self.state.sources[source.target] = replace(
                old, last_tried=stamp, last_error=line, failures=failures, next_due=now + wait
            )
            self.state.save()
            return PollResult(source.target, error=line)
        written = len(result.report.added) + len(result.report.updated) if result.report else 0
        self.state.sources[source.target] = replace(
            new,
            last_read=stamp,
            last_tried=stamp,
            last_error=None,
            failures=0,
            next_due=now + source.every,
            articles=old.articles + written,
        )
        self.state.save()
        self.log(_summary(source.target, result))
        return result

    def _poll_url(
        self, source: Source, old: SourceState, fetcher: Fetcher
    ) -> tuple[PollResult, SourceState]:
        fetched = self._fetch(fetcher, source.target, old)
        loader = WebLoader(fetcher, int(self.index.settings.max_article_mb * 1e6), feed=source.feed)
        read = loader.read_fetched(fetched, frozenset(old.seen))
        if read.not_modified:
            return PollResult(source.target, not_modified=True), old
        report = self._ingest(read.articles, read.problems) if read.articles else None
        new = replace(
            old,
            kind=read.kind,
            etag=read.etag,
            last_modified=read.last_modified,
            seen=read.keys,
        )
        return PollResult(source.target, report, problems=read.problems), new

    def _fetch(self, fetcher: Fetcher, url: str, old: SourceState) -> Fetched:
        """GET with the validators last given; transient failures retried with backoff."""
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.retry_wait, max=60),
            retry=retry_if_exception(lambda e: isinstance(e, FetchError) and e.transient),
            reraise=True,
        )
        return retrying(fetcher.get, url, etag=old.etag, last_modified=old.last_modified)

    def _poll_folder(self, source: Source, old: SourceState) -> tuple[PollResult, SourceState]:
        folder = Path(source.target).expanduser()
        if not folder.exists():
            raise FetchError(source.target, "the folder does not exist", "check the path")
        files, ignored, problems = find_files([folder])
        stamps = {str(f): _stamp(f) for f in files}
        seen = set(old.seen)
        changed = [f for f in files if f"{f}@{stamps[str(f)]}" not in seen]
        max_bytes = int(self.index.settings.max_article_mb * 1e6)
        articles: list[Article] = []
        for file in changed:
            for item in load_file(file, max_bytes):
                if isinstance(item, Article):
                    articles.append(item)
                else:
                    problems.append(item)
        report = self._ingest(articles, tuple(problems), ignored) if changed or problems else None
        keys = tuple(f"{f}@{stamps[str(f)]}" for f in files)
        return PollResult(source.target, report, problems=tuple(problems)), replace(
            old, kind="folder", seen=keys
        )

    def _ingest(
        self, articles: Iterable[Article], problems: tuple[Problem, ...], ignored: int = 0
    ) -> IngestReport:
        return self.index.ingest_loaded(Loaded(tuple(articles), problems, ignored))


def _stamp(path: Path) -> str:
    try:
        info = path.stat()
    except OSError:
        return "gone"
    return f"{info.st_mtime_ns}:{info.st_size}"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _summary(target: str, result: PollResult) -> str:
    if result.not_modified:
        return f"{target}: not modified"
    report = result.report
    if report is None:
        lines = [f"{target}: nothing new"] + [f"  {p}" for p in result.problems]
        return "\n".join(lines)
    line = (
        f"{target}: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged"
    )
    for problem in result.problems:
        line += f"\n  {problem}"
    return line


def describe(state: SourceState) -> dict[str, Any]:
    """The ``newsrag sources --json`` object of one source."""
    return {
        "source": state.target,
        "kind": state.kind or None,
        "last_read": state.last_read,
        "last_error": state.last_error,
        "failures": state.failures,
        "next_due": _iso(state.next_due) if state.next_due else None,
        "articles": state.articles,
        "items_seen": len(state.seen),
    }
