"""NewsIndex against a real Chroma server (``chroma run`` on loopback), with the fake embedder:
the store is on the server, the keyword index in each client's own index folder."""

import itertools
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from index import Article, NewsIndex, Settings
from index.errors import ArticleNotFoundError, ChromaServerError, IndexNotFoundError
from index.store import open_client
from tests.conftest import ChromaServerProcess, free_port, make_article

_names = itertools.count()


@pytest.fixture
def server_settings(tmp_path: Path, chroma_server: ChromaServerProcess) -> Settings:
    """Fake-embedder settings on the shared server, in a collection of this test's own."""
    return Settings(
        index_dir=tmp_path / "idx",
        embedding_model="fake:64",
        chunk_size=40,
        chunk_overlap=10,
        chroma_url=chroma_server.url,
        collection=f"srv{next(_names)}",
    )


@pytest.mark.integration
def test_ingest_search_delete_and_stats_on_the_server(
    server_settings: Settings, tiny_corpus: list[Article]
) -> None:
    index = NewsIndex.open(settings=server_settings, create=True)
    first = index.ingest_articles(tiny_corpus)
    assert len(first.added) == 12
    again = NewsIndex.open(settings=server_settings).ingest_articles(tiny_corpus)
    assert (len(again.added), len(again.unchanged), again.chunks_written) == (0, 12, 0)
    hits = index.search("lottery jackpot syndicate", k=3)
    assert hits[0].chunk.article_id == "lottery"
    index.delete("floods")
    stats = index.stats()
    assert (stats.index, stats.articles, stats.collection) == (
        server_settings.chroma_url,
        11,
        server_settings.collection,
    )
    assert not (server_settings.index_dir / "chroma.sqlite3").exists()  # nothing embedded
    assert (server_settings.index_dir / "keyword" / server_settings.collection).is_dir()
    with pytest.raises(ArticleNotFoundError) as err:
        index.delete("floods")
    assert str(err.value) == (
        f"No article with id 'floods' in {server_settings.chroma_url} — see 'newsrag list "
        f"--chroma-url {server_settings.chroma_url}' for the ids."
    )


@pytest.mark.integration
def test_an_empty_index_on_the_server_finds_nothing(server_settings: Settings) -> None:
    index = NewsIndex.open(settings=server_settings, create=True)
    for mode in ("hybrid", "dense", "keyword"):
        assert index.search("lottery jackpot syndicate", k=3, mode=mode) == []


@pytest.mark.integration
def test_missing_index_on_the_server_names_the_flag(server_settings: Settings) -> None:
    with pytest.raises(IndexNotFoundError) as err:
        NewsIndex.open(settings=server_settings)
    url = server_settings.chroma_url
    assert str(err.value) == (
        f"No newsrag index {server_settings.collection!r} at {url} — run 'newsrag ingest PATH "
        f"--chroma-url {url}' first."
    )


@pytest.mark.integration
def test_a_second_client_sees_a_rebuild_and_later_writes(
    server_settings: Settings, tiny_corpus: list[Article], tmp_path: Path
) -> None:
    """Each client keeps its own keyword index; a drop-and-rebuild or a write by another client
    makes it stale, and it rebuilds itself from the server."""
    writer = NewsIndex.open(settings=server_settings, create=True)
    writer.ingest_articles(tiny_corpus)
    reader_settings = server_settings.replace(index_dir=tmp_path / "other")
    reader = NewsIndex.open(settings=reader_settings)
    assert reader.search("jackpot", k=1, mode="keyword")[0].chunk.article_id == "lottery"

    url = server_settings.chroma_url
    assert NewsIndex.drop(server_settings.index_dir, server_settings.collection, chroma_url=url)
    assert not (server_settings.index_dir / "keyword" / server_settings.collection).exists()
    rebuilt = NewsIndex.open(settings=server_settings, create=True)
    rebuilt.ingest_articles([make_article("quake", "Quake shakes coast", "A quake hit at dawn.")])
    reader = NewsIndex.open(settings=reader_settings)  # its keyword index predates the drop
    hits = reader.search("quake jackpot", mode="keyword")
    assert [h.chunk.article_id for h in hits] == ["quake"]

    rebuilt.ingest_articles([make_article("vote", "Budget vote", "The council passed a budget.")])
    assert reader.search("budget council", k=1, mode="keyword")[0].chunk.article_id == "vote"
    assert sorted(a.id for a in reader.articles()) == ["quake", "vote"]


def test_server_that_is_down_names_the_fix(tmp_path: Path) -> None:
    port = free_port()
    with pytest.raises(ChromaServerError) as err:
        open_client(tmp_path, create=False, chroma_url=f"http://127.0.0.1:{port}")
    assert str(err.value) == (
        f"Cannot reach the Chroma server at http://127.0.0.1:{port} (connection refused) — start "
        f"it with 'chroma run --path DIR --port {port}' or fix --chroma-url / NEWSRAG_CHROMA_URL."
    )


@pytest.mark.integration
def test_server_that_goes_away_is_reported_and_a_rerun_completes(
    tmp_path: Path, tiny_corpus: list[Article]
) -> None:
    server = ChromaServerProcess(tmp_path / "chroma")
    server.start()
    try:
        settings = Settings(
            index_dir=tmp_path / "idx", embedding_model="fake:64", chroma_url=server.url
        )
        index = NewsIndex.open(settings=settings, create=True)
        index.ingest_articles(tiny_corpus[:6])
        server.stop()
        with pytest.raises(ChromaServerError) as err:
            index.ingest_articles(tiny_corpus)
        assert str(err.value) == (
            f"Lost the Chroma server at {server.url} (connection refused) — start it again "
            f"(e.g. 'chroma run --path DIR --port {server.port}') and rerun the command; an "
            "interrupted ingest keeps the articles it committed and writes the rest."
        )
        server.start()
        report = NewsIndex.open(settings=settings, create=True).ingest_articles(tiny_corpus)
        assert (len(report.added), len(report.unchanged)) == (6, 6)
    finally:
        server.stop()


class NotChroma(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.end_headers()
        self.wfile.write(b"<html>\n  <h1>Not   Found</h1>\n</html>")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def not_chroma() -> Iterator[int]:
    """The port of a loopback web server that is not Chroma."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotChroma)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_a_server_that_is_not_chroma_is_named(tmp_path: Path, not_chroma: int) -> None:
    url = f"http://127.0.0.1:{not_chroma}"
    with pytest.raises(ChromaServerError) as err:
        NewsIndex.open(settings=Settings(index_dir=tmp_path, chroma_url=url))
    assert str(err.value) == (
        f"The server at {url} did not answer as a Chroma server (<html> <h1>Not Found</h1> "
        "</html>) — point --chroma-url / NEWSRAG_CHROMA_URL at a Chroma 1.x server ('chroma run "
        f"--path DIR --port {not_chroma}')."
    )
