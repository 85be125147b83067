"""Crash safety with real processes: ``kill -9`` a ``newsrag ingest`` at random points, run it
again, and the index is the one a clean ingest builds. The real model and embedded Chroma."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from index import NewsIndex, Settings
from index.embeddings import Embedder
from index.folders import keyword_folder
from index.ingest import ARTICLES_PER_COMMIT
from index.keyword import KeywordIndex
from index.store import chunk_fields
from tests.conftest import ROOT, SAMPLE_CORPUS

ARTICLES = ARTICLES_PER_COMMIT * 5  # five commit groups

pytestmark = pytest.mark.integration  # real processes / the real model


def synthetic_corpus(path: Path, count: int, seed: int = 7) -> Path:
    """``count`` distinct short articles as JSONL, each stitched from sample-corpus sentences
    (one or two chunks each, so a few hundred embed in seconds)."""
    sentences = [
        s.strip() + "."
        for f in sorted(SAMPLE_CORPUS.glob("*.md"))
        for s in f.read_text(encoding="utf-8").split(". ")
        if 40 < len(s) < 300 and "---" not in s
    ]
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            text = " ".join(rng.sample(sentences, 4)) + f" Report number {n}."
            record = {
                "id": f"art-{n:04d}",
                "title": f"Dispatch {n}",
                "source": "Test Wire",
                "date": f"2025-{n % 12 + 1:02d}-{n % 27 + 1:02d}",
                "text": text,
            }
            out.write(json.dumps(record) + "\n")
    return path


def ingest_command(corpus: Path, index_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from assistant.cli import run; run()",
        "ingest",
        str(corpus),
        "--index",
        str(index_dir),
        "-q",
    ]


def snapshot(index_dir: Path) -> dict[str, object]:
    """Everything that must match a clean ingest: articles with their hashes and chunk counts,
    chunk ids with their article and text, and the keyword index's rows."""
    index = NewsIndex.open(index_dir, settings=Settings.from_env().replace(index_dir=index_dir))
    articles = index.store.articles.get(include=["metadatas"])
    chunks = index.store.chunks.get(include=["metadatas"])
    index.keyword.current()  # rebuilt if stale
    keyword = KeywordIndex.load(keyword_folder(index_dir, "newsrag"))
    assert keyword is not None
    return {
        "articles": {
            aid: (meta["content_hash"], meta["chunks"])
            for aid, meta in zip(articles["ids"], articles["metadatas"] or [], strict=True)
        },
        "chunks": {
            cid: (meta["article_id"], chunk_fields(meta)["text"])
            for cid, meta in zip(chunks["ids"], chunks["metadatas"] or [], strict=True)
        },
        "keyword": sorted(row.chunk_id for row in keyword.rows),
        "counts": index.store.counts(),
        "writing": index.store.write_state().writing,
    }


def committed_articles_are_whole(index_dir: Path) -> int:
    """Check a killed index: every article with a record has all of its passages, and search
    shows no passage of an article without one. Returns how many articles were committed."""
    index = NewsIndex.open(index_dir, settings=Settings.from_env().replace(index_dir=index_dir))
    articles = index.store.articles.get(include=["metadatas"])
    chunks = index.store.chunks.get(include=["metadatas"])
    per_article = Counter(str(m["article_id"]) for m in chunks["metadatas"] or [])
    committed = dict(zip(articles["ids"], articles["metadatas"] or [], strict=True))
    for article_id, meta in committed.items():
        assert per_article[article_id] == meta["chunks"], article_id
    for query in ("interest rates", "lottery jackpot", "Report number 300"):
        for hit in index.search(query, k=10, as_of=None):
            assert hit.chunk.article_id in committed, hit.chunk.id
    return len(committed)


