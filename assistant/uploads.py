"""Uploads: files that users of a server add to its index, and the deletes they ask for.

Every upload is saved under ``INDEX/uploads/<digest>/<name>``, where ``<digest>`` is the start
of the SHA-256 of the file's bytes: two different files with the same name never share a path
(so neither replaces the other's article), and the same file uploaded twice lands on the same
path (so its re-ingest is "unchanged"). Writes are one at a time within the process, and the
index's write lock keeps other processes out while they run.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from index.errors import ConfigError
from index.newsindex import NewsIndex
from index.records import IngestReport, Problem

UPLOAD_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl")
DIGEST_CHARS = 16  # 64 bits of SHA-256: no two different files of one index share a folder
_COPY_BLOCK = 1 << 16
_UNSAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)


def safe_name(name: str) -> str:
    """A file name that stays inside its folder: the last path component, without separators,
    control characters or a leading dot ("../../etc/passwd" -> "passwd")."""
    base = re.split(r"[\\/]", name)[-1]
    base = _UNSAFE_NAME.sub("_", base).strip(" .")
    return base or "upload"


def stored_path(folder: Path, source: Path) -> Path:
    """Where the file ``source`` is kept in the upload folder ``folder``:
    ``folder/<digest of its bytes>/<its safe name>``."""
    digest = hashlib.sha256()
    with source.open("rb") as f:
        while block := f.read(_COPY_BLOCK):
            digest.update(block)
    return folder / digest.hexdigest()[:DIGEST_CHARS] / safe_name(source.name)


@dataclass(frozen=True)
class UploadLimits:
    """How much one request may upload: ``max_files`` files of at most ``max_file_mb`` each."""

    max_files: int = 20
    max_file_mb: float = 10.0

    def __post_init__(self) -> None:
        if self.max_files < 1:
            raise ConfigError(f"max_files={self.max_files} must be 1 or more.")
        if self.max_file_mb <= 0:
            raise ConfigError(f"max_file_mb={self.max_file_mb} must be more than 0.")

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)

    @property
    def max_request_bytes(self) -> int:
        """The most a whole upload request may carry (files plus multipart framing)."""
        return self.max_files * self.max_file_bytes + 1_000_000


@dataclass(frozen=True)
class Upload:
    """One file as a client sent it: the name it gave and a binary stream of its bytes."""

    name: str
    stream: BinaryIO


@dataclass(frozen=True)
class UploadResult:
    """What an upload did: the ingest report, with each problem's path given as the name the
    client sent (never the server's path), and where each accepted file was stored."""

    report: IngestReport
    stored: tuple[tuple[str, str], ...]  # (the client's name, the path under the index folder)

    def to_dict(self) -> dict[str, object]:
        """The ``newsrag ingest --json`` object, plus the ids by outcome and the stored files."""
        return {
            **self.report.to_dict(),
            "added_ids": list(self.report.added),
            "updated_ids": list(self.report.updated),
            "unchanged_ids": list(self.report.unchanged),
            "stored": [{"name": name, "path": path} for name, path in self.stored],
        }


class Uploads:
    """Saves uploaded files into the index folder and ingests them; deletes articles.

    Built once per server and shared by every route that writes, so writes queue behind each
    other instead of failing on the write lock that one of them holds.

    >>> uploads = Uploads(NewsIndex.open("./idx"))
    >>> with open("notes.txt", "rb") as f:
    ...     uploads.add([Upload("notes.txt", f)]).report.added
    ('notes-3f2a9c1d',)
    """

    def __init__(self, index: NewsIndex, limits: UploadLimits | None = None) -> None:
        self.index = index
        self.limits = limits or UploadLimits()
        self.folder = Path(index.settings.index_dir) / "uploads"
        self._writing = threading.Lock()

    def add(self, files: Sequence[Upload]) -> UploadResult:
        """Save ``files`` and index them. A file that is too large, of a type newsrag does not
        read, or cannot be saved is skipped with a problem naming it; the others go on."""
        if not files:
            raise ConfigError(
                "No files in the upload — send one or more .txt, .md, .html, .json or .jsonl files."
            )
        if len(files) > self.limits.max_files:
            raise ConfigError(
                f"{len(files)} files in one upload; the limit is {self.limits.max_files} — "
                "send them in smaller batches."
            )
        saved: list[Path] = []
        stored: list[tuple[str, str]] = []
        problems: list[Problem] = []
        names: dict[str, str] = {}
        for upload in files:
            outcome = self._save(upload)
            if isinstance(outcome, Problem):
                problems.append(outcome)
                continue
            saved.append(outcome)
            names[str(outcome)] = upload.name
            stored.append((upload.name, str(outcome.relative_to(self.index.settings.index_dir))))
        with self._writing:
            report = self.index.ingest(saved) if saved else IngestReport()
        renamed = tuple(replace(p, path=names.get(p.path, p.path)) for p in report.problems)
        return UploadResult(replace(report, problems=(*problems, *renamed)), tuple(stored))

    def delete(self, article_id: str) -> None:
        """Remove the article ``article_id`` (ArticleNotFoundError names it if absent)."""
        with self._writing:
            self.index.delete(article_id)

    def _save(self, upload: Upload) -> Path | Problem:
        """Copy ``upload`` to its digest folder, or the Problem that stops it."""
        name = safe_name(upload.name)
        if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
            return Problem(
                upload.name,
                "is not a file type newsrag reads",
                "upload " + ", ".join(UPLOAD_SUFFIXES) + " files",
            )
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, partial = tempfile.mkstemp(prefix=".partial-", dir=self.folder)
            try:
                digest = self._copy(upload.stream, handle)
                if digest is None:
                    return Problem(
                        upload.name,
                        f"is larger than the upload limit of {self.limits.max_file_mb:g} MB",
                        "split it into smaller files, or ask the server's operator to raise "
                        "--max-upload-mb",
                    )
                target = self.folder / digest / name
                target.parent.mkdir(exist_ok=True)
                os.replace(partial, target)  # same bytes, same path: replacing changes nothing
                return target
            finally:
                if os.path.exists(partial):
                    os.unlink(partial)
        except OSError as exc:  # full disk, read-only index folder: skip it, say why
            return Problem(
                upload.name,
                f"could not be saved to the upload folder ({exc.strerror or exc})",
                "free some disk space or make the index folder writable, then upload it again",
            )

    def _copy(self, stream: BinaryIO, handle: int) -> str | None:
        """Write ``stream`` to the open file ``handle`` (closing it) and return the start of
        its SHA-256, or None once it passes the size limit."""
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(handle, "wb") as out:
            while block := stream.read(_COPY_BLOCK):
                size += len(block)
                if size > self.limits.max_file_bytes:
                    return None
                digest.update(block)
                out.write(block)
        return digest.hexdigest()[:DIGEST_CHARS]
