"""Where an embedded index's files are, and how a rebuild is built aside and switched to.

An index folder holds the write lock and, for each collection, either Chroma's files and
the keyword index themselves (``chroma.sqlite3``, ``keyword/NAME``: every index starts so),
or a pointer file ``newsrag-current-NAME.json`` naming the folder under ``builds/`` that
holds them. ``ingest --rebuild`` builds a new index in a new folder under ``builds/`` while
readers keep answering from the old one, then replaces the pointer in one atomic rename;
readers notice the new pointer on their next call and reopen there. The folder they left
stays until the next rebuild, so a call under way during the switch finishes on it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from index.errors import IndexCorruptError

BUILDS = "builds"
HERE = "."  # the index folder itself: the layout every index starts with


@dataclass(frozen=True)
class Pointer:
    """The folder (relative to the index folder) that holds a collection, and the one it
    replaced (kept for readers that have not switched yet)."""

    current: str = HERE
    previous: str = ""


def pointer_path(index_dir: Path, collection: str) -> Path:
    return index_dir / f"newsrag-current-{collection}.json"


def read_pointer(index_dir: Path, collection: str) -> Pointer:
    """The pointer of ``collection`` (``Pointer()`` when there is none: the files are in the
    index folder itself). IndexCorruptError when it cannot be read."""
    path = pointer_path(index_dir, collection)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pointer = Pointer(str(data["current"]), str(data.get("previous", "")))
    except FileNotFoundError:
        return Pointer()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorruptError(
            f"The index pointer {path} is damaged ({exc}) — rebuild the index from your "
            f"articles: newsrag ingest PATH --index {index_dir} --rebuild"
        ) from exc
    if not _inside(pointer.current):
        raise IndexCorruptError(
            f"The index pointer {path} names {pointer.current!r}, not a folder of "
            f"{index_dir / BUILDS} — rebuild the index: newsrag ingest PATH --index "
            f"{index_dir} --rebuild"
        )
    return pointer


def data_dir(index_dir: Path, collection: str) -> Path:
    """The folder that holds ``collection``'s Chroma files and keyword index now."""
    current = read_pointer(index_dir, collection).current
    return index_dir if current == HERE else index_dir / current


def stamp(index_dir: Path, collection: str) -> tuple[int, int]:
    """Changes whenever the pointer is replaced (a rename gives it a new inode): one stat."""
    try:
        info = os.stat(pointer_path(index_dir, collection))
    except FileNotFoundError:
        return (0, 0)
    return (info.st_ino, info.st_mtime_ns)


def new_build(index_dir: Path, collection: str) -> Path:
    """A new, empty folder for a rebuild of ``collection``."""
    builds = index_dir / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    prefix = f"{collection}-{time.strftime('%Y%m%dT%H%M%S')}-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=builds))


def publish(index_dir: Path, collection: str, build: Path) -> list[str]:
    """Point ``collection`` at ``build`` (one atomic rename). Returns the folders (relative,
    ``HERE`` for the index folder's own files) that no reader can still need: all but the
    new one and the one it replaces. The caller holds the write lock."""
    old = read_pointer(index_dir, collection)
    new = Pointer(str(build.absolute().relative_to(index_dir.absolute())), old.current)
    path = pointer_path(index_dir, collection)
    handle, staged = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=index_dir)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(json.dumps({"current": new.current, "previous": new.previous}))
        out.flush()
        os.fsync(out.fileno())
    os.replace(staged, path)
    keep = {new.current, new.previous}
    unused = [old.previous] if old.previous and old.previous not in keep else []
    unused += [
        f"{BUILDS}/{p.name}"
        for p in _builds_of(index_dir, collection)
        if f"{BUILDS}/{p.name}" not in keep and f"{BUILDS}/{p.name}" not in unused
    ]
    return unused


def remove_build(index_dir: Path, relative: str) -> None:
    """Delete a folder under ``builds/`` that ``publish`` named unused."""
    if relative != HERE and _inside(relative):
        shutil.rmtree(index_dir / relative, ignore_errors=True)


def forget(index_dir: Path, collection: str) -> bool:
    """Delete the pointer and every build folder of ``collection``; True if there were any."""
    path = pointer_path(index_dir, collection)
    found = path.exists()
    for folder in _builds_of(index_dir, collection):
        shutil.rmtree(folder, ignore_errors=True)
        found = True
    path.unlink(missing_ok=True)
    return found


def _builds_of(index_dir: Path, collection: str) -> list[Path]:
    """The build folders of ``collection`` (finished, in use, or left by a rebuild that died)."""
    name = re.compile(re.escape(collection) + r"-\d{8}T\d{6}-[A-Za-z0-9_]+")
    builds = index_dir / BUILDS
    if not builds.is_dir():
        return []
    return [p for p in builds.iterdir() if p.is_dir() and name.fullmatch(p.name)]


def _inside(relative: str) -> bool:
    """Whether ``relative`` is HERE or one folder directly under builds/."""
    parts = Path(relative).parts
    return relative == HERE or (len(parts) == 2 and parts[0] == BUILDS and ".." not in parts)
