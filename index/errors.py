"""The one small hierarchy of errors that newsrag raises on purpose.

Every message names the object, the bad value and the fix, so the CLI and the UI can show it as
it is.
"""

from typing import Self

from index.redact import redact


class NewsragError(Exception):
    """Base class: anything newsrag reports to a user. Passwords, API keys and URL tokens in
    the message are masked (index/redact.py), so no message carries a secret."""

    def __init__(self, message: str = "") -> None:
        super().__init__(redact(message))


class ConfigError(NewsragError):
    """A setting (environment variable, flag or argument) has a bad value."""


class IndexNotFoundError(NewsragError):
    """The index folder or its collections do not exist yet."""

    @classmethod
    def at(cls, location: str, option: str, collection: str | None = None) -> Self:
        """The one message for a missing index: where it was looked for (the folder, or the
        ``collection`` at a folder or server) and the ``newsrag ingest`` that makes it, with the
        ``option`` that points there (``--index DIR`` or ``--chroma-url URL``)."""
        what = f"No newsrag index {collection!r} at" if collection else "No index at"
        return cls(f"{what} {location} — run 'newsrag ingest PATH {option}' first.")


class IndexMismatchError(NewsragError):
    """The index was built with another embedding model or chunking than the one configured."""


class ArticleNotFoundError(NewsragError):
    """No article with the given id is in the index."""


class EmbeddingModelError(NewsragError):
    """The embedding model cannot be loaded (offline, so it must be on disk)."""


class IngestError(NewsragError):
    """An ingest could not start (for example: a path that does not exist)."""


class ChromaServerError(NewsragError):
    """The Chroma server (``--chroma-url``) cannot be reached, or went away during a command."""


class IndexBusyError(NewsragError):
    """Another process is writing to the index (the write lock is held)."""


class IndexReadOnlyError(NewsragError):
    """The index folder (or its Chroma database) cannot be written."""


class DiskFullError(NewsragError):
    """The disk holding the index ran out of space during a write."""


class IndexCorruptError(NewsragError):
    """A file of the index (Chroma's database, the keyword index) is damaged or unreadable."""
