"""Secrets out of anything newsrag prints or writes down: one function, used everywhere.

>>> redact("newsrag chat --auth admin:hunter2 --chroma-url http://u:pw@host:8000/?token=sk-1")
'newsrag chat --auth admin:*** --chroma-url http://u:***@host:8000/?token=***'
"""

from __future__ import annotations

import re

MASK = "***"
# flags whose value is a secret: --auth USER:PASSWORD keeps the user name
_AUTH = re.compile(r"(--auth(?:=|\s+))(['\"]?)([^\s:'\"]*):([^\s'\"]+)")
_SECRET_FLAGS = re.compile(
    r"(--(?:api-key|llm-api-key|token|password|secret)(?:=|\s+))(['\"]?)([^\s'\"]+)",
    re.IGNORECASE,
)
# user:password@ in a URL
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s/@:]*):([^\s/@]+)@", re.IGNORECASE)
# ?token=... &api_key=... in a URL query (or KEY=value on a command line)
_QUERY = re.compile(
    r"(\b(?:[a-z_]*token|api[_-]?key|key|password|passwd|pwd|secret|auth|signature|sig)=)"
    r"([^\s&#'\"]+)",
    re.IGNORECASE,
)
# provider keys that travel on their own (OpenAI sk-..., bearer tokens)
_BARE = re.compile(r"\b(sk-[A-Za-z0-9_-]{6,}|Bearer\s+[A-Za-z0-9._~+/-]{6,}=*)")


def redact(text: str) -> str:
    """``text`` with passwords, API keys and URL tokens replaced by ``***``."""
    text = _AUTH.sub(lambda m: f"{m[1]}{m[2]}{m[3]}:{MASK}", text)
    text = _SECRET_FLAGS.sub(lambda m: f"{m[1]}{m[2]}{MASK}", text)
    text = _USERINFO.sub(lambda m: f"{m[1]}:{MASK}@", text)
    text = _QUERY.sub(lambda m: f"{m[1]}{MASK}", text)
    return _BARE.sub(MASK, text)


def redact_argv(argv: list[str]) -> str:
    """A command line as one string with secrets masked; a value that follows ``--auth`` or
    ``--api-key`` is masked whole, even when it holds spaces."""
    words: list[str] = []
    for i, word in enumerate(argv):
        flag = argv[i - 1] if i else ""
        if flag == "--auth":
            user, sep, _ = word.partition(":")
            word = f"{user}:{MASK}" if sep else MASK
        elif _SECRET_FLAGS.fullmatch(f"{flag} x"):
            word = MASK
        words.append(word)
    return redact(" ".join(words))
