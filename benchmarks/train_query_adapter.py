"""Fit the query adapter (index/query_adapter.py) on the training years, cross-validate it over
questions, check it on dev, and write it.

    python -m benchmarks.train_query_adapter \\
        --train .newsrag/ranking/2025 --train .newsrag/ranking/2024 \\
        --dev .newsrag/ranking/2026-dev --out models/query-adapter-minilm.npz

The splits are caches written by ``benchmarks.ranking_data`` (the stored passage vectors of a
built index, the questions' base vectors, their BM25 lists and answer-bearing passages). The loss
is InfoNCE (MultipleNegativesRankingLoss-style) from each question to its answer-bearing
passages among its hybrid candidates, against the other candidates (hard negatives), random
passages of its corpus and the other questions' positives in the batch (in-batch negatives),
with W pulled towards the identity. Hyper-parameters are chosen by cross-validation on train
(5 folds grouped by question date, so one quiz never sits on both sides); dev is only reported.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from benchmarks.ranking_data import Split, load_split
from benchmarks.ranking_sim import Scores, dense_top, evaluate, score
from index.query_adapter import QueryAdapter
from index.retrieval import Ranking

POOL_DENSE = 200
RANDOM_NEGATIVES = 128


@dataclass(frozen=True)
class Recipe:
    epochs: int = 8
    lr: float = 2e-3
    reg: float = 1.0  # weight of ||W - I||^2
    temperature: float = 0.05
    batch: int = 32
    seed: int = 13

    def label(self) -> str:
        return f"epochs={self.epochs} lr={self.lr} reg={self.reg} t={self.temperature}"


@dataclass(frozen=True)
class Example:
    split: int
    query: int
    rows: np.ndarray  # candidate passage rows of its split
    positive: np.ndarray  # bool over rows


def examples(splits: Sequence[Split], chosen: Sequence[tuple[int, int]]) -> list[Example]:
    """Training examples of the (split, question) pairs ``chosen`` that have a positive among
    their base hybrid candidates (base dense top 200 + BM25 top 100)."""
    out = []
    by_split: dict[int, list[int]] = {}
    for s, q in chosen:
        by_split.setdefault(s, []).append(q)
    for s, qs in by_split.items():
        split = splits[s]
        top = dense_top(split, split.query_vectors[qs], POOL_DENSE)
        for i, q in enumerate(qs):
            bm = split.bm25_rows[q]
            rows = np.unique(np.concatenate([top[i], bm[bm >= 0]]))
            positive = np.isin(rows, list(split.relevant[q]))
            if positive.any() and not positive.all():
                out.append(Example(s, q, rows, positive))
    return out


def fit(splits: Sequence[Split], train: Sequence[Example], recipe: Recipe) -> np.ndarray:
    """W (d, d) float32 fitted on ``train``, deterministic for a recipe."""
    torch.manual_seed(recipe.seed)
    rng = np.random.default_rng(recipe.seed)
    dim = splits[0].vectors.shape[1]
    offsets = np.cumsum([0] + [len(s.vectors) for s in splits])
    passages = torch.from_numpy(np.concatenate([s.vectors for s in splits]))
    queries = [torch.from_numpy(s.query_vectors) for s in splits]
    eye = torch.eye(dim)
    weight = torch.nn.Parameter(eye.clone())
    optimiser = torch.optim.Adam([weight], lr=recipe.lr)
    for _ in range(recipe.epochs):
        order = rng.permutation(len(train))
        for start in range(0, len(order), recipe.batch):
            batch = [train[i] for i in order[start : start + recipe.batch]]
            rows, positive, valid = _batch_rows(batch, offsets, rng)
            q = torch.stack([queries[e.split][e.query] for e in batch])
            q = torch.nn.functional.normalize(q @ weight.T, dim=1)
            logits = torch.einsum("bd,bcd->bc", q, passages[rows]) / recipe.temperature
            everything = logits.masked_fill(~valid, float("-inf"))
            wanted = logits.masked_fill(~positive, float("-inf"))
            loss = (torch.logsumexp(everything, 1) - torch.logsumexp(wanted, 1)).mean()
            loss = loss + recipe.reg * ((weight - eye) ** 2).sum() / dim
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return weight.detach().numpy().astype(np.float32)


def _batch_rows(
    batch: Sequence[Example], offsets: np.ndarray, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per example: its candidates, random passages of its corpus and one positive of each
    other example (in-batch negatives), as global rows padded to one width, with masks of the
    positives and of the real entries."""
    shared = [int(offsets[e.split] + rng.choice(e.rows[e.positive])) for e in batch]
    lists, positives = [], []
    for j, e in enumerate(batch):
        size = int(offsets[e.split + 1] - offsets[e.split])
        randoms = offsets[e.split] + rng.integers(0, size, RANDOM_NEGATIVES)
        others = [r for i, r in enumerate(shared) if i != j]
        lists.append(np.concatenate([offsets[e.split] + e.rows, randoms, others]))
        positives.append(np.concatenate([e.positive, np.zeros(len(randoms) + len(others), bool)]))
    width = max(len(x) for x in lists)
    rows = np.zeros((len(batch), width), dtype=np.int64)
    positive = np.zeros((len(batch), width), dtype=bool)
    valid = np.zeros((len(batch), width), dtype=bool)
    for j, (x, p) in enumerate(zip(lists, positives, strict=True)):
        rows[j, : len(x)], positive[j, : len(x)], valid[j, : len(x)] = x, p, True
    return torch.from_numpy(rows), torch.from_numpy(positive), torch.from_numpy(valid)


