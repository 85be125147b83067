"""Uploads into a server's index: same-named files never replace each other (issue 24 item 8),
the same file twice changes nothing, limits and bad files are reported per file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from assistant.uploads import DIGEST_CHARS, Upload, UploadLimits, Uploads, safe_name
from index import NewsIndex
from index.errors import ArticleNotFoundError, ConfigError

FERRY = b"Ferry strike\n\nFerry crews walked out over rosters on the Kestrel Sound crossing.\n"
TRAM = b"Tram fares frozen\n\nThe council froze tram fares for another year on Monday.\n"


def upload(name: str, data: bytes) -> Upload:
    return Upload(name, io.BytesIO(data))


def test_two_files_with_one_name_are_both_kept(fake_index: NewsIndex) -> None:
    uploads = Uploads(fake_index)
    first = uploads.add([upload("notes.txt", FERRY)])
    second = uploads.add([upload("notes.txt", TRAM)])
    assert len(first.report.added) == 1 and len(second.report.added) == 1
    assert second.report.updated == ()
    assert first.report.added != second.report.added
    titles = {a.title for a in fake_index.articles()}
    assert titles == {"Ferry strike", "Tram fares frozen"}
    (_, first_path), (_, second_path) = first.stored + second.stored
    assert first_path != second_path
    assert Path(second_path).name == "notes.txt"  # the name stays readable


def test_the_same_file_twice_is_unchanged(fake_index: NewsIndex) -> None:
    uploads = Uploads(fake_index)
    first = uploads.add([upload("notes.txt", FERRY)])
    again = uploads.add([upload("notes.txt", FERRY)])
    assert again.report.unchanged == first.report.added
    assert again.stored == first.stored
    assert len(fake_index.articles()) == 1


def test_stored_under_the_digest_inside_the_upload_folder(fake_index: NewsIndex) -> None:
    uploads = Uploads(fake_index)
    result = uploads.add([upload("../../etc/passwd.txt", FERRY)])
    ((name, path),) = result.stored
    stored = Path(path)
    assert name == "../../etc/passwd.txt"
    assert stored.parts[0] == "uploads" and stored.name == "passwd.txt"
    assert len(stored.parts[1]) == DIGEST_CHARS
    assert (fake_index.settings.index_dir / stored).read_bytes() == FERRY
    assert not [p for p in uploads.folder.iterdir() if p.name.startswith(".partial-")]


def test_too_large_and_unknown_files_are_skipped_and_the_rest_indexed(
    fake_index: NewsIndex,
) -> None:
    uploads = Uploads(fake_index, UploadLimits(max_files=5, max_file_mb=0.0001))  # 100 bytes
    result = uploads.add(
        [
            upload("big.txt", FERRY + b"x" * 200),
            upload("tool.exe", b"MZ"),
            upload("tram.txt", TRAM),
        ]
    )
    problems = {p.path: p for p in result.report.problems}
    assert set(problems) == {"big.txt", "tool.exe"}
    assert str(problems["big.txt"]) == (
        "big.txt: is larger than the upload limit of 0.0001 MB — split it into smaller files, "
        "or ask the server's operator to raise --max-upload-mb"
    )
    assert problems["tool.exe"].reason == "is not a file type newsrag reads"
    assert len(result.report.added) == 1 and [n for n, _ in result.stored] == ["tram.txt"]
    assert result.to_dict()["skipped"] == 2
    assert not [p for p in uploads.folder.iterdir() if p.name.startswith(".partial-")]


def test_problems_name_the_clients_file_not_the_servers_path(fake_index: NewsIndex) -> None:
    result = Uploads(fake_index).add([upload("empty.txt", b"Only a title\n")])
    assert [p.path for p in result.report.problems] == ["empty.txt"]
    assert str(fake_index.settings.index_dir) not in str(result.to_dict())


def test_too_many_files_or_none_is_an_error(fake_index: NewsIndex) -> None:
    uploads = Uploads(fake_index, UploadLimits(max_files=2))
    with pytest.raises(ConfigError) as error:
        uploads.add([upload(f"{n}.txt", TRAM) for n in range(3)])
    assert str(error.value) == (
        "3 files in one upload; the limit is 2 — send them in smaller batches."
    )
    with pytest.raises(ConfigError, match="No files in the upload"):
        uploads.add([])
    assert fake_index.articles() == []


def test_one_name_twice_in_one_upload_is_two_files(fake_index: NewsIndex) -> None:
    result = Uploads(fake_index).add([upload("notes.txt", FERRY), upload("notes.txt", TRAM)])
    assert len(result.report.added) == 2
    assert [name for name, _ in result.stored] == ["notes.txt", "notes.txt"]
    assert result.to_dict()["stored"][1]["name"] == "notes.txt"


def test_delete_goes_through_the_writer(fake_index: NewsIndex) -> None:
    uploads = Uploads(fake_index)
    (article_id,) = uploads.add([upload("notes.txt", FERRY)]).report.added
    uploads.delete(article_id)
    assert fake_index.articles() == []
    with pytest.raises(ArticleNotFoundError):
        uploads.delete(article_id)


def test_safe_name() -> None:
    assert safe_name("..\\..\\boot.ini") == "boot.ini"
    assert safe_name("a\x00b<c>.md") == "a_b_c_.md"
    assert safe_name("...") == "upload"
