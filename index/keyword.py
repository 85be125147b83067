"""The keyword index: BM25 (bm25s) over the same chunks as the Chroma collection, kept beside it.

It lives in ``<index_dir>/keyword/<collection>/`` and records the index generation it matches.
Every ingest and delete bumps the generation in Chroma first and rewrites this index last, so a
keyword index whose generation differs from Chroma's is stale (another machine wrote to a Chroma
server, or a save failed) and is rebuilt from Chroma's own passages. While a write is under way,
or after one died, readers keep the index saved before it (see ChromaStore's write journal).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from index.chunking import Chunker
from index.records import Chunk
from index.store import ChromaStore, WriteState
from index.timeframe import day_number

STOPWORDS = "en"
CURRENT = "CURRENT"


@dataclass(frozen=True)
class KeywordRow:
    """One indexed passage: what filters and ranking need without asking Chroma."""

    chunk_id: str
    article_id: str
    published: int  # YYYYMMDD, 0 when undated
    source: str
    tokens: tuple[str, ...]
    position: int = 0  # the chunk's place in its article (0: the lead)


class Tokenizer:
    """Lowercased words without English stopwords, Snowball-stemmed."""

    def __init__(self) -> None:
        self.stemmer = Stemmer.Stemmer("english")

    def __call__(self, texts: Sequence[str]) -> list[list[str]]:
        if not texts:
            return []
        tokens = bm25s.tokenize(
            list(texts),
            stopwords=STOPWORDS,
            stemmer=self.stemmer,
            return_ids=False,
            show_progress=False,
        )
        return [list(t) for t in tokens]


class KeywordIndex:
    """BM25 over passages, with per-row article, date and source for filtering.

    >>> kw = KeywordIndex.build(rows, generation=3)
    >>> kw.search(tokenizer("European army"), n=50)
    [(17, 9.1), (4, 7.3), ...]      # (row, BM25 score), best first
    """

    def __init__(
        self,
        rows: Sequence[KeywordRow],
        bm25: bm25s.BM25 | None,
        generation: int,
        *,
        has_tokens: bool = True,
    ) -> None:
        self.rows = tuple(rows)
        self.has_tokens = has_tokens
        self.bm25 = bm25
        self.generation = generation
        self.position = {row.chunk_id: i for i, row in enumerate(self.rows)}
        self.published = np.array([r.published for r in self.rows], dtype=np.int64)
        self.article_ids = np.array([r.article_id for r in self.rows], dtype=object)
        self.sources = np.array([r.source for r in self.rows], dtype=object)
        self.positions = np.array([r.position for r in self.rows], dtype=np.int32)

    @classmethod
    def build(cls, rows: Sequence[KeywordRow], generation: int) -> KeywordIndex:
        bm25 = None
        if rows:
            bm25 = bm25s.BM25()
            bm25.index([list(r.tokens) or [""] for r in rows], show_progress=False)
        return cls(rows, bm25, generation)

    def __len__(self) -> int:
        return len(self.rows)

    def updated(
        self, drop_articles: Iterable[str], add: Sequence[KeywordRow], generation: int
    ) -> KeywordIndex:
        """A new index without ``drop_articles``' passages and with ``add``."""
        if not self.has_tokens:
            raise ValueError("load the keyword index with tokens=True before updating it")
        dropped = set(drop_articles)
        kept = [r for r in self.rows if r.article_id not in dropped]
        return KeywordIndex.build(kept + list(add), generation)

    def search(
        self, query_tokens: Sequence[str], n: int, mask: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The ``n`` best rows for the query tokens as (row, score), best first; rows outside
        ``mask`` (a boolean array over rows) and rows sharing no word are left out."""
        if self.bm25 is None or not query_tokens or n < 1:
            return []
        scores = np.asarray(self.bm25.get_scores(list(query_tokens)), dtype=np.float32)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    # -- disk -----------------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write to a fresh subfolder, then point ``CURRENT`` at it (atomic on POSIX)."""
        folder.mkdir(parents=True, exist_ok=True)
        target = Path(tempfile.mkdtemp(prefix=f"g{self.generation}-", dir=folder))
        if self.bm25 is not None:
            self.bm25.save(str(target), show_progress=False)
        rows = {
            "generation": self.generation,
            "chunk_ids": [r.chunk_id for r in self.rows],
            "article_ids": [r.article_id for r in self.rows],
            "published": [r.published for r in self.rows],
            "sources": [r.source for r in self.rows],
            "positions": [r.position for r in self.rows],
        }
        (target / "rows.json").write_text(json.dumps(rows), encoding="utf-8")
        tokens = [" ".join(r.tokens) for r in self.rows]
        (target / "tokens.json").write_text(json.dumps(tokens), encoding="utf-8")
        handle, pointer = tempfile.mkstemp(prefix=f"{CURRENT}.", suffix=".tmp", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(target.name)
        os.replace(pointer, folder / CURRENT)
        # another process may have saved at the same time: spare what CURRENT names now
        keep = {target.name, _pointed(folder)}
        for old in folder.iterdir():
            if old.is_dir() and old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, *, tokens: bool = False) -> KeywordIndex | None:
        """The saved index in ``folder``, checked whole; None when there is none, or when it
        is damaged (a one-line warning names the damage; the caller rebuilds it from the
        store's passages). Searching needs no tokens; updating does (``tokens=True``)."""
        for _ in range(2):
            name = _pointed(folder)
            if not name:
                return None
            try:
                return cls._read(folder / name, tokens)
            except FileNotFoundError as exc:
                if _pointed(folder) != name:
                    continue  # another process saved a newer copy while this one was read
                reason = f"{Path(exc.filename or name).name} is missing"
            except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
                reason = str(exc) or type(exc).__name__
            warnings.warn(
                f"The keyword index at {folder} is damaged ({reason}); rebuilding it from "
                "the stored passages.",
                stacklevel=2,
            )
            return None
        return None

    @classmethod
    def _read(cls, target: Path, tokens: bool) -> KeywordIndex:
        """The index saved in ``target``; ValueError naming the file when a part is damaged."""
        rows = _json(target / "rows.json")
        if not isinstance(rows, dict) or not isinstance(rows.get("chunk_ids"), list):
            raise ValueError("rows.json holds no passage list")
        count = len(rows["chunk_ids"])
        columns = ("article_ids", "published", "sources", "positions")
        if any(not isinstance(rows.get(c), list) or len(rows[c]) != count for c in columns):
            raise ValueError(f"rows.json: its columns do not all have {count} rows")
        words = _json(target / "tokens.json") if tokens else [""] * count
        if not isinstance(words, list) or len(words) != count:
            raise ValueError(f"tokens.json does not hold {count} passages")
        bm25 = None
        if count:
            bm25 = bm25s.BM25.load(str(target), mmap=True, show_progress=False)
            _check_bm25(bm25, count)
        records = [
            KeywordRow(str(cid), str(aid), int(pub), str(src), tuple(str(tok).split()), int(pos))
            for cid, aid, pub, src, tok, pos in zip(
                rows["chunk_ids"],
                rows["article_ids"],
                rows["published"],
                rows["sources"],
                words,
                rows["positions"],
                strict=True,
            )
        ]
        return cls(records, bm25, int(rows["generation"]), has_tokens=tokens)


def _json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name} is not valid JSON (cut short or overwritten)") from exc


