"""``ingest --rebuild`` while other processes answer from the same index (issue 24 item 1):
they keep answering from the old index until the new one is complete, then switch, with zero
errors. Real processes: two readers querying in a loop, and the CLI rebuilding."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from index import NewsIndex, Settings
from tests.conftest import ChromaServerProcess

ROOT = Path(__file__).resolve().parents[2]
OLD, NEW = 40, 120  # articles before and after the rebuild

READER = """
import json, sys, time, warnings
from pathlib import Path
from index import NewsIndex, Settings
from tests.conftest import ChromaServerProcess
warnings.simplefilter("ignore")
settings = Settings.from_env()
stop = Path(sys.argv[1])
index = NewsIndex.open(settings=settings)
counts, errors, queries, last = set(), [], 0, []
print("ready", flush=True)
while not stop.exists() or queries < 5:
    try:
        counts.add(len(index.articles()))
        last = [h.chunk.article_id for h in index.search("zeppelin fairground", 3, as_of=None)]
        queries += 1
    except Exception as exc:  # the test counts every error a reader meets
        errors.append(f"{type(exc).__name__}: {exc}"[:300])
    time.sleep(0.005)
# one more look after the rebuild has ended: the reader has switched to the new index
counts_after = len(index.articles())
print(json.dumps({"counts": sorted(counts), "errors": errors[:5], "n_errors": len(errors),
                  "queries": queries, "after": counts_after, "last": last}), flush=True)
