"""Secrets never reach a message or the write-owner file (issue 24 item 5)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from index.config import ChromaServer
from index.errors import ConfigError, IndexBusyError, NewsragError
from index.lock import OWNER_NAME, write_lock
from index.redact import redact, redact_argv

SECRETS = ("S3cretPass", "sk-proj-abc123XYZ", "pw0rd", "k3y-value")


def test_redact_masks_auth_api_keys_and_url_tokens() -> None:
    line = (
        "newsrag serve --auth admin:S3cretPass --api-key k3y-value "
        "--chroma-url http://bob:pw0rd@127.0.0.1:8765/?token=sk-proj-abc123XYZ&x=1"
    )
    assert redact(line) == (
        "newsrag serve --auth admin:*** --api-key *** "
        "--chroma-url http://bob:***@127.0.0.1:8765/?token=***&x=1"
    )
    assert redact("--auth=admin:S3cretPass") == "--auth=***"
    assert redact("http://127.0.0.1:8000/ plain text") == "http://127.0.0.1:8000/ plain text"


def test_redact_argv_masks_a_value_with_spaces_whole() -> None:
    argv = ["newsrag", "chat", "--auth", "admin:S3cret Pass", "--api-key", "k3y value"]
    assert redact_argv(argv) == "newsrag chat --auth admin:*** --api-key ***"


def test_every_newsrag_error_is_masked() -> None:
    error = NewsragError("cannot reach http://u:pw0rd@host:1/?token=sk-proj-abc123XYZ")
    assert str(error) == "cannot reach http://u:***@host:1/?token=***"


def test_a_bad_chroma_url_message_masks_its_token() -> None:
    with pytest.raises(ConfigError) as caught:
        ChromaServer.parse("http://127.0.0.1:8765/?token=sk-proj-abc123XYZ")
    assert "sk-proj-abc123XYZ" not in str(caught.value)
    assert "?token=***" in str(caught.value)


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from index.lock import write_lock
    folder = Path(sys.argv[1])
    sys.argv = ["newsrag", "serve", "--auth", "admin:S3cretPass", "--api-key", "k3y-value",
                "--chroma-url", "http://bob:pw0rd@127.0.0.1:8765/?token=sk-proj-abc123XYZ"]
    with write_lock(folder, str(folder)):
        print("holding", flush=True)
        sys.stdin.readline()
    """
)


def test_the_owner_file_is_private_masked_and_removed(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        owner_file = tmp_path / OWNER_NAME
        assert stat.S_IMODE(owner_file.stat().st_mode) == 0o600
        text = owner_file.read_text(encoding="utf-8")
        assert not [s for s in SECRETS if s in text], text
        assert json.loads(text)["command"].startswith("newsrag serve --auth admin:***")
        with pytest.raises(IndexBusyError) as caught, write_lock(tmp_path, str(tmp_path)):
            pass
        message = str(caught.value)
        assert message.startswith("Another newsrag process (pid ")
        assert "--auth admin:***" in message
        assert not [s for s in SECRETS if s in message], message
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
    assert not (tmp_path / OWNER_NAME).exists()