def _check_bm25(bm25: bm25s.BM25, count: int) -> None:
    """Raise ValueError when the BM25 arrays cannot be the index of ``count`` passages: a
    damaged .npy file would otherwise fail mid-search, or silently find nothing."""
    vocab = bm25.vocab_dict or {}
    if not vocab:
        raise ValueError("vocab.index.json: the vocabulary is empty")
    scores = bm25.scores
    data, indices, indptr = (np.asarray(scores[k]) for k in ("data", "indices", "indptr"))
    if int(scores.get("num_docs", -1)) != count:
        raise ValueError(f"params: {scores.get('num_docs')} passages, rows.json has {count}")
    # bm25s gives the empty token a vocabulary entry and no column of its own
    if sorted(vocab.values()) != list(range(len(vocab))) or len(indptr) not in (
        len(vocab),
        len(vocab) + 1,
    ):
        raise ValueError("vocab.index.json does not match indptr.csc.index.npy")
    if indptr[0] != 0 or indptr[-1] != len(data) or np.any(np.diff(indptr) < 0):
        raise ValueError("indptr.csc.index.npy is damaged")
    in_range = not len(indices) or 0 <= indices.min() <= indices.max() < count
    if len(indices) != len(data) or not in_range:
        raise ValueError("indices.csc.index.npy is damaged")
    if not np.all(np.isfinite(data)) or np.any(data < 0):
        raise ValueError("data.csc.index.npy is damaged")


def keyword_row(chunk: Chunk, tokens: Sequence[str]) -> KeywordRow:
    return KeywordRow(
        chunk.id,
        chunk.article_id,
        day_number(chunk.published or None) or 0,
        chunk.source or "",
        tuple(tokens),
        chunk.index,
    )


