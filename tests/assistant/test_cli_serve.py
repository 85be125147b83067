"""`newsrag serve` and `newsrag chat` as the CLI hands them to ui.server: loopback unless --host
is given, a warning for an open wider address, keys from the flag and NEWSRAG_API_KEYS, keys and
passwords kept out of the command line newsrag records."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import ui.server
from assistant.cli import main


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What the command would serve, instead of serving it."""
    calls: list[Any] = []
    monkeypatch.setattr(ui.server, "serve", lambda assistant, options: calls.append(options))
    monkeypatch.delenv("NEWSRAG_API_KEYS", raising=False)
    monkeypatch.delenv("NEWSRAG_AUTH", raising=False)
    return calls


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_serve_binds_loopback_unless_told(served: list[Any], sample_index_dir: Path) -> None:
    code, out = run("serve", "--index", str(sample_index_dir))
    assert code == 0, out
    (options,) = served
    assert (options.host, options.port, options.page, options.api_keys) == (
        "127.0.0.1",
        7860,
        True,
        (),
    )
    assert "warning" not in out


def test_a_wider_address_without_keys_warns(served: list[Any], sample_index_dir: Path) -> None:
    code, out = run("chat", "--index", str(sample_index_dir), "--host", "0.0.0.0", "--port", "8001")
    assert code == 0 and served[0].host == "0.0.0.0"
    assert (
        "warning: the page and the API at 0.0.0.0:8001 are open to anyone who can reach it — "
        "give --api-key (or NEWSRAG_API_KEYS) and --auth." in out
    )


def test_keys_from_flags_and_environment(
    served: list[Any], sample_index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSRAG_API_KEYS", "sk-env-key-1111, sk-env-key-2222")
    monkeypatch.setattr(sys, "argv", ["newsrag", "serve", "--api-key", "sk-flag-key-0000"])
    code, out = run(
        "serve", "--index", str(sample_index_dir), "--api-key", "sk-flag-key-0000", "--no-page"
    )
    assert code == 0, out
    assert served[0].api_keys == ("sk-flag-key-0000", "sk-env-key-1111", "sk-env-key-2222")
    assert served[0].page is False
    assert sys.argv == ["newsrag", "serve", "--api-key", "…"]


def test_a_short_key_is_refused(served: list[Any], sample_index_dir: Path) -> None:
    code, out = run("serve", "--index", str(sample_index_dir), "--api-key", "abc")
    assert code == 2 and "An API key must have 8 or more characters and no spaces" in out
    assert served == []


def test_allow_private_reaches_the_page(served: list[Any], sample_index_dir: Path) -> None:
    code, out = run("chat", "--index", str(sample_index_dir), "--allow-private")
    assert code == 0, out
    code, out = run("serve", "--index", str(sample_index_dir))
    assert code == 0, out
    assert [options.allow_private for options in served] == [True, False]
