"""The bad-input matrix through the chat's upload (the real model): the summary names every
bad file with its line, reason and fix, every good article is indexed, and a file that cannot
be saved is reported instead of failing the upload."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import pytest

from assistant import Assistant
from index import NewsIndex
from index.embeddings import Embedder
from tests.bad_inputs import build_matrix
from ui.app import build_app

pytestmark = pytest.mark.integration  # real processes / the real model


def _upload(demo: object) -> object:
    return next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", None) == "add_files")  # type: ignore[attr-defined]


def test_bad_uploads_are_listed_and_good_ones_indexed(
    tmp_path: Path, real_embedder: Embedder
) -> None:
    matrix = build_matrix(tmp_path / "inputs")
    # what a browser can upload: regular files (no folders, pipes or links)
    files = sorted(str(p) for p in matrix.folder.iterdir() if p.is_file() and not p.is_symlink())
    index = NewsIndex.open(tmp_path / "idx", embedder=real_embedder, create=True)
    add = _upload(build_app(Assistant(index)))
    summary, *_ = add(files, progress=lambda *a, **k: None)  # type: ignore[operator]
    uploadable = {
        b for b in matrix.bad if "/" not in b.name and b.name in {Path(f).name for f in files}
    }
    assert summary.startswith(f"**4 added, 0 updated, 0 unchanged, {len(uploadable)} skipped**")
    for expected in uploadable:
        where = expected.name + (f":{expected.line}" if expected.line else "")
        lines = html.unescape(summary).splitlines()
        line = next(x for x in lines if x.startswith(f"- Skipped: {where}: "))
        assert expected.reason in line and expected.fix in line, line
    assert str(tmp_path) not in summary  # the user's own file names, not the stored paths
    titles = {a.title for a in index.articles()}
    assert titles == matrix.good_titles - {"Inner story"}


def test_an_upload_that_cannot_be_saved_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_index: NewsIndex
) -> None:
    good = tmp_path / "good.md"
    good.write_text("Good news\n\nThe bridge reopened on Monday.\n")
    full = tmp_path / "full.md"
    full.write_text("Full\n\nNo room for this one.\n")
    real_copy = shutil.copyfile

    def copy(source: str, target: str) -> str:
        if Path(source).name == "full.md":
            raise OSError(28, "No space left on device")
        return str(real_copy(source, target))

    monkeypatch.setattr(shutil, "copyfile", copy)
    add = _upload(build_app(Assistant(fake_index)))
    summary, *_ = add([str(good), str(full)], progress=lambda *a, **k: None)  # type: ignore[operator]
    assert summary.startswith("**1 added, 0 updated, 0 unchanged, 1 skipped**")
    assert (
        "- Skipped: full.md: could not be saved to the upload folder (No space left on device) "
        "— free some disk space" in summary
    )
