"""A damaged keyword index is found on load and rebuilt from the stored passages, with a
one-line warning; a re-ingest repairs it too (issue 24 item 3)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from index import Article, NewsIndex
from index.keyword import KeywordIndex


def _saved(index: NewsIndex) -> Path:
    folder = index.keyword.folder
    return folder / (folder / "CURRENT").read_text(encoding="utf-8").strip()


def _random_body(name: str) -> Callable[[Path], None]:
    def damage(saved: Path) -> None:
        data = (saved / name).read_bytes()
        header = data.index(b"\n") + 1  # keep the .npy header: only the numbers are garbage
        (saved / name).write_bytes(data[:header] + os.urandom(len(data) - header))

    return damage


def _cut_rows(saved: Path) -> None:
    text = (saved / "rows.json").read_text(encoding="utf-8")
    (saved / "rows.json").write_text(text[: len(text) // 2], encoding="utf-8")


def _empty_vocabulary(saved: Path) -> None:
    (saved / "vocab.index.json").write_text("{}", encoding="utf-8")


DAMAGE = {
    "data.csc.index.npy": (_random_body("data.csc.index.npy"), "data.csc.index.npy is damaged"),
    "indices.csc.index.npy": (
        _random_body("indices.csc.index.npy"),
        "indices.csc.index.npy is damaged",
    ),
    "indptr.csc.index.npy": (
        _random_body("indptr.csc.index.npy"),
        "indptr.csc.index.npy is damaged",
    ),
    "cut rows.json": (_cut_rows, "rows.json is not valid JSON (cut short or overwritten)"),
    "empty vocabulary": (_empty_vocabulary, "vocab.index.json: the vocabulary is empty"),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damage_is_named_once_and_the_index_rebuilt_from_the_passages(
    kind: str, fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    fake_index.ingest_articles(tiny_corpus)
    damage, reason = DAMAGE[kind]
    damage(_saved(fake_index))
    reader = NewsIndex.open(settings=fake_index.settings)
    with pytest.warns(UserWarning) as caught:
        hits = reader.search("measles vaccination", 2, mode="keyword", as_of=None)
    assert hits[0].chunk.article_id == "measles"
    assert [str(w.message) for w in caught] == [
        f"The keyword index at {fake_index.keyword.folder} is damaged ({reason}); "
        "rebuilding it from the stored passages."
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt copy was saved: it loads clean
        again = KeywordIndex.load(fake_index.keyword.folder, tokens=True)
    assert again is not None and len(again) == len(reader.keyword.current())


@pytest.mark.parametrize("kind", ["indices.csc.index.npy", "empty vocabulary"])
def test_a_re_ingest_repairs_a_damaged_keyword_index(
    kind: str, fake_index: NewsIndex, tiny_corpus: list[Article]
) -> None:
    fake_index.ingest_articles(tiny_corpus)
    DAMAGE[kind][0](_saved(fake_index))
    writer = NewsIndex.open(settings=fake_index.settings)
    with pytest.warns(UserWarning, match="is damaged"):
        report = writer.ingest_articles(tiny_corpus)  # nothing changed: it still repairs
    assert len(report.unchanged) == len(tiny_corpus)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        repaired = KeywordIndex.load(fake_index.keyword.folder)
    assert repaired is not None
    assert {r.article_id for r in repaired.rows} == {a.id for a in tiny_corpus}
