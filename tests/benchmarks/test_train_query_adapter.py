"""The adapter's training on a synthetic split where the right map is known."""

import numpy as np
import torch

from benchmarks.ranking_data import Split
from benchmarks.train_query_adapter import Recipe, adapted, examples, fit, folds_of
from eval.qa import QAItem

DIM, QUESTIONS, PASSAGES = 16, 120, 600


def planted_split() -> tuple[Split, np.ndarray]:
    """Questions whose answer-bearing passage is near M q (M a fixed rotation of two axes)
    among random passages: the identity ranks them poorly, M ranks them first."""
    rng = np.random.default_rng(3)
    angle = 1.2
    m = np.eye(DIM, dtype=np.float32)
    m[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    q = rng.normal(size=(QUESTIONS, DIM)).astype(np.float32)
    q[:, :2] *= 4  # the rotated plane carries most of each question
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    p = rng.normal(size=(PASSAGES, DIM)).astype(np.float32)
    p[:QUESTIONS] = q @ m.T + 0.05 * rng.normal(size=(QUESTIONS, DIM))
    p /= np.linalg.norm(p, axis=1, keepdims=True)
    n = PASSAGES
    items = tuple(
        QAItem(f"q{i}", f"question {i}", answer="x", question_date=f"2025-01-{i % 28 + 1:02d}")
        for i in range(QUESTIONS)
    )
    split = Split(
        "planted",
        np.array([f"c{i:04d}" for i in range(n)]),
        p,
        np.array([f"a{i:04d}" for i in range(n)]),
        np.zeros(n, dtype=np.int64),
        np.ones(n, dtype=np.int64),
        items,
        q,
        np.full((QUESTIONS, 100), -1, dtype=np.int64),
        tuple(frozenset([i]) for i in range(QUESTIONS)),
    )
    return split, m


def positive_rank(split: Split, queries: np.ndarray) -> float:
    sims = queries @ split.vectors.T
    own = sims[np.arange(QUESTIONS), np.arange(QUESTIONS)]
    return float(((sims > own[:, None]).sum(axis=1) + 1).mean())


def test_fit_recovers_a_planted_map_and_is_deterministic() -> None:
    split, _ = planted_split()
    train = examples([split], [(0, q) for q in range(QUESTIONS)])
    assert len(train) == QUESTIONS
    torch.set_num_threads(1)  # as the trainer runs; deterministic and kind to shared CPUs
    recipe = Recipe(epochs=12, lr=0.05, reg=0.01, temperature=0.05, batch=30)
    weight = fit([split], train, recipe)
    np.testing.assert_array_equal(weight, fit([split], train, recipe))
    before, after = (
        positive_rank(split, split.query_vectors),
        positive_rank(split, adapted(split, weight)),
    )
    assert before > 20 and after < 3, (before, after)


def test_folds_keep_one_date_on_one_side() -> None:
    split, _ = planted_split()
    folds = folds_of([split], 5)
    assert sorted(p for f in folds for p in f) == [(0, q) for q in range(QUESTIONS)]
    dates = [{split.questions[q].question_date for _, q in f} for f in folds]
    assert all(not (a & b) for i, a in enumerate(dates) for b in dates[i + 1 :])
