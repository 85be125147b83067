"""The Chroma store of a newsrag index, by concern:

- ``client``: opening a Chroma client (embedded or server) and its storage errors;
- ``journal``: the write journal (generation, writing flag, pending ids) and the gate;
- ``build``: the build record (model, encoder, chunking) and mismatch errors and warnings;
- ``codec``: how passages and articles are stored as Chroma metadata;
- ``chroma``: ChromaStore, which creates, reads, updates and deletes through them;
- ``layout``: where an embedded index's files are, and a rebuild built aside;
- ``server_layout``: the same on a Chroma server, with collection names for folders.
"""

from index.store.build import BuildInfo, check_build, encoder_warning
from index.store.chroma import WRITE_BATCH, ChromaStore
from index.store.client import (
    forget_embedded,
    location_option,
    open_client,
    server_errors,
    storage_errors,
)
from index.store.codec import PASSAGE_KEY, TEXT_KEY, chunk_fields
from index.store.journal import SCHEMA_VERSION, WriteState

__all__ = [
    "PASSAGE_KEY",
    "SCHEMA_VERSION",
    "TEXT_KEY",
    "WRITE_BATCH",
    "BuildInfo",
    "ChromaStore",
    "WriteState",
    "check_build",
    "chunk_fields",
    "encoder_warning",
    "forget_embedded",
    "location_option",
    "open_client",
    "server_errors",
    "storage_errors",
]
