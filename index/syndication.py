"""Syndicated copies: the same story from several outlets (a wire story reprinted, an article
updated under a new URL), found as near-duplicate text and grouped as one story.

Each article's text becomes a MinHash signature of its word 5-shingles (datasketch); locality-
sensitive hashing finds the candidates and an article joins the story of the first candidate
whose estimated Jaccard similarity is at least ``THRESHOLD``. Articles stay separate; the groups
live in ``INDEX/stories/COLLECTION/`` beside the keyword index.

The threshold was set on the training corpus (RealTimeQA 2025, 5,384 articles) with
``python -m benchmarks.syndication_bench ../shared/data/realtimeqa-2025/articles.jsonl
--threshold 0.3``: grouped pairs of exact Jaccard 0.3-0.4 held two different stories of one
series in ~17 (a profile and a next-day speech; a launch announced and changed), above 0.4 one
in ~50 (award nominations vs winners). Light rewrites by three outlets score 0.59-0.80, two
stories on one topic under 0.05 (tests/index/syndication_fixtures.py). See docs/sources.md.
"""

from __future__ import annotations

import functools
import json
import os
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from index.records import Copy, Hit

SHINGLE_WORDS = 5
NUM_PERM = 128
THRESHOLD = 0.4  # estimated Jaccard of 5-word shingles; measured, see the module docstring
MAX_DAYS_APART = 7  # copies of one story come out within a week of each other
SEED = 1
SCHEME = "affine32"  # datasketch 2 hashing; stored signatures are only comparable within it
_WORD = re.compile(r"\w+")
_TITLE_WORD = re.compile(r"[^\W\d_]{4,}")
# words too common in headlines to tie two of them together
_GENERIC = frozenset(
    "about after also amid ahead back before being best could first from have here just know "
    "latest live more most news over people photos report says that their them then there "
    "these this today update updates video watch what when where which while will with would "
    "year years your".split()
)


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    """The article's word ``size``-grams, lower-cased (its words, if it is shorter)."""
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}


def signature(text: str) -> np.ndarray:
    """The MinHash signature (NUM_PERM uint64) of ``text``'s shingles."""
    from datasketch import MinHash

    minhash = MinHash(
        num_perm=NUM_PERM,
        seed=SEED,
        hashfunc=zlib.crc32,  # stable across runs, and ~5x cheaper than datasketch's sha1
        permutations=_permutations(),
        scheme=SCHEME,
    )
    minhash.update_batch(list(shingles(text)))
    return np.asarray(minhash.hashvalues, dtype=np.uint64)


def close_in_time(a: Copy, b: Copy) -> bool:
    """Whether two articles came out within MAX_DAYS_APART of each other (undated ones are
    not held back). Copies of a story come out within days; a guide reprinted every year
    ("When is the Super Bowl?") is a new story each time, and a question asked as of a date
    needs the one of its year."""
    if not a.published or not b.published:
        return True
    try:
        days = abs((date.fromisoformat(a.published) - date.fromisoformat(b.published)).days)
    except ValueError:
        return True
    return days <= MAX_DAYS_APART


def related_titles(a: Copy, b: Copy) -> bool:
    """Whether two headlines share a telling word (not a site's name or a headline cliché).
    Copies of one story are retitled but keep its subject; two pages whose extracted text is
    the same boilerplate (an ad survey, a gambling disclaimer) under unrelated headlines are
    not one story. Articles without a title are not held back."""
    words_a, words_b = _title_words(a), _title_words(b)
    return not words_a or not words_b or bool(words_a & words_b)


def _title_words(copy: Copy) -> set[str]:
    site = set(_TITLE_WORD.findall((copy.source or "").lower()))
    return {w for w in _TITLE_WORD.findall(copy.title.lower()) if w not in _GENERIC | site}


