"""Retrain the reader's three models (models/reader/*.json) on the train years and print their
figures: train cross-validated over questions next to dev (which is never fitted on).

    python -m benchmarks.train_reader --train ../shared/data/realtimeqa-2025 \
        --index .newsrag/idx-2025 --out models/reader

Each train year's passages are retrieved once and cached (benchmarks.reader_data) under
``--cache``: from that year's index (``--index``, one per ``--train``) as `newsrag eval`
retrieves, else from a stand-in retrieval over its articles; the dev cases come from
``--dev-cases`` (``python -m benchmarks.reader_data QUESTIONS --index IDX --out FILE``)."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from assistant.candidates import Unit, units_of
from assistant.parse import parse_question
from assistant.questions import WORD, fold, mentions, question_entities
from assistant.reader import (
    OPTION_FEATURES,
    QUESTION_FEATURES,
    UNIT_FEATURES,
    LinearModel,
    option_features,
    question_features,
    unit_features,
)
from benchmarks.reader_data import Case, LocalRetrieval, index_case, read_cases, write_cases
from eval.metrics import contains, normalize
from index.embeddings import Embedder, canonical_model_name, load_embedder

FOLDS = 5
MAX_FALSE_REFUSALS = 0.05


class Vectors:
    """Unit and question vectors, computed once and kept in ``path`` (npz)."""

    def __init__(self, embedder: Embedder, path: Path) -> None:
        self.embedder, self.path = embedder, path
        self.table: dict[str, np.ndarray] = {}
        if path.exists():
            data = np.load(path)
            self.table = {k: data[k] for k in data.files}

    def documents(self, texts: Sequence[str]) -> np.ndarray:
        keys = [_key("d", t) for t in texts]
        todo = list(
            dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in self.table)
        )
        if todo:
            for t, v in zip(todo, self.embedder.embed_documents(todo), strict=True):
                self.table[_key("d", t)] = v
        return np.array([self.table[k] for k in keys]).reshape(len(texts), -1)

    def query(self, text: str) -> np.ndarray:
        key = _key("q", text)
        if key not in self.table:
            self.table[key] = self.embedder.embed_query(text)
        return self.table[key]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(self.path, **self.table)  # type: ignore[arg-type]


def _key(kind: str, text: str) -> str:
    return kind + hashlib.sha1(text.encode()).hexdigest()[:20]


@dataclass
class Prepared:
    """A case's units and unit features, as asked (``hits`` + ``extra``) and blind."""

    case: Case
    units: list[Unit]
    x: np.ndarray
    y: np.ndarray
    blind_units: list[Unit]
    blind_x: np.ndarray
    choice_units: list[Unit]
    choice_x: np.ndarray
    swapped: str | None = None  # the question about a name its passages never mention
    swap_x: np.ndarray | None = None


def swap_name(question: str, donors: Sequence[str], passages: str) -> str | None:
    """``question`` with its first name replaced by one of ``donors`` (names of other train
    questions) that ``passages`` never mention: a second made-unanswerable twin, for the
    questions about people and places the corpus does not cover. None without a name."""
    entities = question_entities(question)
    words = [
        w
        for w in WORD.findall(question)[1:]
        if fold(w).rstrip("s") in entities or fold(w) in entities
    ]
    if not words:
        return None
    folded = fold(passages)
    start = int(hashlib.sha1(question.encode()).hexdigest()[:8], 16)
    for k in range(len(donors)):
        donor = donors[(start + k) % len(donors)]
        if not mentions(folded, fold(donor)) and fold(donor) not in entities:
            return re.sub(rf"\b{re.escape(words[0])}\b", donor, question, count=1)
    return None


def prepare(cases: Sequence[Case], vectors: Vectors) -> list[Prepared]:
    out = []
    donors = sorted(
        {w for c in cases for w in WORD.findall(c.question)[1:] if w[0].isupper() and len(w) > 3}
    )
    for n, c in enumerate(cases, 1):
        q = parse_question(c.question)
        qv = vectors.query(q.focus)
        sets = []
        for hits in (c.hits, c.blind, (*c.hits, *c.extra)):
            units = units_of(hits)
            cos = vectors.documents([u.text for u in units]) @ qv if units else np.zeros(0)
            sets.append((units, unit_features(q, units, cos)))
        y = np.array([contains(u.text, c.answer) for u in sets[0][0]], dtype=int)
        prepared = Prepared(c, sets[0][0], sets[0][1], y, *sets[1], *sets[2])
        text = " ".join(f"{h.chunk.title} {h.chunk.text}" for h in c.hits)
        swapped = swap_name(c.question, donors, text)
        if swapped and prepared.units:
            q2 = parse_question(swapped)
            cos2 = vectors.documents([u.text for u in prepared.units]) @ vectors.query(q2.focus)
            prepared.swapped = swapped
            prepared.swap_x = unit_features(q2, prepared.units, cos2)
        out.append(prepared)
        if n % 50 == 0:
            print(f"  prepared {n}/{len(cases)}", file=sys.stderr)
            vectors.save()
    return out


