"""``newsrag ingest`` against bad input and a failing environment: a clear message naming the
file (and line) or the index, the fix, the exit code, and a rerun that completes the job."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import chromadb.errors
import pytest
from chromadb.api.models.Collection import Collection
from click.testing import CliRunner

from assistant.cli import EXIT_SKIPPED, main
from index import NewsIndex, Settings
from index.errors import DiskFullError
from index.loaders import load_paths
from index.lock import write_lock
from tests.bad_inputs import build_matrix
from tests.conftest import ROOT, SAMPLE_CORPUS


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.integration
def test_bad_input_matrix_through_the_cli(tmp_path: Path) -> None:
    matrix = build_matrix(tmp_path / "inputs")
    index_dir = str(tmp_path / "idx")
    code, out, _ = run("ingest", str(matrix.folder), "--index", index_dir, "--json")
    assert code == EXIT_SKIPPED
    data = json.loads(out)
    assert data["added"] == len(matrix.good_titles)
    assert data["skipped"] == len(matrix.bad) == len(data["problems"])
    for expected in matrix.bad:
        where = str(matrix.folder / expected.name)
        if expected.line is not None:
            where += f":{expected.line}"
        (problem,) = [p for p in data["problems"] if p["where"] == where]
        assert expected.reason in problem["reason"] and expected.fix in problem["fix"]

    # the human form: one line per bad item, "file[:line]: reason — fix", on stderr
    code, out, err = run("ingest", str(matrix.folder), "--index", index_dir)
    assert code == EXIT_SKIPPED
    assert out.startswith(f"0 added, 0 updated, {len(matrix.good_titles)} unchanged")
    lines = [line.strip() for line in err.splitlines() if line.startswith("  ")]
    assert len(lines) == len(matrix.bad)
    assert f"{matrix.folder / 'feed.jsonl'}:2: malformed JSON" in err
    assert all(" — " in line for line in lines)

    code, _, _ = run("ingest", str(matrix.folder / "tram line opens.md"), "--index", index_dir)
    assert code == 0  # nothing skipped


@pytest.mark.integration
def test_a_second_writer_stops_with_the_holder_named(tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    with write_lock(index_dir, str(index_dir)):
        code, _, err = run("ingest", str(SAMPLE_CORPUS), "--index", str(index_dir))
        assert code == 1
        assert f"Another newsrag process (pid {os.getpid()} on " in err
        assert f"is writing to the index at {index_dir}" in err
        assert "--wait SECONDS" in err
        rebuild = ("ingest", str(SAMPLE_CORPUS), "--index", str(index_dir), "--rebuild")
        code, _, err = run(*rebuild, "--wait", "0.2")
        assert code == 1 and "(waited 0.2 s)" in err


# -- a read-only index and a full disk -------------------------------------------------------


def _can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = Path("/tmp/newsrag-mount-probe")
    probe.mkdir(exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)], capture_output=True
    )
    if mounted.returncode != 0:
        return False
    subprocess.run(["umount", str(probe)], check=True)
    return True


CAN_MOUNT = _can_mount()
needs_mount = pytest.mark.skipif(
    not CAN_MOUNT,
    reason="needs root with mount rights for a small tmpfs (the simulated tests cover the "
    "messages everywhere)",
)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 16 MB filesystem of its own."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` until only about ``leave`` bytes are free."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    filler.write_bytes(b"\0" * max(free - leave, 0))
    return filler


def _articles(folder: Path, count: int, start: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(start, start + count):
        (folder / f"story-{n:03d}.txt").write_text(
            f"Story {n}\n\n"
            + f"The harbour board met about berth {n} and the ferry timetable. " * 8
        )
    return folder


def cli(*args: str) -> tuple[int, str, str]:
    """``newsrag`` in a process of its own, as a user runs it (an embedded Chroma that failed
    to write is not reused)."""
    done = subprocess.run(
        [sys.executable, "-c", "from assistant.cli import run; run()", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    return done.returncode, done.stdout, done.stderr


@needs_mount
def test_full_disk_gives_a_clear_error_and_a_rerun_completes(
    small_disk: Path, tmp_path: Path
) -> None:
    index_dir = small_disk / "idx"
    options = ("--index", str(index_dir), "--embedding-model", "fake:64", "-q")
    assert cli("ingest", str(SAMPLE_CORPUS), *options)[0] == 0
    filler = _fill(small_disk, 64_000)
    more = _articles(tmp_path / "more", 300)
    code, _, err = cli("ingest", str(more), *options)
    assert code == 1, err
    assert f"Error: The disk holding the index at {index_dir} is full" in err
    assert "free some space" in err and "run the same command again" in err
    assert "Traceback" not in err
    filler.unlink()
    code, _, err = cli("ingest", str(more), *options)
    assert code == 0, err
    index = NewsIndex.open(settings=Settings(index_dir=index_dir, embedding_model="fake:64"))
    assert index.store.counts()[0] == 300 + len(load_paths([SAMPLE_CORPUS]).articles)
    assert len(index.keyword.current()) == index.store.counts()[1]
    assert not index.store.write_state().writing


@needs_mount
def test_full_disk_in_a_long_running_process(small_disk: Path, tmp_path: Path) -> None:
    """The chat's case: the same NewsIndex fails for lack of space, the user frees some, and
    its next upload completes (a fresh embedded Chroma replaces the one that failed)."""
    settings = Settings(index_dir=small_disk / "idx", embedding_model="fake:64")
    index = NewsIndex.open(settings=settings, create=True)
    index.ingest([SAMPLE_CORPUS])
    filler = _fill(small_disk, 64_000)
    more = _articles(tmp_path / "more", 300)
    with pytest.raises(DiskFullError, match="is full"):
        index.ingest([more])
    filler.unlink()
    report = index.ingest([more])
    assert len(report.added) + len(report.unchanged) == 300
    assert index.store.counts()[0] == 300 + len(load_paths([SAMPLE_CORPUS]).articles)
    assert index.search("berth 123 ferry", k=1, mode="keyword", as_of=None)


@needs_mount
def test_read_only_index_gives_a_clear_error(small_disk: Path) -> None:
    index_dir = small_disk / "idx"
    options = ("--index", str(index_dir), "--embedding-model", "fake:64")
    assert cli("ingest", str(SAMPLE_CORPUS), *options, "-q")[0] == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        for args in (("ingest", str(SAMPLE_CORPUS)), ("ask", "Who scored the winner?")):
            code, _, err = cli(*args, *options)
            assert code == 1, err
            assert f"Error: The index at {index_dir} cannot be written" in err
            assert f"make {index_dir} writable" in err and "Traceback" not in err
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert cli("ingest", str(SAMPLE_CORPUS), *options, "-q")[0] == 0


def _failing_upsert(message: str, after: int) -> object:
    """Chroma's Collection.upsert, failing the way Chroma does after ``after`` calls."""
    real = Collection.upsert
    calls = [0]

    def upsert(self: Collection, *args: object, **kwargs: object) -> None:
        calls[0] += 1
        if calls[0] > after:
            raise chromadb.errors.InternalError(message)
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    return upsert


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Query error: Database error: error returned from database: (code: 13) database or "
            "disk is full",
            "is full (database or disk is full) — free some space",
        ),
        (
            "error returned from database: (code: 8) attempt to write a readonly database",
            "cannot be written (attempt to write a readonly database) — make",
        ),
    ],
)
def test_storage_failures_mid_ingest_keep_what_was_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, message: str, expected: str
) -> None:
    """Chroma's own error text for a full disk and a read-only database (as seen on a real
    tmpfs), raised inside Chroma after the first commit group, with the fake embedder."""
    index_dir = tmp_path / "idx"
    more = _articles(tmp_path / "more", 150)
    options = ("--index", str(index_dir), "--embedding-model", "fake:64", "-q")
    # two upserts per commit group (passages, then articles): the first group goes in
    monkeypatch.setattr(Collection, "upsert", _failing_upsert(message, after=2))
    code, _, err = run("ingest", str(more), *options)
    assert code == 1 and expected in err
    index = NewsIndex.open(settings=Settings(index_dir=index_dir, embedding_model="fake:64"))
    committed = index.store.counts()[0]
    assert 0 < committed < 150  # the first group was committed and is kept
    monkeypatch.undo()
    code, out, _ = run("ingest", str(more), *options)
    assert code == 0 and out.startswith(f"{150 - committed} added, 0 updated, {committed} unch")
    assert not index.store.write_state().writing
    assert len(index.keyword.current()) == index.store.counts()[1] == 150
