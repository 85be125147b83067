"""The write lock: one process at a time writes to an index; readers never wait.

An OS file lock (``flock`` through the filelock library) in the index folder, so the kernel
releases it when its holder dies, even by ``kill -9``: there is never a stale lock to clear.
Who holds it is recorded beside it, for the message a second writer gets. With a Chroma server
the lock file lives in the local index folder, so it serialises the writers of one machine.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from index.errors import DiskFullError, IndexBusyError, IndexReadOnlyError
from index.redact import redact, redact_argv

LOCK_NAME = "newsrag-write.lock"
OWNER_NAME = "newsrag-write.owner.json"


@contextmanager
def write_lock(folder: Path, location: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the write lock of the index whose local folder is ``folder`` (``location`` names
    the index in messages). Waits up to ``wait`` seconds for another writer, then raises
    IndexBusyError naming it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(folder / LOCK_NAME, timeout=max(wait, 0.0))
        lock.acquire()
    except Timeout:
        raise IndexBusyError(
            f"Another newsrag process ({_owner(folder)}) is writing to the index at {location} "
            f"— wait for it to finish and run the command again, or pass --wait SECONDS "
            f"(NEWSRAG_LOCK_WAIT) to queue behind it{_waited(wait)}."
        ) from None
    except OSError as exc:
        raise storage_error(exc, location, folder) from exc
    try:
        _record_owner(folder)
        yield
    finally:
        with contextlib.suppress(OSError):  # a holder that dies leaves it: it names no secret
            (folder / OWNER_NAME).unlink()
        lock.release()


def storage_error(
    exc: OSError, location: str, folder: Path
) -> IndexReadOnlyError | DiskFullError | OSError:
    """The newsrag error for an OSError met while writing the index folder ``folder``: a
    read-only folder or a full disk; any other OSError is returned as it is."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return read_only_error(location, folder, exc.strerror or str(exc))
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return disk_full_error(location, folder, exc.strerror or str(exc))
    return exc


def read_only_error(location: str, folder: Path, reason: str) -> IndexReadOnlyError:
    return IndexReadOnlyError(
        f"The index at {location} cannot be written ({reason.lower()}) — make {folder} "
        f"writable (e.g. 'chmod -R u+w {folder}'), or copy it somewhere writable and point "
        "--index there. Chroma needs write access even to read an index."
    )


def disk_full_error(location: str, folder: Path, reason: str) -> DiskFullError:
    return DiskFullError(
        f"The disk holding the index at {location} is full ({reason.lower()}) — free some "
        f"space (see 'df -h {folder}') and run the same command again: articles written "
        "before this point are kept, and the rest are written then."
    )


def _record_owner(folder: Path) -> None:
    owner = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": redact_argv([Path(sys.argv[0]).name, *sys.argv[1:]])[:200],
        "since": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    # only used to name the holder in another writer's message; the lock itself is held
    # written 0600 from the start (not chmod-ed after): the command line is masked all the
    # same, but who runs what is nobody else's business
    path = folder / OWNER_NAME
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)  # an older copy may be 0644 or another user's
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(json.dumps(owner))


def _owner(folder: Path) -> str:
    try:
        owner = json.loads((folder / OWNER_NAME).read_text(encoding="utf-8"))
        command, since = owner["command"], owner["since"]
        return redact(f"pid {owner['pid']} on {owner['host']}, '{command}', since {since}")
    except (OSError, ValueError, KeyError, TypeError):
        return "pid unknown"


def _waited(wait: float) -> str:
    return f" (waited {wait:g} s)" if wait > 0 else ""
