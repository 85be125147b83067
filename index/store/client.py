"""Opening a Chroma client (embedded in an index folder, or a server) and turning Chroma's
storage failures into newsrag errors that name the fix: a server that went away, a read-only
folder, a full disk, a damaged database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError
from filelock import FileLock

from index.config import ChromaServer
from index.errors import (
    ChromaServerError,
    DiskFullError,
    IndexCorruptError,
    IndexNotFoundError,
    IndexReadOnlyError,
    NewsragError,
)
from index.lock import disk_full_error, read_only_error, storage_error

OPEN_LOCK_NAME = "newsrag-open.lock"  # held while a writer starts embedded Chroma
DATABASE_NAME = "chroma.sqlite3"


def open_client(
    index_dir: Path, *, create: bool, chroma_url: str = "", location: str = ""
) -> ClientAPI:
    """A Chroma client with telemetry off: of the server at ``chroma_url`` when it is set
    (ChromaServerError when it does not answer), else embedded at ``index_dir`` (``location``:
    the index folder to name in messages, when Chroma's files are in a build folder of it)."""
    if chroma_url:
        return _server_client(ChromaServer.parse(chroma_url))
    if not create and not index_dir.is_dir():
        raise IndexNotFoundError.at(str(index_dir), location_option(str(index_dir)))
    path = str(index_dir)
    location = location or path
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(exc, location, index_dir) from exc
    with storage_errors(location, index_dir):
        if not create:
            return _embedded_client(path)
        # two processes creating one new index at once would both create Chroma's tables
        # ("table collections already exists"): they start Chroma one at a time
        try:
            creating = FileLock(str(index_dir / OPEN_LOCK_NAME))
            with creating:
                return _embedded_client(path)
        except OSError as exc:
            raise storage_error(exc, location, index_dir) from exc


def _embedded_client(location: str) -> ClientAPI:
    return chromadb.PersistentClient(
        path=location, settings=ChromaSettings(anonymized_telemetry=False)
    )


def forget_embedded(index_dir: Path) -> None:
    """Make the next client of ``index_dir`` start a new embedded Chroma instead of sharing
    the one this process already runs for it (chromadb keeps one per folder)."""
    SharedSystemClient._identifier_to_system.pop(str(index_dir), None)
    SharedSystemClient._identifier_to_refcount.pop(str(index_dir), None)


def _server_client(server: ChromaServer) -> ClientAPI:
    try:
        return chromadb.HttpClient(
            host=server.host,
            port=server.port,
            ssl=server.ssl,
            settings=ChromaSettings(anonymized_telemetry=False),
        )
    except ValueError as exc:
        # chromadb turns a failed first request into ValueError; the real cause is its context
        cause = exc.__context__
        if isinstance(cause, httpx.TransportError):
            raise ChromaServerError(
                f"Cannot reach the Chroma server at {server.url} ({_reason(cause)}) — start it "
                f"with 'chroma run --path DIR --port {server.port}' or fix --chroma-url / "
                "NEWSRAG_CHROMA_URL."
            ) from exc
        raise ChromaServerError(
            f"The server at {server.url} did not answer as a Chroma server "
            f"({_reason(cause or exc)}) — point --chroma-url / NEWSRAG_CHROMA_URL at a Chroma "
            f"1.x server ('chroma run --path DIR --port {server.port}')."
        ) from exc


def location_option(location: str) -> str:
    """The command-line option that points at ``location`` (a server URL or an index folder)."""
    return f"--chroma-url {location}" if _is_url(location) else f"--index {location}"


@contextmanager
def server_errors(location: str) -> Iterator[None]:
    """Report a Chroma server at ``location`` that goes away as ChromaServerError."""
    try:
        yield
    except httpx.TransportError as exc:
        if not _is_url(location):
            raise
        port = ChromaServer.parse(location).port
        raise ChromaServerError(
            f"Lost the Chroma server at {location} ({_reason(exc)}) — start it again (e.g. "
            f"'chroma run --path DIR --port {port}') and rerun the command; an interrupted "
            "ingest keeps the articles it committed and writes the rest."
        ) from exc


@contextmanager
def storage_errors(location: str, data_dir: Path | None = None) -> Iterator[None]:
    """Report a Chroma server that goes away (ChromaServerError), a read-only index
    (IndexReadOnlyError), a full disk (DiskFullError) and a damaged database
    (IndexCorruptError) with their fixes. ``data_dir``: the folder holding Chroma's files
    when it is not ``location`` itself (a rebuilt index, see index.store.layout)."""
    with server_errors(location):
        try:
            yield
        except ChromaError as exc:
            translated = _storage_error(str(exc), location, data_dir)
            if translated is None:
                raise
            raise translated from exc


def _storage_error(
    message: str, location: str, data_dir: Path | None = None
) -> NewsragError | None:
    """The newsrag error for a Chroma error message, or None when it is not about storage."""
    text = message.lower()
    folder = Path(location) if not _is_url(location) else None
    if any(sign in text for sign in _DAMAGED):
        return corrupt_error(location, (data_dir or folder), _reason_of(text))
    if "readonly database" in text or "read-only file system" in text:
        if folder is None:
            return IndexReadOnlyError(
                f"The Chroma server at {location} cannot write its database ({_reason_of(text)})"
                " — give 'chroma run' a writable --path and run the command again."
            )
        return read_only_error(location, folder, _reason_of(text))
    if "disk is full" in text or "no space left" in text:
        if folder is None:
            return DiskFullError(
                f"The Chroma server at {location} ran out of disk space ({_reason_of(text)}) — "
                "free space on the server's disk and run the same command again: articles "
                "written before this point are kept, and the rest are written then."
            )
        return disk_full_error(location, folder, _reason_of(text))
    return None


# SQLite's words for a damaged database file (codes 11 and 26), and Chroma's for lost segments
_DAMAGED = (
    "database disk image is malformed",
    "file is not a database",
    "file is encrypted or is not a database",
    "database corruption",
)


def corrupt_error(location: str, data_dir: Path | None, reason: str) -> IndexCorruptError:
    """The error for an index whose Chroma database cannot be read: it names the file and
    the rebuild, which builds from the given articles without reading the damaged file."""
    if data_dir is None:
        return IndexCorruptError(
            f"The Chroma server at {location} reports a damaged database ({reason}) — "
            "restore the server's --path folder from a backup, or start it on an empty "
            "folder and rebuild: newsrag ingest PATH --chroma-url "
            f"{location} --rebuild"
        )
    return IndexCorruptError(
        f"The index database {data_dir / DATABASE_NAME} is damaged ({reason}) — rebuild the "
        f"index from your articles: newsrag ingest PATH --index {location} --rebuild (it "
        "builds beside the damaged files and replaces them when it is done)."
    )


def _reason_of(text: str) -> str:
    """'database or disk is full' from Chroma's 'Query error: ... (code: 13) database or disk
    is full'."""
    return re.sub(r"^.*\(code: \d+\)\s*", "", text).strip() or text


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def _reason(exc: BaseException) -> str:
    """'connection refused' from '[Errno 111] Connection refused', and the like."""
    text = " ".join(re.sub(r"^\[Errno -?\d+\]\s*", "", str(exc)).split()).rstrip(".")
    if not text:
        return type(exc).__name__
    text = text if len(text) <= 120 else text[:117] + "..."
    return text[0].lower() + text[1:]
