"""A rebuild built aside on a Chroma server: the new index is written under collections of a
new name (``newsrag-YYYYmmddTHHMMSS-xxxxxx_chunks`` ...), and a small pointer collection
(``newsrag_pointer``, its metadata ``{"current": NAME, "previous": NAME}``) says which name
readers use. Every client of the server, on any machine, reads the pointer at most once a
second and switches when it changes; the collections it replaced stay until the next rebuild.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from chromadb.api import ClientAPI
from chromadb.errors import NotFoundError

POINTER_SUFFIX = "_pointer"


@dataclass(frozen=True)
class ServerPointer:
    current: str
    previous: str = ""


def read(client: ClientAPI, base: str) -> ServerPointer:
    """The names ``base``'s pointer holds (``base`` itself when there is no pointer)."""
    try:
        meta = client.get_collection(base + POINTER_SUFFIX, embedding_function=None).metadata
    except NotFoundError:
        return ServerPointer(base)
    meta = meta or {}
    return ServerPointer(str(meta.get("current") or base), str(meta.get("previous") or ""))


def new_name(base: str) -> str:
    """A collection name for a rebuild of ``base``."""
    return f"{base}-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


def publish(client: ClientAPI, base: str, name: str) -> list[str]:
    """Point ``base`` at the collections called ``name``; the names no reader can still need
    (all but ``name`` and the one it replaces). The caller holds the write lock."""
    old = read(client, base)
    meta = {"current": name, "previous": old.current}
    pointer = client.get_or_create_collection(
        base + POINTER_SUFFIX, metadata=meta, embedding_function=None
    )
    pointer.modify(metadata=meta)
    keep = {name, old.current}
    return [n for n in names_of(client, base) if n not in keep]


def names_of(client: ClientAPI, base: str) -> list[str]:
    """Every index name of ``base`` on the server: ``base`` and its rebuilds."""
    rebuilt = re.compile(re.escape(base) + r"-\d{8}T\d{6}-[0-9a-f]{6}")
    found = set()
    for collection in client.list_collections():
        stem = collection.name.removesuffix("_chunks").removesuffix("_articles")
        if stem != collection.name and (stem == base or rebuilt.fullmatch(stem)):
            found.add(stem)
    return sorted(found)


def forget(client: ClientAPI, base: str) -> bool:
    """Delete ``base``'s pointer collection; True if there was one."""
    try:
        client.delete_collection(base + POINTER_SUFFIX)
    except NotFoundError:
        return False
    return True
