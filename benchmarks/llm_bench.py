"""The local-LLM benchmark: the extractive reader against GGUF models run by llama.cpp, on a fixed
random subset of questions, in one table.

    python -m benchmarks.llm_bench --index .newsrag/idx-2026 \\
        --questions ../shared/data/realtimeqa-2026/questions-dev.jsonl --sample 30 --seed 7 \\
        --llm extractive --llm gguf:qwen2.5-0.5b --out llm-bench.json

For each answerer, every question is answered twice from the same passages: openly (``--open``
answer recall, citation validity, the share of answer sentences the citation check flags,
first-token latency, full-answer p50) and with its options (choice accuracy). A model row adds
its load time, generation speed and prompt tokens per open answer. Not a timed test: figures
depend on the machine and its load, which the table's header line reports.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.answerer import ExtractiveAnswerer
from assistant.api import Assistant
from assistant.chain import Answerer
from assistant.claims import answer_units
from assistant.config import AssistantSettings
from assistant.grounded import LocalAnswerer
from assistant.llama import LlamaModel, Usage
from assistant.local_models import load_local_model
from assistant.records import Answer
from eval.qa import QAItem, load_qa
from eval.runner import run_eval
from index.config import Settings
from index.newsindex import NewsIndex
from index.records import Hit

EXTRACTIVE = "extractive"


@dataclass
class Timings:
    """What one answerer's open answers cost: first piece and whole answer, in seconds."""

    first: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    usage: list[Usage] = field(default_factory=list)


class Timed:
    """An answerer that records when each open answer's first piece and its end arrive."""

    def __init__(self, inner: ExtractiveAnswerer | LocalAnswerer, model: LlamaModel | None):
        self.inner = inner
        self.model = model
        self.timings = Timings()

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        final = None
        for part in self.stream(question, hits):
            final = part
        assert isinstance(final, Answer)
        return final

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        started = time.perf_counter()
        first: float | None = None
        before = self.model.last if self.model else None
        for part in self.inner.stream(question, hits):
            if first is None:
                first = time.perf_counter() - started
            yield part
        self.timings.total.append(time.perf_counter() - started)
        self.timings.first.append(first if first is not None else self.timings.total[-1])
        if self.model and self.model.last is not None and self.model.last is not before:
            self.timings.usage.append(self.model.last)

    def choose(self, question: str, hits: Sequence[Hit], choices: Sequence[str]) -> Answer:
        return self.inner.choose(question, hits, choices)


def sample(items: list[QAItem], n: int, seed: int) -> list[QAItem]:
    """``n`` answerable questions with options, drawn with ``seed`` (file order kept)."""
    usable = [i for i, item in enumerate(items) if item.choices and item.answerable]
    picked = sorted(random.Random(seed).sample(usable, min(n, len(usable))))
    return [items[i] for i in picked]


def run(index: NewsIndex, items: list[QAItem], spec: str) -> dict[str, Any]:
    """One row of the table for ``spec`` ("extractive" or "gguf:NAME")."""
    settings = AssistantSettings.of(index.settings)
    base = ExtractiveAnswerer(index.embedder, settings.answer_words, settings.min_score)
    model: LlamaModel | None = None
    inner: ExtractiveAnswerer | LocalAnswerer = base
    if spec != EXTRACTIVE:
        model = load_local_model(spec.partition(":")[2])
        inner = LocalAnswerer(model, base, spec=spec)
    timed = Timed(inner, model)
    answerer: Answerer = timed
    assistant = Assistant(index, answerer=answerer)
    opened = run_eval(assistant, items, choices=False)
    chosen = run_eval(assistant, items, choices=True)
    answers = [r.answer for r in opened.results if not r.answer.refused]
    sentences = sum(len(answer_units(a.answer)) for a in answers)
    unsupported = sum(len(a.unsupported) for a in answers)
    row: dict[str, Any] = {
        "answerer": spec,
        "n": opened.n,
        "open_answer_recall": opened.answer_recall,
        "choice_accuracy": chosen.choice_accuracy,
        "citation_validity": opened.citation_validity,
        "unsupported_share": round(unsupported / sentences, 4) if sentences else None,
        "refused": sum(r.answer.refused for r in opened.results),
        "fell_back": sum(any("failed" in n for n in r.answer.notices) for r in opened.results),
        "first_token_s": _p50(timed.timings.first),
        "answer_p50_s": _p50(timed.timings.total),
        "choice_p50_s": round(chosen.p50_ms / 1000, 2) if chosen.p50_ms else None,
        "questions": [
            {
                "id": o.item.id,
                "open_hit": o.answer_hit,
                "choice_correct": c.correct_choice,
                "answer": o.answer.answer,
                "unsupported": list(o.answer.unsupported),
            }
            for o, c in zip(opened.results, chosen.results, strict=True)
        ],
    }
    if model is not None:
        usage = timed.timings.usage
        made = sum(u.completion_tokens for u in usage)
        row |= {
            "load_s": round(model.load_seconds, 2),
            "threads": model.threads,
            "tokens_per_s": round(made / (sum(u.predicted_ms for u in usage) / 1000), 2)
            if made
            else None,
            "prompt_tokens": round(statistics.mean(u.prompt_tokens for u in usage), 1)
            if usage
            else None,
            "cached_tokens": round(statistics.mean(u.cached_tokens for u in usage), 1)
            if usage
            else None,
        }
    return row


def _p50(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


COLUMNS = [
    ("answerer", "answerer"),
    ("n", "n"),
    ("open_answer_recall", "open recall"),
    ("choice_accuracy", "choice acc"),
    ("citation_validity", "citations valid"),
    ("unsupported_share", "unsupported"),
    ("first_token_s", "first token s"),
    ("answer_p50_s", "answer p50 s"),
    ("load_s", "load s"),
    ("tokens_per_s", "tok/s"),
    ("prompt_tokens", "prompt tok"),
    ("cached_tokens", "cached tok"),
]


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table."""
    head = "| " + " | ".join(title for _, title in COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    body = [
        "| " + " | ".join("" if r.get(k) is None else str(r[k]) for k, _ in COLUMNS) + " |"
        for r in rows
    ]
    return "\n".join([head, rule, *body])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--questions", required=True, type=Path)
    parser.add_argument("--sample", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--llm", action="append", default=[], help="extractive or gguf:NAME")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    index = NewsIndex.open(args.index, settings=Settings.from_env())
    items = sample(load_qa(args.questions), args.sample, args.seed)
    print(
        f"{len(items)} questions from {args.questions} (seed {args.seed}); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    rows = []
    for spec in args.llm or [EXTRACTIVE]:
        rows.append(run(index, items, spec))
        print(json.dumps({k: v for k, v in rows[-1].items() if k != "questions"}), flush=True)
    print(table(rows))
    if args.out:
        args.out.write_text(json.dumps({"questions": str(args.questions), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
