"""Where an embedded index's files are, and how a rebuild is switched to (index.store.layout)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import Article, NewsIndex, Settings
from index.errors import IndexCorruptError
from index.store import layout


def test_an_index_without_pointer_lives_in_its_folder(tmp_path: Path) -> None:
    assert layout.read_pointer(tmp_path, "newsrag") == layout.Pointer()
    assert layout.data_dir(tmp_path, "newsrag") == tmp_path
    assert layout.stamp(tmp_path, "newsrag") == (0, 0)


def test_publish_switches_keeps_the_previous_and_names_the_rest_unused(tmp_path: Path) -> None:
    first = layout.new_build(tmp_path, "newsrag")
    other = layout.new_build(tmp_path, "newsrag-other")  # another collection's: never touched
    assert layout.publish(tmp_path, "newsrag", first) == []
    assert layout.data_dir(tmp_path, "newsrag") == tmp_path / "builds" / first.name
    stamp = layout.stamp(tmp_path, "newsrag")
    second = layout.new_build(tmp_path, "newsrag")
    assert layout.publish(tmp_path, "newsrag", second) == [layout.HERE]  # the first layout's
    assert layout.stamp(tmp_path, "newsrag") != stamp
    third = layout.new_build(tmp_path, "newsrag")
    died = layout.new_build(tmp_path, "newsrag")  # a rebuild that never finished
    unused = layout.publish(tmp_path, "newsrag", third)
    assert layout.HERE not in unused
    assert sorted(unused) == sorted([f"builds/{first.name}", f"builds/{died.name}"])
    assert layout.read_pointer(tmp_path, "newsrag") == layout.Pointer(
        f"builds/{third.name}", f"builds/{second.name}"
    )
    assert layout.forget(tmp_path, "newsrag") is True
    assert sorted(p.name for p in (tmp_path / "builds").iterdir()) == [other.name]


def test_the_first_rebuild_names_the_folder_files_unused_only_one_rebuild_later(
    tmp_path: Path,
) -> None:
    first = layout.new_build(tmp_path, "newsrag")
    assert layout.publish(tmp_path, "newsrag", first) == []  # "." is the previous: kept
    second = layout.new_build(tmp_path, "newsrag")
    assert layout.publish(tmp_path, "newsrag", second) == [layout.HERE]


@pytest.mark.parametrize("text", ["{cut", '{"current": "../../etc"}'])
def test_a_damaged_pointer_is_an_error_naming_it_and_the_rebuild(text: str, tmp_path: Path) -> None:
    layout.pointer_path(tmp_path, "newsrag").write_text(text, encoding="utf-8")
    with pytest.raises(IndexCorruptError) as caught:
        layout.data_dir(tmp_path, "newsrag")
    assert str(caught.value).startswith(
        f"The index pointer {layout.pointer_path(tmp_path, 'newsrag')} "
    )
    assert f"newsrag ingest PATH --index {tmp_path} --rebuild" in str(caught.value)


def test_a_reader_in_this_process_follows_a_rebuild(
    fake_settings: Settings, tiny_corpus: list[Article], tmp_path: Path
) -> None:
    NewsIndex.open(settings=fake_settings, create=True).ingest_articles(tiny_corpus)
    reader = NewsIndex.open(settings=fake_settings)
    assert reader.search("measles vaccination", 1, mode="keyword", as_of=None)
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "zeppelin.md").write_text(
        "Zeppelin returns\n\nA zeppelin landed at the fairground.\n", encoding="utf-8"
    )
    rebuilt, report = NewsIndex.rebuild([folder], settings=fake_settings)
    assert len(report.added) == 1
    hits = reader.search("zeppelin fairground", 1, mode="keyword", as_of=None)
    assert hits[0].chunk.title == "Zeppelin returns"
    assert reader.store.data_dir == rebuilt.store.data_dir != fake_settings.index_dir
    assert reader.keyword.folder == rebuilt.keyword.folder
    assert reader.search("measles vaccination", 1, mode="keyword", as_of=None) == []


def test_a_writer_opened_before_a_rebuild_writes_into_the_new_index(
    fake_settings: Settings, tiny_corpus: list[Article], tmp_path: Path
) -> None:
    NewsIndex.open(settings=fake_settings, create=True).ingest_articles(tiny_corpus[:3])
    writer = NewsIndex.open(settings=fake_settings, create=True)  # e.g. queued on --wait
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "zeppelin.md").write_text(
        "Zeppelin returns\n\nA zeppelin landed at the fairground.\n", encoding="utf-8"
    )
    rebuilt, _ = NewsIndex.rebuild([folder], settings=fake_settings)
    report = writer.ingest_articles(tiny_corpus[3:4])
    assert len(report.added) == 1
    fresh = NewsIndex.open(settings=fake_settings)
    assert fresh.store.data_dir == rebuilt.store.data_dir
    assert {a.title for a in fresh.articles()} == {"Zeppelin returns", tiny_corpus[3].title}
    hits = fresh.search(tiny_corpus[3].title, 1, mode="keyword", as_of=None)
    assert hits[0].chunk.article_id == tiny_corpus[3].id
