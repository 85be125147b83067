"""newsrag's Gradio chat page over an Assistant.

>>> from assistant import Assistant
>>> from ui import launch
>>> launch(Assistant.open("./idx"))        # serves http://127.0.0.1:7860

``build_app`` and ``launch`` are imported on first use, so ``import ui`` does not load Gradio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ui.app import build_app, launch

__all__ = ["build_app", "launch"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ui import app

        return getattr(app, name)
    raise AttributeError(f"module 'ui' has no attribute {name!r}")
