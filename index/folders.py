"""The index's folders beside Chroma's files (keyword index, story groups, a watch's state), and
what dropping or rebuilding an index removes of them."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path

from chromadb.api import ClientAPI

from index.errors import NewsragError
from index.store import layout, open_client, storage_errors


def stories_folder(index_dir: Path, collection: str) -> Path:
    """Where the story groups of ``collection`` live (see index.syndication)."""
    return index_dir / "stories" / collection


def keyword_folder(index_dir: Path, collection: str) -> Path:
    """Where the keyword index of ``collection`` lives: beside Chroma's files (``index_dir``:
    the folder holding them, see index.store.layout; with a Chroma server, the local index
    folder all the same)."""
    return index_dir / "keyword" / collection


def drop_collections(client: ClientAPI, folder: Path, collection: str, location: str) -> bool:
    """Delete ``collection``'s Chroma collections in ``client`` and its keyword index in
    ``folder``; False if there were none."""
    dropped = False
    with storage_errors(location, folder):
        names = {c.name for c in client.list_collections()}
        for suffix in ("_articles", "_chunks"):
            if collection + suffix in names:
                client.delete_collection(collection + suffix)
                dropped = True
    for kept in (keyword_folder(folder, collection), stories_folder(folder, collection)):
        if kept.is_dir():
            shutil.rmtree(kept)
    return dropped


def forget_watch(folder: Path, collection: str) -> None:
    """What a watch has read went into the dropped index: it reads it all again."""
    (folder / "watch" / f"{collection}.json").unlink(missing_ok=True)


def remove_unused(root: Path, collection: str, unused: Sequence[str]) -> None:
    """Delete what a rebuild replaced and no reader can still use. The index folder's own
    files (an index's first layout) are dropped collection by collection, since other
    collections may share them; a damaged database there is left with a warning."""
    for relative in unused:
        if relative != layout.HERE:
            layout.remove_build(root, relative)
            continue
        try:
            client = open_client(root, create=False, location=str(root))
            drop_collections(client, root, collection, str(root))
        except NewsragError as exc:
            warnings.warn(
                f"The old index files in {root} were not removed ({exc}); the index no longer "
                f"uses them — delete {root / 'chroma.sqlite3'} when no other collection "
                "lives there.",
                stacklevel=2,
            )