def fit(x: np.ndarray, y: np.ndarray, names: Sequence[str], c: float = 1.0) -> LinearModel:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    lr.fit((x - mean) / scale, y)
    return LinearModel(tuple(names), mean, scale, lr.coef_[0].copy(), float(lr.intercept_[0]))


def folds(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Question-level folds (the same for every model, so no fold sees its questions)."""
    groups = np.arange(n)
    return list(GroupKFold(n_splits=FOLDS).split(groups, groups=groups))


def stack(parts: Sequence[np.ndarray], width: int) -> np.ndarray:
    parts = [p for p in parts if len(p)]
    return np.vstack(parts) if parts else np.zeros((0, width))


def unit_probs(data: Sequence[Prepared], model: LinearModel) -> list[tuple[np.ndarray, ...]]:
    return [
        tuple(
            model.prob(x) if x is not None and len(x) else np.zeros(0)
            for x in (d.x, d.blind_x, d.choice_x, d.swap_x)
        )
        for d in data
    ]


def oof_unit_probs(data: Sequence[Prepared]) -> list[tuple[np.ndarray, ...]]:
    probs: list[tuple[np.ndarray, ...]] = [()] * len(data)
    for train, test in folds(len(data)):
        model = fit(
            stack([data[i].x for i in train], len(UNIT_FEATURES)),
            np.concatenate([data[i].y for i in train]),
            UNIT_FEATURES,
        )
        for i, p in zip(test, unit_probs([data[i] for i in test], model), strict=True):
            probs[i] = p
    return probs


def refusal_rows(d: Prepared, p: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    q = parse_question(d.case.question)
    rows = []
    for units, x, probs, hits in (
        (d.units, d.x, p[0], d.case.hits),
        (d.blind_units, d.blind_x, p[1], d.case.blind),
    ):
        text = " ".join(f"{h.chunk.title}\n{h.chunk.text}" for h in hits)
        rows.append(question_features(q, units, x, probs, [h.score for h in hits], text))
    return rows[0], rows[1]


def swap_row(d: Prepared, p: tuple[np.ndarray, ...]) -> np.ndarray | None:
    """The refusal features of the name-swapped twin, if the question has one."""
    if d.swapped is None or d.swap_x is None:
        return None
    text = " ".join(f"{h.chunk.title}\n{h.chunk.text}" for h in d.case.hits)
    q = parse_question(d.swapped)
    return question_features(q, d.units, d.swap_x, p[3], [h.score for h in d.case.hits], text)


def option_rows(d: Prepared, p: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    q = parse_question(d.case.question, d.case.choices)
    options, table = option_features(q, d.choice_units, d.choice_x, p[2])
    y = np.array([normalize(o.text) == normalize(d.case.answer) for o in options], dtype=int)
    return table, y


def unit_metrics(
    data: Sequence[Prepared], probs: Sequence[tuple[np.ndarray, ...]]
) -> dict[str, float]:
    """top1: the best unit holds the answer (over questions where some unit does); recall@3."""
    reach = [(d, p[0]) for d, p in zip(data, probs, strict=True) if d.y.any()]
    if not reach:
        return {}
    top1 = np.mean([d.y[int(np.argmax(p))] for d, p in reach])
    col = UNIT_FEATURES.index("named_passage")
    masked = [
        d.y[int(np.argmax(np.where(d.x[:, col] >= d.x[:, col].max(), p, -1.0)))] for d, p in reach
    ]
    top3 = np.mean([d.y[np.argsort(-p)[:3]].any() for d, p in reach])
    cos = [d.y[int(np.argmax(d.x[:, 0]))] for d, _ in reach]
    return {
        "questions_with_answer_unit": len(reach) / len(data),
        "top1": float(top1),
        "top3": float(top3),
        "top1_by_cosine_alone": float(np.mean(cos)),
        "top1_best_named_passages_only": float(np.mean(masked)),
    }


def refusal_curve(answerable: np.ndarray, blind: np.ndarray) -> list[dict[str, float]]:
    """(threshold, blind refused, answerable refused) over the probability of answering."""
    points = []
    for t in np.unique(np.concatenate([answerable, blind, [0.0, 1.0]])):
        points.append(
            {
                "threshold": float(t),
                "refused": float(np.mean(blind < t)),
                "false_refusals": float(np.mean(answerable < t)),
            }
        )
    return points


def operating_point(curve: Sequence[dict[str, float]]) -> dict[str, float]:
    ok = [p for p in curve if p["false_refusals"] <= MAX_FALSE_REFUSALS]
    return max(ok, key=lambda p: (p["refused"], -p["threshold"]))


def choice_accuracy(
    tables: Sequence[tuple[np.ndarray, np.ndarray]],
    model: LinearModel | None,
    oof: Sequence[np.ndarray] | None = None,
) -> float:
    right = []
    for n, (table, y) in enumerate(tables):
        if not len(table):
            right.append(False)
            continue
        scores = oof[n] if oof is not None else model.prob(table)  # type: ignore[union-attr]
        right.append(bool(y[int(np.argmax(scores))]))
    return float(np.mean(right))


def refusal_table(
    data: Sequence[Prepared], probs: Sequence[tuple[np.ndarray, ...]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Answerable rows, their blind twins, the name-swapped twins (and which questions have
    one), and which questions' passages hold their answer."""
    rows = [refusal_rows(d, p) for d, p in zip(data, probs, strict=True)]
    swaps = [swap_row(d, p) for d, p in zip(data, probs, strict=True)]
    has = np.array([r is not None for r in swaps])
    xs = np.array([r for r in swaps if r is not None]).reshape(-1, len(QUESTION_FEATURES))
    held = np.array([d.y.any() for d in data])
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), xs, has, held