"""


def _corpus(folder: Path, count: int, *, zeppelin: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"a{i:03d}.md").write_text(
            f"Council notes number {i}\n\nThe council met for session {i} and discussed "
            f"road repairs, park benches and the budget of district {i % 7}.\n",
            encoding="utf-8",
        )
    if zeppelin:
        (folder / "zeppelin.md").write_text(
            "Zeppelin returns to the fairground\n\nA zeppelin landed at the fairground on "
            "Friday, the first in forty years.\n",
            encoding="utf-8",
        )
    return folder


def _env(index_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NEWSRAG_INDEX": str(index_dir),
        "NEWSRAG_EMBEDDING_MODEL": "fake:64",
        "NEWSRAG_CHUNK_SIZE": "40",
        "NEWSRAG_CHUNK_OVERLAP": "10",
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_readers_answer_without_error_through_a_rebuild(
    tmp_path: Path, run_notes: list[str]
) -> None:
    index_dir = tmp_path / "idx"
    env = _env(index_dir)
    settings = Settings.from_env(env)
    NewsIndex.open(settings=settings, create=True).ingest(
        [_corpus(tmp_path / "old", OLD, zeppelin=False)]
    )
    new_corpus = _corpus(tmp_path / "new", NEW, zeppelin=True)
    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(stop)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    try:
        for reader in readers:
            assert reader.stdout is not None and reader.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # the readers are answering from the old index
        for _ in range(2):  # twice: the second rebuild also removes the first index's files
            rebuild = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "from assistant.cli import run; run()",
                    "ingest",
                    str(new_corpus),
                    "--rebuild",
                    "--quiet",
                    "--json",
                ],
                capture_output=True,
                text=True,
                env=env,
                timeout=240,
                check=False,
            )
            assert rebuild.returncode == 0, rebuild.stderr[-3000:]
            assert json.loads(rebuild.stdout)["added"] == NEW + 1
            time.sleep(0.5)  # the readers go on answering from the new index
    finally:
        stop.touch()
        results = []
        for reader in readers:
            out, err = reader.communicate(timeout=120)
            results.append((out, err))
    for out, err in results:
        assert out.strip(), f"a reader died: {err[-2000:]}"
        report = json.loads(out.strip().splitlines()[-1])
        assert report["n_errors"] == 0, (report["errors"], err[-2000:])
        assert report["queries"] >= 5
        # never a half-built index: the old one whole, then the new one whole
        assert set(report["counts"]) <= {OLD, NEW + 1}, report["counts"]
        assert report["after"] == NEW + 1
        assert report["last"][0] == "zeppelin-" + report["last"][0].split("-", 1)[1]
    answered = [json.loads(out.strip().splitlines()[-1])["queries"] for out, _ in results]
    run_notes.append(
        f"rebuild while serving: 2 reader processes answered {sum(answered)} queries through "
        f"two rebuilds ({OLD} -> {NEW + 1} articles) with 0 errors"
    )
    pointer = json.loads((index_dir / "newsrag-current-newsrag.json").read_text())
    builds = sorted(p.name for p in (index_dir / "builds").iterdir())
    assert [f"builds/{b}" for b in builds] == sorted([pointer["current"], pointer["previous"]])


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_reader_threads_answer_without_error_through_a_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One reader shared by four threads (as the chat serves several users) while this
    process rebuilds the index twice."""
    settings = Settings.from_env(_env(tmp_path / "idx"))
    NewsIndex.open(settings=settings, create=True).ingest(
        [_corpus(tmp_path / "old", OLD, zeppelin=False)]
    )
    new_corpus = _corpus(tmp_path / "new", NEW, zeppelin=True)
    reader = NewsIndex.open(settings=settings)
    stop = threading.Event()
    errors: list[str] = []
    counts: set[int] = set()
    queries = [0]

    def ask() -> None:
        while not stop.is_set():
            counts.add(len(reader.articles()))
            reader.search("zeppelin fairground", 3, as_of=None)
            queries[0] += 1
            time.sleep(0.002)

    def record(args: threading.ExceptHookArgs) -> None:  # an error ends its reader thread
        errors.append(f"{args.exc_type.__name__}: {args.exc_value}")

    monkeypatch.setattr(threading, "excepthook", record)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.3)
        for _ in range(2):
            _, report = NewsIndex.rebuild([new_corpus], settings=settings)
            assert len(report.added) == NEW + 1
            time.sleep(0.3)
    finally:
        alive = [thread.is_alive() for thread in threads]
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert all(alive)
    assert queries[0] > 20
    assert counts <= {OLD, NEW + 1} and NEW + 1 in counts
    hits = reader.search("zeppelin fairground", 1, as_of=None)
    assert hits[0].chunk.title == "Zeppelin returns to the fairground"


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_readers_of_a_chroma_server_answer_through_a_rebuild(
    tmp_path: Path, chroma_server: ChromaServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same on a Chroma server: the rebuild writes under a new name and switches the
    server's pointer collection; readers follow it within a second."""
    base = "rb" + uuid.uuid4().hex[:8]
    settings = Settings.from_env(
        {
            **_env(tmp_path / "idx"),
            "NEWSRAG_CHROMA_URL": chroma_server.url,
            "NEWSRAG_COLLECTION": base,
        }
    )
    NewsIndex.open(settings=settings, create=True).ingest(
        [_corpus(tmp_path / "old", OLD, zeppelin=False)]
    )
    new_corpus = _corpus(tmp_path / "new", NEW, zeppelin=True)
    reader = NewsIndex.open(settings=settings)
    stop = threading.Event()
    errors: list[str] = []
    counts: set[int] = set()

    def ask() -> None:
        while not stop.is_set():
            counts.add(len(reader.articles()))
            reader.search("zeppelin fairground", 3, as_of=None)
            time.sleep(0.01)

    def record(args: threading.ExceptHookArgs) -> None:
        errors.append(f"{args.exc_type.__name__}: {args.exc_value}")

    monkeypatch.setattr(threading, "excepthook", record)
    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(2):
            _, report = NewsIndex.rebuild([new_corpus], settings=settings)
            assert len(report.added) == NEW + 1
            time.sleep(1.5)  # readers look at the pointer once a second
    finally:
        alive = [thread.is_alive() for thread in threads]
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == [] and all(alive)
    assert counts <= {OLD, NEW + 1} and NEW + 1 in counts
    hits = reader.search("zeppelin fairground", 1, as_of=None)
    assert hits[0].chunk.title == "Zeppelin returns to the fairground"
    client = reader.store.client
    names = {c.name for c in client.list_collections() if c.name.startswith(base)}
    assert len(names) == 5  # the pointer, and the current and previous index's two each
    assert NewsIndex.drop(tmp_path / "idx", base, chroma_url=chroma_server.url) is True
    assert not {c.name for c in client.list_collections() if c.name.startswith(base)}
