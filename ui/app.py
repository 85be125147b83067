"""The newsrag chat page: a Gradio app over an :class:`~assistant.Assistant`.

:mod:`ui.layout` builds the page (``build_app``), :mod:`ui.callbacks` holds what its events do,
:mod:`ui.render` turns answers and index stats into the page's Markdown and HTML; this module
serves it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import gradio as gr

from assistant import Assistant
from ui.callbacks import ChatCallbacks, filters_note, upload_name
from ui.layout import ANSWER_CONCURRENCY, build_app

__all__ = [
    "ANSWER_CONCURRENCY",
    "PAGE_CSS",
    "ChatCallbacks",
    "build_app",
    "filters_note",
    "launch",
    "upload_name",
]

PAGE_CSS = """
#newsrag-header h1 { margin-bottom: 0.1em; }
#newsrag-header p { color: var(--body-text-color-subdued); margin-top: 0; }
.newsrag-panel-title h3 { margin: 0.2em 0 0.4em; }
#newsrag-notice p { color: var(--body-text-color); font-size: 0.92em; margin: 0.2em 0; }
"""


def launch(
    assistant: Assistant,
    host: str = "127.0.0.1",
    port: int = 7860,
    examples: Sequence[str] | None = None,
    *,
    allow_private: bool = False,
    **launch_kwargs: Any,
) -> gr.Blocks:
    """Build the chat page for ``assistant`` and serve it at http://host:port.

    Blocks unless ``prevent_thread_lock=True`` is passed; returns the app (``.close()`` stops it).
    Other keyword arguments go to ``gr.Blocks.launch`` (``auth=[(user, password)]`` asks for a
    login, and then the page shows nothing of the index until one has logged in).
    ``allow_private`` lets the Add URL box fetch private and loopback addresses.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    private = bool(launch_kwargs.get("auth"))
    demo = build_app(assistant, examples, private=private, allow_private=allow_private)
    options: dict[str, Any] = {"show_error": True, "css": PAGE_CSS, **launch_kwargs}
    demo.launch(server_name=host, server_port=port, **options)
    return demo