def adapted(split: Split, weight: np.ndarray) -> np.ndarray:
    mapped = split.query_vectors @ weight.T
    return (mapped / np.linalg.norm(mapped, axis=1, keepdims=True)).astype(np.float32)


def folds_of(splits: Sequence[Split], k: int) -> list[list[tuple[int, int]]]:
    """``k`` folds of (split, question) pairs, grouped by (split, question date)."""
    groups: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for s, split in enumerate(splits):
        for q, item in enumerate(split.questions):
            groups.setdefault((s, item.question_date or item.id), []).append((s, q))
    keys = sorted(groups)
    rng = np.random.default_rng(7)
    rng.shuffle(keys)
    folds: list[list[tuple[int, int]]] = [[] for _ in range(k)]
    for i, key in enumerate(keys):
        folds[i % k].extend(groups[key])
    return folds


def judge(
    splits: Sequence[Split],
    pairs: Sequence[tuple[int, int]],
    weight: np.ndarray | None,
    ranking: Ranking,
) -> list:
    outcomes = []
    for s, split in enumerate(splits):
        rows = [q for t, q in pairs if t == s]
        if not rows:
            continue
        queries = split.query_vectors if weight is None else adapted(split, weight)
        outcomes.extend(evaluate(split, queries, ranking, rows))
    return outcomes


def fold_weights(
    splits: Sequence[Split], recipe: Recipe, k: int = 5
) -> tuple[list[list[tuple[int, int]]], list[np.ndarray], float]:
    """The ``k`` folds, the adapter fitted without each, and the seconds all fits took."""
    folds = folds_of(splits, k)
    weights = []
    started = time.perf_counter()
    for i in range(k):
        train_pairs = [p for j, f in enumerate(folds) if j != i for p in f]
        weights.append(fit(splits, examples(splits, train_pairs), recipe))
    return folds, weights, time.perf_counter() - started


def held_out(
    splits: Sequence[Split],
    folds: Sequence[Sequence[tuple[int, int]]],
    weights: Sequence[np.ndarray | None],
    ranking: Ranking,
) -> Scores:
    """Each fold ranked with the adapter fitted without it (None: the base vectors)."""
    outcomes = []
    for fold, weight in zip(folds, weights, strict=True):
        outcomes.extend(judge(splits, fold, weight, ranking))
    return score(outcomes)


FUSION_GRID = [(d, t) for d in (1.0, 1.5, 2.0) for t in (0.3, 0.5)]


def fusion_grid(
    splits: Sequence[Split],
    folds: Sequence[Sequence[tuple[int, int]]],
    weights: Sequence[np.ndarray],
    dev: Split | None,
    dev_weight: np.ndarray | None,
    ranking: Ranking,
) -> list[dict[str, object]]:
    """CV (base and adapted) of dense weight x time weight around the default ranking."""
    out: list[dict[str, object]] = []
    for dense_weight, time_weight in FUSION_GRID:
        r = dataclasses.replace(ranking, dense_weight=dense_weight, time_weight=time_weight)
        base = held_out(splits, folds, [None] * len(folds), r)
        cv = held_out(splits, folds, weights, r)
        print(
            f"fusion dense={dense_weight} time={time_weight}: CV base {base.row()} "
            f"adapted {cv.row()}"
        )
        line: dict[str, object] = {
            "dense_weight": dense_weight,
            "time_weight": time_weight,
            "cv_base": base.as_dict(),
            "cv_adapted": cv.as_dict(),
        }
        if dev is not None:
            dev_base = score(evaluate(dev, dev.query_vectors, r))
            line["dev_base"] = dev_base.as_dict()
            text = f"  dev base {dev_base.row()}"
            if dev_weight is not None:
                dev_adapted = score(evaluate(dev, adapted(dev, dev_weight), r))
                line["dev_adapted"] = dev_adapted.as_dict()
                text += f" adapted {dev_adapted.row()}"
            print(text)
        out.append(line)
    return out