def check_in_a_new_process(index_dir: Path, env: dict[str, str]) -> int:
    """Run :func:`committed_articles_are_whole` the way a user would look next: a new process
    (``newsrag ask`` after the crash). Returns the articles committed (0 for no index yet)."""
    code = (
        "import sys\n"
        "from index.errors import IndexNotFoundError\n"
        "from tests.index.test_ingest_crash import committed_articles_are_whole\n"
        "try:\n"
        "    print(committed_articles_are_whole(__import__('pathlib').Path(sys.argv[1])))\n"
        "except IndexNotFoundError:\n"
        "    print(0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(index_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


def test_kill_9_at_random_points_then_rerun_gives_the_clean_index(
    tmp_path: Path, run_notes: list[str], int8_embedder: Embedder
) -> None:
    # int8_embedder: the run's ONNX export exists before the clean ingest is timed, so the
    # kill points fall inside ingests that, like it, do not export
    corpus = synthetic_corpus(tmp_path / "corpus.jsonl", ARTICLES)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}

    clean_dir = tmp_path / "clean"
    started = time.perf_counter()
    subprocess.run(ingest_command(corpus, clean_dir), env=env, check=True, timeout=600)
    clean_seconds = time.perf_counter() - started
    clean = snapshot(clean_dir)
    assert clean["counts"] == (ARTICLES, len(clean["chunks"]))  # type: ignore[arg-type]

    seed = int(os.environ.get("NEWSRAG_CRASH_SEED", random.randrange(10_000)))
    rng = random.Random(seed)
    crashed_dir = tmp_path / "crashed"
    kills = []
    for _ in range(3):
        delay = rng.uniform(0.3, 0.95) * clean_seconds
        proc = subprocess.Popen(
            ingest_command(corpus, crashed_dir),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        kills.append((round(delay, 1), check_in_a_new_process(crashed_dir, env)))
    done = subprocess.run(
        ingest_command(corpus, crashed_dir), env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    run_notes.append(
        f"kill -9 test (seed {seed}): clean ingest {clean_seconds:.1f} s; killed at "
        + ", ".join(f"{d} s ({n} of {ARTICLES} articles committed)" for d, n in kills)
    )

    again = snapshot(crashed_dir)
    assert again["articles"] == clean["articles"]
    assert again["chunks"] == clean["chunks"]
    assert again["keyword"] == clean["keyword"] == sorted(clean["chunks"])  # type: ignore[call-overload]
    assert again["counts"] == clean["counts"]
    assert again["writing"] is False


@pytest.fixture
def ingested(tmp_path: Path) -> Path:
    return synthetic_corpus(tmp_path / "corpus.jsonl", 20)


def test_two_ingests_at_once_one_stops_with_a_clear_message(tmp_path: Path, ingested: Path) -> None:
    index_dir = tmp_path / "idx"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    procs = [
        subprocess.Popen(
            ingest_command(ingested, index_dir),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
    codes = sorted(code for code, _ in outcomes)
    errors = [err for code, err in outcomes if code != 0]
    # either the second started after the first finished (both 0) or it stopped at once
    assert codes in ([0, 0], [0, 1]), outcomes
    for err in errors:
        assert "Another newsrag process (pid" in err and "--wait SECONDS" in err, err
    index = NewsIndex.open(index_dir, settings=Settings.from_env().replace(index_dir=index_dir))
    assert index.store.counts()[0] == 20
    assert not index.store.write_state().writing


def test_with_wait_two_ingests_serialize(tmp_path: Path, ingested: Path) -> None:
    index_dir = tmp_path / "idx"
    other = synthetic_corpus(tmp_path / "other.jsonl", 30, seed=11)
    lines = other.read_text(encoding="utf-8").splitlines()[20:]  # ids art-0020 .. art-0029
    other.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    procs = [
        subprocess.Popen(
            [*ingest_command(corpus, index_dir), "--wait", "300"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for corpus in (ingested, other)
    ]
    for proc in procs:
        assert proc.wait(timeout=600) == 0, proc.stderr.read() if proc.stderr else ""
    index = NewsIndex.open(index_dir, settings=Settings.from_env().replace(index_dir=index_dir))
    assert index.store.counts()[0] == 30
    assert len(index.keyword.current()) == index.store.counts()[1]


def test_synthetic_corpus_is_distinct(tmp_path: Path) -> None:
    corpus = synthetic_corpus(tmp_path / "c.jsonl", 50)
    texts = [json.loads(line)["text"] for line in corpus.read_text().splitlines()]
    assert len(set(texts)) == 50


def test_a_long_running_reader_follows_another_process_writing(tmp_path: Path) -> None:
    """The chat server's case: it keeps the index open while 'newsrag ingest' adds articles
    from another process. Its embedded Chroma client is reopened, so it finds them (with their
    stored vectors) instead of failing on ids its old vector index never saw."""
    settings = Settings(index_dir=tmp_path / "idx", embedding_model="fake:64")
    reader = NewsIndex.open(settings=settings, create=True)
    reader.ingest([SAMPLE_CORPUS])
    assert reader.search("derby winner", k=3, as_of=None)
    corpus = synthetic_corpus(tmp_path / "more.jsonl", 200)
    env = {**os.environ, "NEWSRAG_EMBEDDING_MODEL": "fake:64"}
    subprocess.run(ingest_command(corpus, settings.index_dir), env=env, check=True, timeout=300)
    text = json.loads(corpus.read_text(encoding="utf-8").splitlines()[123])["text"]
    for mode, query in (("keyword", "Report number 123"), ("dense", text), ("hybrid", text)):
        hits = reader.search(query, k=5, mode=mode, as_of=None)
        assert hits[0].chunk.article_id == "art-0123", (mode, hits)
    assert reader.store.counts()[0] == 200 + len(reader.ingest([SAMPLE_CORPUS]).unchanged)
