"""Parsing untrusted article files safely: YAML front matter that cannot expand (no
aliases) or crash on an impossible date, and JSON records checked for lone surrogates."""

from __future__ import annotations

import re
from typing import Any

import frontmatter
import yaml


class FrontMatterLoader(yaml.SafeLoader):
    """YAML's safe loader, stricter for article front matter: an alias (``*name``) is refused,
    so a "billion laughs" block of a few hundred bytes cannot expand to gigabytes, and a
    timestamp that is not a real date (``2026-13-45``) stays a string, which the date check
    then reports while the article is kept."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None,
                None,
                f"aliases (*{event.anchor}) are not allowed in front matter",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_yaml_timestamp(self, node: Any) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


FrontMatterLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", FrontMatterLoader.construct_yaml_timestamp
)


class FrontMatterHandler(frontmatter.YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        return yaml.load(fm, Loader=FrontMatterLoader)


FRONT_MATTER = FrontMatterHandler()


_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(record: object) -> str | None:
    """The first lone surrogate (as ``\\ud800``) in the strings of a JSON record, else None:
    JSON's \\u escapes can spell one, and nothing downstream can encode it. (A loop, not
    recursion: the record may be nested as deep as the JSON parser allows.)"""
    stack = [record]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            found = _SURROGATE.search(value)
            if found:
                return f"\\u{ord(found.group()):04x}"
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None
