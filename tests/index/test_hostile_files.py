"""Files built to break a parser are each that file's problem (issue 24 item 4): reported with
their name (and line), while every other file of the folder is indexed."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from index import NewsIndex, Settings
from index.loaders import load_paths

# a "billion laughs": nine levels of nine aliases, 9**9 strings once expanded, in 0.5 kB
_LEVELS = "abcdefghi"
BOMB = (
    "---\n"
    + 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{name}: &{name} [{','.join(['*' + prev] * 9)}]\n"
        for prev, name in itertools.pairwise(_LEVELS)
    )
    + "title: Bomb\n---\n\nText.\n"
)


def hostile_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nested.json").write_text("[" * 100_000, encoding="utf-8")
    (folder / "feed.jsonl").write_text(
        json.dumps({"id": "s1", "title": "Half a character", "text": "bad \ud800 here"})
        + "\n"
        + json.dumps({"id": "s2", "title": "Ferry timetable changes", "text": "Ferries run late."})
        + "\n",
        encoding="utf-8",
    )
    (folder / "bad date.md").write_text(
        "---\ntitle: Council meets\npublished: 2026-13-45\n---\n\n"
        "The council met on a day that does not exist.\n",
        encoding="utf-8",
    )
    (folder / "bomb.md").write_text(BOMB, encoding="utf-8")
    (folder / "good.md").write_text(
        "Library opens late on Thursdays\n\nThe city library now opens until ten on Thursdays.\n",
        encoding="utf-8",
    )
    return folder


def test_each_hostile_file_is_named_and_the_rest_is_read(tmp_path: Path) -> None:
    folder = hostile_folder(tmp_path / "in")
    loaded = load_paths([folder])
    titles = sorted(a.title for a in loaded.articles)
    assert titles == ["Council meets", "Ferry timetable changes", "Library opens late on Thursdays"]
    council = next(a for a in loaded.articles if a.title == "Council meets")
    assert council.published is None  # kept, without the date
    problems = {(Path(p.path).name, p.line): p for p in loaded.problems}
    assert set(problems) == {
        ("nested.json", None),
        ("feed.jsonl", 1),
        ("bad date.md", None),
        ("bomb.md", 3),
    }
    assert problems["nested.json", None].reason.startswith("JSON nested too deeply")
    assert "lone surrogate \\ud800" in problems["feed.jsonl", 1].reason
    assert problems["bad date.md", None].reason == (
        "date '2026-13-45' is not a date; stored without one"
    )
    assert problems["bad date.md", None].skipped is False  # a warning: the article is kept
    assert "aliases (*a) are not allowed in front matter" in problems["bomb.md", 3].reason
    assert [p.skipped for p in loaded.problems].count(True) == 3


BOUNDED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))
from pathlib import Path
from index.loaders import load_paths
loaded = load_paths([Path(sys.argv[1])])
print(len(loaded.articles), [p.reason for p in loaded.problems])
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")))
"""


@pytest.mark.timeout(60)
def test_the_alias_bomb_is_refused_within_bounded_memory(tmp_path: Path) -> None:
    (tmp_path / "bomb.md").write_text(BOMB, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", BOUNDED, str(tmp_path / "bomb.md")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("0 ['invalid YAML front matter (aliases (*a)"), done.stdout
    # the child's own peak RSS since it started (VmHWM: ru_maxrss would keep the forked pytest's)
    assert int(done.stdout.splitlines()[-1]) < 1_500_000  # kB


def test_an_ingest_of_the_folder_indexes_the_rest(fake_settings: Settings, tmp_path: Path) -> None:
    index = NewsIndex.open(settings=fake_settings, create=True)
    report = index.ingest([hostile_folder(tmp_path / "in")])
    assert len(report.added) == 3
    assert len(report.skipped) == 3
    again = index.ingest([tmp_path / "in"])
    assert len(again.unchanged) == 3 and not again.added  # re-ingest is idempotent
