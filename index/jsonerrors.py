"""JSON syntax errors worded for the person who has to fix the file."""

from __future__ import annotations

import json


def json_reason(exc: json.JSONDecodeError) -> str:
    """What is wrong and where on its line, once: "Unterminated string starting at column 36"
    (Python's own message, "Unterminated string starting at: line 1 column 36 (char 35)",
    ends in a dangling "at" when only its first part is shown).

    >>> json_reason(json.JSONDecodeError("Unterminated string starting at", '{"a": "b', 6))
    'Unterminated string starting at column 7'
    """
    message = exc.msg.strip().removesuffix(" at").removesuffix(":")
    return f"{message} at column {exc.colno}"
