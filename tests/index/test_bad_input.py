"""The bad-input matrix through the library (the real model): one clear problem per bad item,
every good article indexed, nothing indexed before lost, and a second run changes nothing."""

from __future__ import annotations

import errno
import time
from pathlib import Path

import pytest

from index import NewsIndex, Settings
from index.embeddings import Embedder
from index.loaders import load_file, load_paths
from index.records import IngestReport, Problem
from tests.bad_inputs import Matrix, build_matrix, many_small_files
from tests.conftest import make_article


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Matrix:
    return build_matrix(tmp_path_factory.mktemp("bad") / "inputs")


def assert_reported(report: IngestReport, matrix: Matrix) -> None:
    """Each bad item gets exactly one skipped problem naming its file, line, reason and fix."""
    problems = list(report.skipped)
    for expected in matrix.bad:
        path = str(matrix.folder / expected.name)
        found = [p for p in problems if p.path == path and p.line == expected.line]
        assert len(found) == 1, (expected, problems)
        assert expected.reason in found[0].reason, found[0]
        assert expected.fix in found[0].fix, found[0]
        problems.remove(found[0])
    assert problems == [], problems


@pytest.mark.integration
def test_every_bad_item_is_named_and_every_good_one_indexed(
    matrix: Matrix, tmp_path: Path, real_embedder: Embedder
) -> None:
    index = NewsIndex.open(tmp_path / "idx", embedder=real_embedder, create=True)
    before = index.ingest_articles([make_article("kept", "Kept story", "Indexed before.")])
    assert before.added == ("kept",)

    started = time.perf_counter()
    report = index.ingest([matrix.folder])
    assert time.perf_counter() - started < 120  # the 50 MB file is skipped unread
    assert_reported(report, matrix)
    titles = {a.title for a in index.articles()}
    assert titles == matrix.good_titles | {"Kept story"}
    assert len(report.added) == len(matrix.good_titles)

    again = index.ingest([matrix.folder])
    assert again.added == () and again.updated == ()
    assert len(again.unchanged) == len(matrix.good_titles)
    assert index.store.counts()[0] == len(matrix.good_titles) + 1


def test_a_huge_record_in_jsonl_names_its_line(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    big = "word " * 400_000  # 2 MB
    feed.write_text(
        '{"id": "small", "title": "Small", "text": "Fine."}\n'
        f'{{"id": "big", "title": "Big", "text": "{big}"}}\n',
        encoding="utf-8",
    )
    items = list(load_file(feed, max_bytes=1_000_000))
    assert [getattr(i, "id", None) for i in items] == ["small", None]
    problem = items[1]
    assert isinstance(problem, Problem) and problem.line == 2
    assert problem.reason == "article is 2.0 MB, over the 1.0 MB limit"
    assert "--max-article-mb" in problem.fix


def test_the_limit_is_a_setting(tmp_path: Path) -> None:
    article = tmp_path / "long.txt"
    article.write_text("Long read\n\n" + "A sentence of the long read. " * 10_000)  # 290 kB
    assert isinstance(next(load_file(article, max_bytes=100_000)), Problem)
    settings = Settings(index_dir=tmp_path / "idx", embedding_model="fake:64", max_article_mb=0.1)
    index = NewsIndex.open(settings=settings, create=True)
    assert [p.reason for p in index.ingest([article]).skipped] == [
        "article is 0.3 MB, over the 0.1 MB limit"
    ]


def test_permission_denied_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # root reads any file, so the refusal is simulated where the file is read
    locked = tmp_path / "locked.txt"
    locked.write_text("Locked\n\nText.")

    def denied(self: Path) -> bytes:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    (problem,) = load_file(locked)
    assert str(problem) == (
        f"{locked}: cannot read the file (Permission denied) — make it readable "
        f"(e.g. 'chmod a+r {locked}')"
    )


def test_a_dangling_symlink_given_by_name_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    link = tmp_path / "gone.txt"
    link.symlink_to(tmp_path / "missing.txt")
    loaded = load_paths([link])
    assert [p.reason for p in loaded.problems] == [
        "the symlink points to nothing, or loops back on itself"
    ]


@pytest.fixture
def many_files(tmp_path: Path) -> Path:
    """A folder of 5,000 one-paragraph articles (an integration fixture: see tests/conftest.py)."""
    return many_small_files(tmp_path / "many", 5000)


def test_a_folder_of_5000_small_files(
    tmp_path: Path, many_files: Path, run_notes: list[str]
) -> None:
    """The walk, loading, batching and Chroma writes for many files. The fake embedder keeps it
    quick; the real model's path is the matrix test above."""
    folder = many_files
    settings = Settings(index_dir=tmp_path / "idx", embedding_model="fake:64")
    index = NewsIndex.open(settings=settings, create=True)
    started = time.perf_counter()
    report = index.ingest([folder])
    seconds = time.perf_counter() - started
    assert len(report.added) == 5000 and report.problems == ()
    assert index.store.counts() == (5000, 5000)
    assert len(index.keyword.current()) == 5000
    hits = index.search("notice number 4321", k=1, mode="keyword", as_of=None)
    assert hits[0].chunk.title == "Notice 4321"
    run_notes.append(f"5,000-file folder: ingested in {seconds:.1f} s (fake embedder)")