def side_by_side(
    splits: Sequence[Split],
    folds: Sequence[Sequence[tuple[int, int]]],
    weights: Sequence[np.ndarray],
    dev: Split | None,
    dev_weight: np.ndarray,
    ranking: Ranking,
) -> list[dict[str, object]]:
    """The benchmark table: each method with base and adapted question vectors, train held-out
    (each fold ranked by the adapter fitted without it) beside dev (the final adapter)."""
    pure = dataclasses.replace(ranking, time_weight=0.0, lead_weight=0.0)
    timed = dataclasses.replace(ranking, lead_weight=0.0)
    methods = [
        ("dense", pure, False, "dense"),
        ("hybrid", pure, False, "hybrid"),
        ("hybrid + time", timed, True, "hybrid"),
        ("newsrag default", ranking, True, "hybrid"),
    ]
    rows: list[dict[str, object]] = []
    print(f"{'method':<34} {'train CV: h@1 h@5 MRR R@30 R@100':<34}  dev: h@1 h@5 MRR R@30 R@100")
    for name, r, use_time, mode in methods:
        for label, fold_w, dev_w in (("", None, None), (" + adapter", weights, dev_weight)):
            outcomes = []
            for i, fold in enumerate(folds):
                w = None if fold_w is None else fold_w[i]
                for s, split in enumerate(splits):
                    qs = [q for t, q in fold if t == s]
                    if qs:
                        vectors = split.query_vectors if w is None else adapted(split, w)
                        outcomes.extend(evaluate(split, vectors, r, qs, use_time, mode))
            cv = score(outcomes)
            row: dict[str, object] = {"method": name + label, "train_cv": cv.as_dict()}
            text = f"{name + label:<34} {cv.row():<34}"
            if dev is not None:
                vectors = dev.query_vectors if dev_w is None else adapted(dev, dev_w)
                dev_scores = score(evaluate(dev, vectors, r, None, use_time, mode))
                row["dev"] = dev_scores.as_dict()
                text += f"  {dev_scores.row()}"
            print(text, flush=True)
            rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.train_query_adapter", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--train", type=Path, action="append", required=True)
    parser.add_argument("--dev", type=Path, help="Reported only, never fitted on.")
    parser.add_argument("--out", type=Path, help="Where to write the adapter (.npz).")
    parser.add_argument("--base-model", default="all-MiniLM-L6-v2")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, nargs="+", default=[Recipe.epochs])
    parser.add_argument("--lr", type=float, nargs="+", default=[Recipe.lr])
    parser.add_argument("--reg", type=float, nargs="+", default=[Recipe.reg])
    parser.add_argument("--temperature", type=float, nargs="+", default=[Recipe.temperature])
    parser.add_argument("--json", type=Path, help="Write every figure here.")
    parser.add_argument(
        "--fusion", action="store_true", help="Also report fusion weights on CV (and dev)."
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    splits = [load_split(p) for p in args.train]
    dev = load_split(args.dev) if args.dev else None
    ranking = Ranking(time_weight=0.3, lead_weight=0.1, max_per_article=2)
    recipes = [
        Recipe(epochs=e, lr=lr, reg=reg, temperature=t)
        for e in args.epochs
        for lr in args.lr
        for reg in args.reg
        for t in args.temperature
    ]
    report: dict = {"train": [str(p) for p in args.train], "recipes": []}
    best: tuple[float, Recipe] | None = None
    fitted = {}
    for recipe in recipes:
        folds, weights, seconds = fold_weights(splits, recipe, args.folds)
        fitted[recipe] = weights
        cv = held_out(splits, folds, weights, ranking)
        base = held_out(splits, folds, [None] * len(folds), ranking)
        line = {
            "recipe": recipe.label(),
            "cv": cv.as_dict(),
            "cv_base": base.as_dict(),
            "fit_seconds": round(seconds, 1),
        }
        print(
            f"CV {recipe.label():<44} {cv.row()}  (base {base.row()}) {seconds:.0f} s",
            flush=True,
        )
        report["recipes"].append(line)
        key = cv.hit5 + cv.mrr10
        if best is None or key > best[0]:
            best = (key, recipe)
    assert best is not None
    recipe = best[1]
    started = time.perf_counter()
    all_pairs = [(s, q) for s, split in enumerate(splits) for q in range(len(split.questions))]
    weight = fit(splits, examples(splits, all_pairs), recipe)
    seconds = time.perf_counter() - started
    print(f"chosen {recipe.label()}; final fit {seconds:.1f} s on {len(all_pairs)} questions")
    report["chosen"] = recipe.label()
    report["final_fit_seconds"] = round(seconds, 1)
    if dev is not None:
        dev_base = score(evaluate(dev, dev.query_vectors, ranking))
        dev_adapted = score(evaluate(dev, adapted(dev, weight), ranking))
        print(f"dev base    {dev_base.row()}")
        print(f"dev adapted {dev_adapted.row()}")
        report["dev_base"], report["dev_adapted"] = dev_base.as_dict(), dev_adapted.as_dict()
    report["table"] = side_by_side(splits, folds, fitted[recipe], dev, weight, ranking)
    if args.fusion:
        report["fusion"] = fusion_grid(splits, folds, fitted[recipe], dev, weight, ranking)
    if args.out:
        names = "+".join(p.name for p in args.train)
        QueryAdapter(weight, args.base_model, args.out, f"{names}; {recipe.label()}").save(args.out)
        print(f"wrote {args.out}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
