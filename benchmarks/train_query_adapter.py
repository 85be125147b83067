"""Fit the query adapter (index/query_adapter.py) on the training years, cross-validate it over
questions, check it on dev, and write it.

    python -m benchmarks.train_query_adapter \\
        --train /work/cache/ranking/2025 --train /work/cache/ranking/2024 \\
        --dev /work/cache/ranking/2026-dev --out models/query-adapter-minilm.npz

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
    passages = [torch.from_numpy(s.vectors) for s in splits]
    queries = [torch.from_numpy(s.query_vectors) for s in splits]
    eye = torch.eye(dim)
    weight = torch.nn.Parameter(eye.clone())
    optimiser = torch.optim.Adam([weight], lr=recipe.lr)
    for _ in range(recipe.epochs):
        order = rng.permutation(len(train))
        for start in range(0, len(order), recipe.batch):
            batch = [train[i] for i in order[start : start + recipe.batch]]
            optimiser.zero_grad()
            loss = _batch_loss(batch, passages, queries, weight, recipe, rng)
            loss = loss + recipe.reg * ((weight - eye) ** 2).sum() / dim
            loss.backward()
            optimiser.step()
    return weight.detach().numpy().astype(np.float32)


def _batch_loss(
    batch: Sequence[Example],
    passages: Sequence[torch.Tensor],
    queries: Sequence[torch.Tensor],
    weight: torch.Tensor,
    recipe: Recipe,
    rng: np.random.Generator,
) -> torch.Tensor:
    # in-batch negatives: one positive of every question in the batch
    shared = torch.stack([passages[e.split][int(rng.choice(e.rows[e.positive]))] for e in batch])
    losses = []
    for j, e in enumerate(batch):
        q = torch.nn.functional.normalize(weight @ queries[e.split][e.query], dim=0)
        own = passages[e.split][torch.from_numpy(e.rows)]
        randoms = passages[e.split][
            torch.from_numpy(rng.integers(0, len(passages[e.split]), RANDOM_NEGATIVES))
        ]
        others = torch.cat([shared[:j], shared[j + 1 :]])
        logits = torch.cat([own @ q, randoms @ q, others @ q]) / recipe.temperature
        positive = torch.from_numpy(e.positive)
        losses.append(
            torch.logsumexp(logits, 0) - torch.logsumexp(logits[: len(e.rows)][positive], 0)
        )
    return torch.stack(losses).mean()


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


def cross_validate(
    splits: Sequence[Split], recipe: Recipe, ranking: Ranking, k: int = 5
) -> tuple[Scores, Scores, float]:
    """(CV scores of the adapter, of the base vectors, seconds of fitting) over ``k`` folds."""
    folds = folds_of(splits, k)
    held, base = [], []
    seconds = 0.0
    for i, fold in enumerate(folds):
        train_pairs = [p for j, f in enumerate(folds) if j != i for p in f]
        started = time.perf_counter()
        weight = fit(splits, examples(splits, train_pairs), recipe)
        seconds += time.perf_counter() - started
        held.extend(judge(splits, fold, weight, ranking))
        base.extend(judge(splits, fold, None, ranking))
    return score(held), score(base), seconds


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
    for recipe in recipes:
        cv, base, seconds = cross_validate(splits, recipe, ranking, args.folds)
        line = {
            "recipe": recipe.label(),
            "cv": cv.as_dict(),
            "cv_base": base.as_dict(),
            "fit_seconds": round(seconds, 1),
        }
        print(
            f"CV {recipe.label():<44} {cv.row()}  (base {base.row()}) {seconds:.0f} s", flush=True
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
    if args.out:
        names = "+".join(p.name for p in args.train)
        QueryAdapter(weight, args.base_model, args.out, f"{names}; {recipe.label()}").save(args.out)
        print(f"wrote {args.out}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