@functools.cache
def _permutations() -> Any:
    """The MinHash permutations of (NUM_PERM, SEED), made once."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def _minhash(sig: np.ndarray) -> Any:
    from datasketch import MinHash

    return MinHash(
        num_perm=NUM_PERM,
        seed=SEED,
        hashvalues=sig,
        permutations=_permutations(),
        scheme=SCHEME,
    )


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.mean(a == b))


class Stories:
    """The story groups of one index.

    >>> stories = Stories.open(Path("idx/stories/newsrag"))
    >>> stories.add([(article, copy)])          # at ingest
    >>> stories.copies_of("a1")                 # the other articles of a1's story
    """

    def __init__(self, folder: Path, threshold: float = THRESHOLD) -> None:
        self.folder = folder
        self.threshold = threshold
        self._lsh: Any = None  # built when an article is first added (searching needs none)
        self.signatures: dict[str, np.ndarray] = {}
        self.story: dict[str, str] = {}  # article id -> story id (its first article's id)
        self.copies: dict[str, Copy] = {}

    @classmethod
    def open(cls, folder: Path, threshold: float = THRESHOLD) -> Stories:
        stories = cls(folder, threshold)
        meta = folder / "stories.json"
        if meta.exists():
            data = json.loads(meta.read_text(encoding="utf-8"))
            matrix = np.load(folder / "signatures.npy")
            for row, item in enumerate(data["articles"]):
                stories._insert(
                    item["article_id"], matrix[row], item["story"], Copy(**item["copy"])
                )
        return stories

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        ids = list(self.signatures)
        matrix = (
            np.stack([self.signatures[i] for i in ids])
            if ids
            else np.zeros((0, NUM_PERM), dtype=np.uint64)
        )
        with open(self.folder / "signatures.tmp", "wb") as out:
            np.save(out, matrix)
        os.replace(self.folder / "signatures.tmp", self.folder / "signatures.npy")
        data = {
            "shingle_words": SHINGLE_WORDS,
            "num_perm": NUM_PERM,
            "scheme": SCHEME,
            "hash": "crc32",
            "threshold": self.threshold,
            "articles": [
                {"article_id": i, "story": self.story[i], "copy": asdict(self.copies[i])}
                for i in ids
            ],
        }
        tmp = self.folder / "stories.tmp"
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.folder / "stories.json")

    def add(self, items: Iterable[tuple[str, str, Copy]]) -> None:
        """Group (article id, text, copy) items; a re-added article is grouped anew."""
        for article_id, text, copy in items:
            self.remove(article_id)
            sig = signature(text)
            self._insert(article_id, sig, self._story_for(sig, copy), copy)

    def _story_for(self, sig: np.ndarray, copy: Copy) -> str | None:
        probe = _minhash(sig)
        best: tuple[float, str] | None = None
        for other in self.lsh.query(probe):
            score = similarity(sig, self.signatures[other])
            if (
                score >= self.threshold
                and (best is None or score > best[0])
                and related_titles(copy, self.copies[other])
                and close_in_time(copy, self.copies[other])
            ):
                best = (score, other)
        return self.story[best[1]] if best else None

    @property
    def lsh(self) -> Any:
        """The datasketch MinHashLSH over every signature."""
        if self._lsh is None:
            from datasketch import MinHashLSH

            self._lsh = MinHashLSH(threshold=self.threshold, num_perm=NUM_PERM)
            for article_id, sig in self.signatures.items():
                self._lsh.insert(article_id, _minhash(sig))
        return self._lsh

    def _insert(self, article_id: str, sig: np.ndarray, story: str | None, copy: Copy) -> None:
        if self._lsh is not None:
            self._lsh.insert(article_id, _minhash(sig))
        self.signatures[article_id] = sig
        self.story[article_id] = story or article_id
        self.copies[article_id] = copy

    def remove(self, article_id: str) -> None:
        if article_id in self.signatures:
            if self._lsh is not None:
                self._lsh.remove(article_id)
            del self.signatures[article_id], self.story[article_id], self.copies[article_id]

    def story_of(self, article_id: str) -> str:
        return self.story.get(article_id, article_id)

    def copies_of(self, article_id: str) -> tuple[Copy, ...]:
        """The other articles of ``article_id``'s story (empty when it stands alone)."""
        story = self.story.get(article_id)
        if story is None:
            return ()
        return tuple(
            self.copies[i] for i, s in self.story.items() if s == story and i != article_id
        )

    def groups(self) -> list[list[Copy]]:
        """Stories with more than one article, largest first."""
        members: dict[str, list[Copy]] = {}
        for article_id, story in self.story.items():
            members.setdefault(story, []).append(self.copies[article_id])
        found = [m for m in members.values() if len(m) > 1]
        return sorted(found, key=lambda m: (-len(m), m[0].title))

    @property
    def grouped(self) -> bool:
        """Whether any story has more than one article."""
        return len(set(self.story.values())) < len(self.story)


def collapse(hits: Sequence[Hit], stories: Stories, k: int) -> list[Hit]:
    """The first ``k`` hits with one article per story, ranked anew: a story's later articles
    are left out and named in ``also_in`` of the one kept (whose passages all stay)."""
    kept: dict[str, str] = {}  # story -> the article kept for it
    out: list[Hit] = []
    for hit in hits:
        article_id = hit.chunk.article_id
        story = stories.story_of(article_id)
        if kept.setdefault(story, article_id) != article_id:
            continue
        out.append(replace(hit, rank=len(out) + 1, also_in=stories.copies_of(article_id)))
        if len(out) == k:
            break
    return out
