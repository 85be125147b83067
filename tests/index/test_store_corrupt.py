"""A damaged chroma.sqlite3 (cut short, or random bytes) is an error naming the file and the
fix, never a traceback, and ``ingest --rebuild`` builds from the articles it is given
(issue 24 item 2). Each command is its own process, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_corpus"


def newsrag(index_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NEWSRAG_INDEX": str(index_dir),
        "NEWSRAG_EMBEDDING_MODEL": "fake:64",
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }
    return subprocess.run(
        [sys.executable, "-c", "from assistant.cli import run; run()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _cut(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])


def _random(db: Path) -> None:
    db.write_bytes(os.urandom(db.stat().st_size))


@pytest.mark.integration
@pytest.mark.parametrize(
    ("damage", "reason"),
    [(_cut, "database disk image is malformed"), (_random, "file is not a database")],
    ids=["truncated", "random-bytes"],
)
def test_a_damaged_database_is_named_with_its_fix_and_rebuild_works(
    damage: object, reason: str, tmp_path: Path
) -> None:
    index_dir = tmp_path / "idx"
    assert newsrag(index_dir, "ingest", str(SAMPLE), "--quiet").returncode == 0
    db = index_dir / "chroma.sqlite3"
    assert callable(damage)
    damage(db)
    expected = (
        f"Error: The index database {db} is damaged ({reason}) — rebuild the index from your "
        f"articles: newsrag ingest PATH --index {index_dir} --rebuild (it builds beside the "
        "damaged files and replaces them when it is done).\n"
    )
    for command in (["stats"], ["ask", "What did Rutte say?"], ["ingest", str(SAMPLE)]):
        done = newsrag(index_dir, *command)
        assert (done.returncode, done.stderr) == (1, expected), (command, done.stderr[-3000:])
        assert "Traceback" not in done.stdout + done.stderr

    rebuilt = newsrag(index_dir, "ingest", str(SAMPLE), "--rebuild", "--quiet")
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert rebuilt.stdout.startswith("16 added, 0 updated, 0 unchanged, 0 skipped")
    stats = newsrag(index_dir, "stats", "--json")
    assert stats.returncode == 0 and '"articles": 16' in stats.stdout, stats.stderr

    # the next rebuild cannot remove the damaged files (it cannot read them): it says so
    again = newsrag(index_dir, "ingest", str(SAMPLE), "--rebuild", "--quiet")
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"The old index files in {index_dir} were not removed" in again.stderr
    assert newsrag(index_dir, "stats").returncode == 0
