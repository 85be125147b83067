"""The Makefile's two commands: `make chat` needs no root, `make test` sets up the browser."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def dry_run(target: str) -> str:
    """What ``make TARGET`` would run, without running it."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_chat_never_touches_apt() -> None:
    commands = dry_run("chat")
    assert "newsrag chat" in commands
    assert "apt" not in commands and "chromium" not in commands


def test_make_test_installs_the_browser_first() -> None:
    commands = dry_run("test")
    assert "apt-get install -y -qq chromium" in commands
    assert commands.index("chromium") < commands.index("pytest")