def train_refusal(
    data: Sequence[Prepared],
    oof: Sequence[tuple[np.ndarray, ...]],
    dev: Sequence[Prepared],
    dev_p: Sequence[tuple[np.ndarray, ...]],
) -> tuple[LinearModel, dict[str, Any]]:
    """Answer (1): the questions whose passages hold their answer; refuse (0): their
    made-unanswerable twins (answer-bearing articles filtered out; a name swapped for one the
    passages never mention). The operating point is read off the cross-validated curve."""
    xa, xb, xs, has, held = refusal_table(data, oof)
    swap_of = np.cumsum(has) - 1  # question -> its row in xs
    pa, pb, ps = np.zeros(len(data)), np.zeros(len(data)), np.zeros(len(xs))
    for tr, te in folds(len(data)):
        pos, sw = tr[held[tr]], swap_of[tr[has[tr]]]
        m = fit(
            np.vstack([xa[pos], xb[tr], xs[sw]]),
            np.r_[np.ones(len(pos)), np.zeros(len(tr) + len(sw))],
            QUESTION_FEATURES,
        )
        pa[te], pb[te] = m.prob(xa[te]), m.prob(xb[te])
        ps[swap_of[te[has[te]]]] = m.prob(xs[swap_of[te[has[te]]]])
    curve = refusal_curve(pa[held], np.r_[pb, ps])
    point = operating_point(curve)
    t = point["threshold"]
    m = fit(
        np.vstack([xa[held], xb, xs]),
        np.r_[np.ones(int(held.sum())), np.zeros(len(xb) + len(xs))],
        QUESTION_FEATURES,
    )
    model = LinearModel(m.features, m.mean, m.scale, m.coef, m.intercept, t)
    da, db, ds, _, dheld = refusal_table(dev, dev_p)
    pda, pdb, pds = model.prob(da), model.prob(db), model.prob(ds)

    def figures(a: np.ndarray, b: np.ndarray, s_: np.ndarray, h: np.ndarray) -> dict[str, float]:
        return {
            "refused_blind": float(np.mean(b < t)),
            "refused_swapped_name": float(np.mean(s_ < t)),
            "refused_both": float(np.mean(np.r_[b, s_] < t)),
            "false_refusals_answer_in_passages": float(np.mean(a[h] < t)),
            "false_refusals_all": float(np.mean(a < t)),
        }

    return model, {
        "train_cv": figures(pa, pb, ps, held),
        "dev": figures(pda, pdb, pds, dheld),
        "threshold": t,
        "curve_train_cv": curve[:: max(1, len(curve) // 25)],
    }


def hand_accuracy(tables: Sequence[tuple[np.ndarray, np.ndarray]]) -> float:
    """Choice accuracy of the old hand-weighted support (assistant.choices) alone: the before."""
    col = OPTION_FEATURES.index("support")
    return float(np.mean([bool(len(t) and y[int(np.argmax(t[:, col]))]) for t, y in tables]))


def train(
    data: Sequence[Prepared], dev: Sequence[Prepared]
) -> tuple[dict[str, LinearModel], dict[str, Any]]:
    report: dict[str, Any] = {}
    oof = oof_unit_probs(data)
    units = fit(
        stack([d.x for d in data], len(UNIT_FEATURES)),
        np.concatenate([d.y for d in data]),
        UNIT_FEATURES,
    )
    dev_p = unit_probs(dev, units)
    report["units"] = {"train_cv": unit_metrics(data, oof), "dev": unit_metrics(dev, dev_p)}

    refusal, report["refusal"] = train_refusal(data, oof, dev, dev_p)

    tables = [option_rows(d, p) for d, p in zip(data, oof, strict=True) if d.case.choices]
    keep = [n for n, (tab, _) in enumerate(tables) if len(tab)]
    oof_opt: list[np.ndarray] = [np.zeros(len(t[0])) for t in tables]
    for tr, te in folds(len(keep)):
        m = fit(
            stack([tables[keep[i]][0] for i in tr], len(OPTION_FEATURES)),
            np.concatenate([tables[keep[i]][1] for i in tr]),
            OPTION_FEATURES,
        )
        for i in te:
            oof_opt[keep[i]] = m.prob(tables[keep[i]][0])
    options = fit(
        stack([tables[i][0] for i in keep], len(OPTION_FEATURES)),
        np.concatenate([tables[i][1] for i in keep]),
        OPTION_FEATURES,
    )
    dtables = [option_rows(d, p) for d, p in zip(dev, dev_p, strict=True) if d.case.choices]
    held = [bool(d.y.any()) for d in data if d.case.choices]
    dheld = [bool(d.y.any()) for d in dev if d.case.choices]
    report["options"] = {
        "train_cv": choice_accuracy(tables, None, oof_opt),
        "dev": choice_accuracy(dtables, options),
        "train_cv_answer_in_passages": choice_accuracy(
            [t for t, h in zip(tables, held, strict=True) if h],
            None,
            [o for o, h in zip(oof_opt, held, strict=True) if h],
        ),
        "train_hand_weighted_support": hand_accuracy(tables),
        "dev_hand_weighted_support": hand_accuracy(dtables),
        "dev_answer_in_passages": choice_accuracy(
            [t for t, h in zip(dtables, dheld, strict=True) if h], options
        ),
    }
    return {"units": units, "refusal": refusal, "options": options}, report


def year_cases(
    folder: Path, index_dir: Path | None, items: Sequence[dict[str, Any]], embedder: Embedder
) -> list[Case]:
    """A train year's cases: from its built index when given, else the stand-in retrieval."""
    if index_dir is not None:
        from index.newsindex import NewsIndex

        index = NewsIndex.open(index_dir, embedder=embedder)
        return [index_case(index, i) for i in items]
    local = LocalRetrieval(folder / "articles.jsonl", embedder)
    return [local.case(i) for i in items]


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--train", type=Path, action="append", required=True, help="a train year's folder"
    )
    p.add_argument(
        "--index", type=Path, action="append", default=[], help="the train year's built index"
    )
    p.add_argument("--dev-cases", type=Path, default=Path(".newsrag/reader/cases-dev.jsonl"))
    p.add_argument("--cache", type=Path, default=Path(".newsrag/reader"))
    p.add_argument("--out", type=Path, default=Path("models/reader"))
    p.add_argument("--encoder", default="openvino")
    a = p.parse_args(argv)
    embedder = load_embedder(encoder=a.encoder)
    vectors = Vectors(embedder, a.cache / "vectors.npz")
    cases: list[Case] = []
    if a.index and len(a.index) != len(a.train):
        p.error(f"give one --index per --train ({len(a.train)} --train, {len(a.index)} --index)")
    for n, folder in enumerate(a.train):
        path = a.cache / f"cases-{folder.resolve().name}.jsonl"
        if not path.exists():
            items = [
                json.loads(x)
                for x in (folder / "questions-train.jsonl").read_text().splitlines()
                if x
            ]
            write_cases(year_cases(folder, a.index[n] if a.index else None, items, embedder), path)
        cases += read_cases(path)
    print(f"{len(cases)} train questions", file=sys.stderr)
    data = prepare(cases, vectors)
    dev = prepare(read_cases(a.dev_cases), vectors) if a.dev_cases.exists() else []
    vectors.save()
    models, report = train(data, dev)
    a.out.mkdir(parents=True, exist_ok=True)
    for name, model in models.items():
        saved = model.to_dict() | {"embedding_model": canonical_model_name(embedder.name)}
        (a.out / f"{name}.json").write_text(json.dumps(saved, indent=1) + "\n")
    report["train"] = [str(f) for f in a.train]
    report["n_train"] = len(cases)
    report["n_dev"] = len(dev)
    (a.out / "training.json").write_text(json.dumps(report, indent=1) + "\n")
    print(
        json.dumps(
            {k: v for k, v in report.items() if k != "refusal"}
            | {"refusal": {k: v for k, v in report["refusal"].items() if k != "curve_train_cv"}},
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
