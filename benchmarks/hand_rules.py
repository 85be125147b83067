"""How the old answerer's hand gates did on the train questions, in aggregate: each gate's
share of made-unanswerable questions refused against its share of answerable ones refused
(false refusals). A gate that refuses both alike carries nothing the trained refusal lacks.

    python -m benchmarks.hand_rules .newsrag/reader/cases-realtimeqa-2025.jsonl
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant.candidates import Unit, units_of
from assistant.questions import (
    content_words,
    doer_verb,
    focus_noun,
    holds_fact,
    holds_focus,
    required_fact,
)
from benchmarks.reader_data import read_cases
from index.records import Hit


def _akin(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    return short == long if len(short) < 4 else long.startswith(short)


def focus_gate(q: str, units: Sequence[Unit]) -> bool | None:
    noun = focus_noun(q)
    return None if not noun else not any(holds_focus(u.text, noun) for u in units)


def doer_gate(q: str, units: Sequence[Unit]) -> bool | None:
    verb = doer_verb(q)
    if not verb:
        return None
    return not any(_akin(verb, w) for u in units for w in content_words(u.before + " " + u.text))


def fact_gate(q: str, units: Sequence[Unit]) -> bool | None:
    fact = required_fact(q)
    return None if not fact else not any(holds_fact(u.text, fact) for u in units)


GATES: dict[str, Callable[[str, Sequence[Unit]], bool | None]] = {
    "focus noun ('What was the X in ...')": focus_gate,
    "doer verb ('Which company manufactured ...')": doer_gate,
    "required figure ('How many X')": fact_gate,
}


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    cases = [c for path in args for c in read_cases(Path(path))]
    print(f"{len(cases)} train questions")
    for name, gate in GATES.items():
        fired: list[tuple[bool, bool]] = []
        for c in cases:
            a, b = _fire(gate, c.question, c.hits), _fire(gate, c.question, c.blind)
            if a is not None:
                fired.append((a, bool(b)))
        n = len(fired)
        if not n:
            print(f"{name}: applies to no question")
            continue
        false = sum(a for a, _ in fired) / n
        refused = sum(b for _, b in fired) / n
        print(
            f"{name}: {n} questions; refuses {refused:.3f} made-unanswerable, "
            f"{false:.3f} answerable"
        )


def _fire(
    gate: Callable[[str, Sequence[Unit]], bool | None], q: str, hits: Sequence[Hit]
) -> bool | None:
    return gate(q, units_of(hits))


if __name__ == "__main__":
    main()
