"""``newsrag chat`` and ``newsrag serve``: the web chat and the HTTP API on one port (ui.server),
with their logins and API keys read and kept out of the recorded command line."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from assistant.api import Assistant
from assistant.cli import (  # the group and the options every command shares
    F,
    answer_options,
    index_options,
    main,
    settings_from,
    top_k_option,
)


def server_options(func: F) -> F:
    """What ``chat`` and ``serve`` share: where to listen, whom to let in, upload limits,
    what the page may fetch."""
    options = [
        click.option(
            "--max-upload-files",
            type=click.IntRange(min=1),
            default=20,
            show_default=True,
            metavar="N",
            help="Files one upload may carry.",
        ),
        click.option(
            "--max-upload-mb",
            type=click.FloatRange(min=0, min_open=True),
            default=10.0,
            show_default=True,
            metavar="MB",
            help="Largest file one may upload.",
        ),
        click.option(
            "--api-key",
            "api_keys",
            multiple=True,
            metavar="KEY",
            help="A key the HTTP API accepts as 'Authorization: Bearer KEY' (repeatable) "
            "[env NEWSRAG_API_KEYS, comma-separated; prefer it: a flag shows in 'ps'].",
        ),
        click.option(
            "--auth-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            metavar="FILE",
            help="Users who may log in, one USER:PASS a line ('#' starts a comment).",
        ),
        click.option(
            "--auth",
            "auth",
            multiple=True,
            metavar="USER:PASS",
            help="Ask for a login (repeatable) [env NEWSRAG_AUTH, USER:PASS].",
        ),
        click.option(
            "--example",
            "examples",
            multiple=True,
            metavar="QUESTION",
            help="An example question to offer (repeatable).",
        ),
        click.option(
            "--allow-private",
            is_flag=True,
            help="Let the page's Add URL box fetch private, loopback and link-local addresses "
            "(refused by default; for local use and tests).",
        ),
        click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535)),
        click.option(
            "--host",
            metavar="ADDRESS",
            help="Address to bind [default 127.0.0.1, loopback only; give it to listen wider].",
        ),
    ]
    for option in options:
        func = option(func)
    return func


@main.command()
@index_options
@top_k_option
@answer_options
@server_options
def chat(**options: Any) -> None:
    """Open the web chat over the index; the HTTP API (see 'newsrag serve') answers on the
    same port.

    \b
    Example:
      newsrag chat --index ./idx --port 7860
    """
    start_server(page=True, **options)


@main.command()
@index_options
@top_k_option
@answer_options
@server_options
@click.option("--no-page", is_flag=True, help="Serve only the API, not the chat page.")
def serve(no_page: bool, **options: Any) -> None:
    """Serve the HTTP API (OpenAI-compatible /v1/chat/completions, REST /api/*, docs at
    /docs) and the chat page, on one port.

    \b
    Example:
      NEWSRAG_API_KEYS=sk-local-1 newsrag serve --index ./idx --port 8000
      curl -H 'Authorization: Bearer sk-local-1' localhost:8000/api/ask \\
        -d '{"question": "What did Rutte say about a European army?"}'
    """
    start_server(page=not no_page, **options)


def start_server(
    page: bool,
    host: str | None,
    port: int,
    examples: tuple[str, ...],
    auth: tuple[str, ...],
    auth_file: Path | None,
    api_keys: tuple[str, ...],
    max_upload_mb: float,
    max_upload_files: int,
    allow_private: bool,
    **options: Any,
) -> None:
    """Open the index and serve the page and the API (ui.server) until interrupted."""
    from assistant.uploads import UploadLimits
    from ui.server import ServerOptions, is_loopback, serve, server_settings

    settings = server_settings(settings_from(**options))
    users = read_users(auth, auth_file)
    keys = read_keys(api_keys)
    # what newsrag records of its command line (the write lock's owner file, the message a
    # second writer gets) must not carry a key or a password
    sys.argv[:] = masked_argv(sys.argv, [*keys, *(password for _, password in users)])
    if host and not is_loopback(host) and not keys and not users:
        click.echo(
            f"warning: the page and the API at {host}:{port} are open to anyone who can reach "
            "it — give --api-key (or NEWSRAG_API_KEYS) and --auth.",
            err=True,
        )
    serve(
        Assistant.open(settings=settings),
        ServerOptions(
            host=host or "127.0.0.1",
            port=port,
            api_keys=keys,
            users=tuple(users),
            examples=examples or None,
            page=page,
            limits=UploadLimits(max_upload_files, max_upload_mb),
            allow_private=allow_private,
        ),
    )


def masked_argv(argv: Sequence[str], secrets: Sequence[str]) -> list[str]:
    """``argv`` with each of ``secrets`` in it replaced by ``…``."""
    masked = []
    for arg in argv:
        for secret in secrets:
            arg = arg.replace(secret, "…")
        masked.append(arg)
    return masked


def read_keys(api_keys: Sequence[str]) -> tuple[str, ...]:
    """API keys from ``--api-key`` and ``NEWSRAG_API_KEYS`` (comma-separated)."""
    from_env = os.environ.get("NEWSRAG_API_KEYS", "").split(",")
    keys = [k.strip() for k in (*api_keys, *from_env) if k.strip()]
    for key in keys:
        if len(key) < 8 or any(c.isspace() for c in key):
            raise click.UsageError(
                "An API key must have 8 or more characters and no spaces — choose a longer key "
                "(e.g. 'python -c \"import secrets; print(secrets.token_urlsafe())\"')."
            )
    return tuple(dict.fromkeys(keys))


def read_users(auth: Sequence[str], auth_file: Path | None) -> list[tuple[str, str]]:
    """(user, password) pairs from ``--auth``, ``NEWSRAG_AUTH`` and ``--auth-file``."""
    entries = [(f"--auth {a.split(':', 1)[0]}:…", a) for a in auth]
    if os.environ.get("NEWSRAG_AUTH"):
        entries.append(("NEWSRAG_AUTH", os.environ["NEWSRAG_AUTH"]))
    if auth_file is not None:
        for n, line in enumerate(auth_file.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                entries.append((f"{auth_file}:{n}", line.strip()))
    users: list[tuple[str, str]] = []
    for where, entry in entries:
        user, sep, password = entry.partition(":")
        if not sep or not user or not password:
            raise click.UsageError(f"{where}: expected USER:PASS with both parts non-empty.")
        users.append((user, password))
    return users