class KeywordSync:
    """Keeps the keyword index in ``folder`` in step with a Chroma store.

    >>> sync = KeywordSync(index_dir / "keyword" / "newsrag", store, chunker)
    >>> sync.current().search(sync.tokenize(["European army"])[0], n=50)
    """

    def __init__(self, folder: Path, store: ChromaStore, chunker: Chunker) -> None:
        self.folder = folder
        self.store = store
        self._data_dir = store.data_dir  # the store's folder that ``folder`` lies in
        self._name = store.name  # and the index name it is named for
        self.chunker = chunker
        self.tokenize = Tokenizer()
        self._index: KeywordIndex | None = None
        self._lock = threading.Lock()  # one rebuild or update at a time in this process

    def current(self, state: WriteState | None = None) -> KeywordIndex:
        """The keyword index matching the store's journal (``state``, read fresh when not
        given). While a write is under way (or after one died) the last index saved before it
        is used as it is; otherwise a stale index is rebuilt from Chroma."""
        state = state or self.store.write_state()
        self._follow_store()
        index = self._index
        if index is not None and _usable(index, state):
            return index
        with self._lock:
            return self._load_or_rebuild(state)

    def _follow_store(self) -> None:
        """After the store switched to a rebuilt index (another folder, or on a server
        another name), use the keyword index of that one."""
        if (self.store.data_dir, self.store.name) == (self._data_dir, self._name):
            return
        with self._lock:
            moved, name = self.store.data_dir, self.store.name
            if moved is not None and self._data_dir is not None and moved != self._data_dir:
                self.folder = moved / self.folder.relative_to(self._data_dir)
            elif name != self._name:
                self.folder = self.folder.parent / name
            self._data_dir, self._name = moved, name
            self._index = None

    def _load_or_rebuild(self, state: WriteState) -> KeywordIndex:
        if self._index is not None and _usable(self._index, state):
            return self._index  # another thread got here first
        loaded = KeywordIndex.load(self.folder)
        if loaded is None or not _usable(loaded, state):
            # while writing, a fresh build is a snapshot from before the write's end
            generation = state.generation - 1 if state.writing else state.generation
            loaded = self.rebuild(generation, exclude=state.uncommitted, save=not state.writing)
        self._index = loaded
        return loaded

    def rebuild(
        self, generation: int, *, exclude: frozenset[str] = frozenset(), save: bool = True
    ) -> KeywordIndex:
        """Build the keyword index from every passage in Chroma (but those of ``exclude``d
        articles) and, with ``save``, save it."""
        chunks = [c for c in self.store.iter_chunks() if c.article_id not in exclude]
        tokens = self.tokenize([self.chunker.indexed_text(c) for c in chunks])
        index = KeywordIndex.build(
            [keyword_row(c, t) for c, t in zip(chunks, tokens, strict=True)], generation
        )
        if save:
            self._save(index)
        return index

    def rows(self, chunks: Sequence[Chunk]) -> list[KeywordRow]:
        """The keyword rows of ``chunks`` (ingest makes them group by group, while the model
        embeds the next group, and hands them to :meth:`apply`)."""
        tokens = self.tokenize([self.chunker.indexed_text(c) for c in chunks])
        return [keyword_row(c, t) for c, t in zip(chunks, tokens, strict=True)]

    def apply(
        self,
        written: Sequence[tuple[str, Sequence[Chunk]]],
        deleted: Sequence[str],
        generation: int,
        rows: Sequence[KeywordRow] | None = None,
    ) -> KeywordIndex:
        """Record one ingest or delete that moved the store to ``generation``: ``written`` are
        (article id, its new chunks), ``deleted`` are removed article ids; ``rows``, when
        given, are :meth:`rows` of the written chunks, in order."""
        self._follow_store()  # the write went to the folder a rebuild switched the store to
        with self._lock:
            return self._apply(written, deleted, generation, rows)

    def _apply(
        self,
        written: Sequence[tuple[str, Sequence[Chunk]]],
        deleted: Sequence[str],
        generation: int,
        rows: Sequence[KeywordRow] | None,
    ) -> KeywordIndex:
        base = KeywordIndex.load(self.folder, tokens=True)
        chunks = [c for _, cs in written for c in cs]
        # a first ingest: the store holds just the chunks written, no need to read them back
        whole = base is None and not deleted and self.store.counts()[1] == len(chunks)
        if not whole and (base is None or base.generation != generation - 1):
            index = self.rebuild(generation)  # missed a write (crash, other process): start over
        else:
            if rows is None or [r.chunk_id for r in rows] != [c.id for c in chunks]:
                rows = self.rows(chunks)
            if base is None:
                index = KeywordIndex.build(rows, generation)
            else:
                drop = [aid for aid, _ in written] + list(deleted)
                index = base.updated(drop, rows, generation)
            self._save(index)
        self._index = index
        return index

    def _save(self, index: KeywordIndex) -> None:
        try:
            index.save(self.folder)
        except OSError as exc:
            fix = (
                "free some disk space"
                if exc.errno in (errno.ENOSPC, errno.EDQUOT)
                else "make the index folder writable"
            )
            warnings.warn(
                f"Could not save the keyword index to {self.folder} ({exc.strerror or exc}); "
                f"searches work and it is rebuilt next time — {fix}.",
                stacklevel=2,
            )


def _usable(index: KeywordIndex, state: WriteState) -> bool:
    """Whether ``index`` serves readers of a store in ``state``: it matches the generation, or
    a write is under way and it is from before that write (it lacks only the new articles)."""
    return index.generation == state.generation or (
        state.writing and index.generation < state.generation
    )


def _pointed(folder: Path) -> str:
    """The subfolder ``CURRENT`` names ('' when there is none)."""
    try:
        return (folder / CURRENT).read_text(encoding="utf-8").strip()
    except OSError:
        return ""
