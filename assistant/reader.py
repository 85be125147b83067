"""The learned reader: features of a question's candidate units, of the question as a whole and
of each option of a multiple-choice question, and the three trained models that read them
(which units hold the answer, whether to refuse, which option is right).

The models are logistic regressions fitted by ``python -m benchmarks.train_reader`` and shipped
as JSON (their standardisation, coefficients and, for refusal, the operating point), so running
them needs numpy alone."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.candidates import Unit
from assistant.choices import Option, rank_options, read_options, tokens
from assistant.parse import Question
from assistant.questions import (
    capitalised_names,
    content_words,
    fold,
    holds_fact,
    holds_kind,
    mentions,
    overlap,
)
from index.errors import ConfigError

MODELS = Path(__file__).resolve().parent.parent / "models" / "reader"
RETRAIN = (
    "python -m benchmarks.train_reader --train ../shared/data/realtimeqa-2025 --out models/reader"
)

UNIT_FEATURES = (
    "cosine",
    "cosine_gap",
    "passage",
    "inv_rank",
    "overlap",
    "overlap_gap",
    "title_overlap",
    "named_passage",
    "named_unit",
    "typed_number",
    "typed_date",
    "typed_name",
    "fact",
    "speaker_match",
    "speaker_other",
    "quote",
    "lead",
    "order",
    "log_words",
    "joined",
    "new_names",
    "voted",
    "causal",
    "cosine_x_names",
    "cosine_x_voted",
    "overlap_x_typed",
)
QUESTION_FEATURES = (
    "best",
    "second",
    "top3",
    "best_logit",
    "top_passage",
    "mean_passage",
    "missing_names",
    "has_names",
    "fact_asked",
    "fact_found",
    "typed_best",
    "best_overlap",
    "best_cosine",
)
OPTION_FEATURES = (
    "best_unit",
    "best_cosine",
    "best_overlap",
    "full",
    "title",
    "articles",
    "share",
    "inv_rank",
    "near",
    "sum_unit",
    "best_unit_gap",
    "articles_gap",
    "support",
    "support_gap",
)


# connectives that state a cause or purpose: for why/how questions, a learned feature
_CAUSE = re.compile(
    r"\b(?:because|due to|as a result|owing to|in order to|so that|since|after|amid|caused|"
    r"led to|leading to|blamed|reason|aims? to|meant to|designed to|thanks to)\b",
    re.IGNORECASE,
)


class ModelFileError(ConfigError):
    """A reader model file is missing or unreadable."""


@dataclass(frozen=True)
class LinearModel:
    """A fitted logistic regression: ``p = sigmoid(((x - mean) / scale) . coef + intercept)``.
    ``threshold``: the operating point (refusal), if it has one."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float = 0.5

    def logit(self, x: np.ndarray) -> np.ndarray:
        z: np.ndarray = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return z

    def prob(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(x)))

    def to_dict(self) -> dict[str, object]:
        return {
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "threshold": self.threshold,
        }

    @classmethod
    def load(cls, path: Path, features: Sequence[str]) -> LinearModel:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ModelFileError(
                f"No reader model at {path} — retrain the reader models with '{RETRAIN}'."
            ) from exc
        except (OSError, ValueError) as exc:
            raise ModelFileError(
                f"The reader model {path} cannot be read ({exc}) — retrain it with '{RETRAIN}'."
            ) from exc
        if tuple(data.get("features", ())) != tuple(features):
            raise ModelFileError(
                f"The reader model {path} was trained on other features than this code "
                f"computes — retrain it with '{RETRAIN}'."
            )
        return cls(
            tuple(data["features"]),
            np.array(data["mean"], dtype=float),
            np.array(data["scale"], dtype=float),
            np.array(data["coef"], dtype=float),
            float(data["intercept"]),
            float(data.get("threshold", 0.5)),
        )


@dataclass(frozen=True)
class ReaderModels:
    """The three reader models, loaded once (see :meth:`load`)."""

    units: LinearModel
    refusal: LinearModel
    options: LinearModel
    embedding_model: str  # whose cosines they were trained on

    @classmethod
    def load(cls, folder: Path | str = MODELS) -> ReaderModels:
        """The models in ``folder`` (default: the shipped models/reader); a missing or stale
        file raises :class:`ModelFileError` naming the command that retrains them."""
        folder = Path(folder)
        units = LinearModel.load(folder / "units.json", UNIT_FEATURES)
        data = json.loads((folder / "units.json").read_text(encoding="utf-8"))
        return cls(
            units,
            LinearModel.load(folder / "refusal.json", QUESTION_FEATURES),
            LinearModel.load(folder / "options.json", OPTION_FEATURES),
            str(data.get("embedding_model", "")),
        )


def unit_features(q: Question, units: Sequence[Unit], cosines: np.ndarray) -> np.ndarray:
    """One row of :data:`UNIT_FEATURES` per unit; ``cosines[i]``: unit i against ``q.focus``."""
    if not units:
        return np.zeros((0, len(UNIT_FEATURES)))
    terms = set(q.terms)
    asked = content_words(q.text)
    voted = _voted_name(q, units) if q.asks_name else None
    rows = []
    shared = [overlap(terms, u.text, u.before) for u in units]
    best_cos, best_shared = float(np.max(cosines)), max(shared)
    for u, cos, share in zip(units, cosines, shared, strict=True):
        chunk = u.hit.chunk
        folded = fold(u.text)
        context = fold(f"{chunk.title}\n{chunk.text}")
        names = [n for n in capitalised_names(u.text) if not content_words(n) <= asked]
        speaker = bool(
            q.speaker and u.speaker and any(mentions(fold(u.speaker), s) for s in q.speaker)
        )
        rows.append(
            [
                float(cos),
                float(cos) - best_cos,
                u.hit.score,
                1.0 / max(u.hit.rank, 1),
                share,
                share - best_shared,
                overlap(terms, chunk.title),
                _share(context, q.entities),
                _share(folded, q.entities),
                float(q.answer_type == "number" and holds_kind(u.text, "number", q.text)),
                float(q.answer_type == "date" and holds_kind(u.text, "date", q.text)),
                float(q.asks_name and holds_kind(u.text, "name", q.text)),
                float(q.fact is not None and holds_fact(u.text, q.fact)),
                float(speaker),
                float(bool(q.speaker) and u.speaker is not None and not speaker),
                float(u.quote),
                float(chunk.index == 0 and u.order == 0),
                min(u.order, 10) / 10,
                math.log(1 + len(u.text.split())),
                float(u.joined),
                min(len(names), 5) / 5,
                float(voted is not None and mentions(folded, voted)),
                float(q.wh in ("why", "how") and _CAUSE.search(u.text) is not None),
                0.0,
                0.0,
                0.0,
            ]
        )
    x = np.array(rows, dtype=float)
    col = {name: i for i, name in enumerate(UNIT_FEATURES)}
    # on topic AND holding the kind of answer asked for: products a linear model cannot form
    typed = x[:, [col["typed_number"], col["typed_date"], col["typed_name"]]].max(axis=1)
    x[:, col["cosine_x_names"]] = x[:, col["cosine"]] * x[:, col["new_names"]]
    x[:, col["cosine_x_voted"]] = x[:, col["cosine"]] * x[:, col["voted"]]
    x[:, col["overlap_x_typed"]] = x[:, col["overlap"]] * typed
    return x


def question_features(
    q: Question,
    units: Sequence[Unit],
    x: np.ndarray,
    probs: np.ndarray,
    hits_scores: Sequence[float],
    hits_text: str,
) -> np.ndarray:
    """The row of :data:`QUESTION_FEATURES`: how well the best units answer ``q``."""
    order = np.argsort(-probs) if len(probs) else np.array([], dtype=int)
    top = probs[order[:3]] if len(probs) else np.zeros(1)
    col = {name: i for i, name in enumerate(UNIT_FEATURES)}
    best = int(order[0]) if len(order) else None
    folded = fold(hits_text)
    missing = sum(not mentions(folded, e) for e in q.entities)

    def at(name: str) -> float:
        return float(x[best, col[name]]) if best is not None else 0.0

    p1 = float(top[0]) if len(top) else 0.0
    return np.array(
        [
            p1,
            float(top[1]) if len(top) > 1 else 0.0,
            float(np.mean(top)),
            math.log(max(p1, 1e-6) / max(1 - p1, 1e-6)),
            max(hits_scores, default=0.0),
            float(np.mean(hits_scores)) if hits_scores else 0.0,
            missing / len(q.entities) if q.entities else 0.0,
            float(bool(q.entities)),
            float(q.fact is not None),
            float(q.fact is not None and len(x) > 0 and x[:, col["fact"]].max() > 0),
            max(at("typed_number"), at("typed_date"), at("typed_name")),
            at("overlap"),
            at("cosine"),
        ]
    )


def option_features(
    q: Question, units: Sequence[Unit], x: np.ndarray, probs: np.ndarray
) -> tuple[list[Option], np.ndarray]:
    """The options of ``q`` and one row of :data:`OPTION_FEATURES` each."""
    options = read_options(q.text, q.options)
    col = {name: i for i, name in enumerate(UNIT_FEATURES)}
    said = [tokens(u.text) for u in units]
    asked = {t for t, _ in tokens(" ".join(q.terms))}
    articles_total = len({u.hit.chunk.article_id for u in units}) or 1
    # the hand-weighted support of assistant.choices, as one more feature the model weighs
    cosines = x[:, col["cosine"]] if len(x) else np.zeros(0)
    support = {s.option: s.score for s in rank_options(q.text, q.options, units, cosines)}
    rows = []
    for option in options:
        best_p = best_cos = best_ov = full = title = near = sum_p = 0.0
        inv_rank = 0.0
        articles: set[str] = set()
        for i, u in enumerate(units):
            named, at = option.find(said[i])
            if not named:
                continue
            weight = 1.0 if named == 1.0 else 0.5 * named
            articles.add(u.hit.chunk.article_id)
            best_p = max(best_p, float(probs[i]) * weight)
            sum_p += float(probs[i]) * weight
            best_cos = max(best_cos, float(x[i, col["cosine"]]) * weight)
            best_ov = max(best_ov, float(x[i, col["overlap"]]) * weight)
            full = max(full, float(named == 1.0))
            title = max(title, option.mention(tokens(u.hit.chunk.title)))
            inv_rank = max(inv_rank, 1.0 / max(u.hit.rank, 1))
            near = max(near, _near(asked, said[i], at))
        rows.append(
            [
                best_p,
                best_cos,
                best_ov,
                full,
                title,
                len(articles),
                len(articles) / articles_total,
                inv_rank,
                near,
                min(sum_p, 5.0),
                0.0,
                0.0,
                support.get(option.text, 0.0),
                0.0,
            ]
        )
    table = np.array(rows, dtype=float).reshape(len(options), len(OPTION_FEATURES))
    if len(table):
        table[:, 10] = table[:, 0] - table[:, 0].max()
        table[:, 11] = table[:, 5] - table[:, 5].max()
        table[:, 13] = table[:, 12] - table[:, 12].max()
    return options, table


def _near(asked: set[str], sentence: Sequence[tuple[str, bool]], at: Sequence[int]) -> float:
    if not asked or not at:
        return 0.0
    start, end = max(min(at) - 5, 0), max(at) + 6
    return len(asked & {t for t, _ in sentence[start:end]}) / len(asked)


def _share(folded: str, entities: frozenset[str]) -> float:
    if not entities:
        return 1.0
    return sum(mentions(folded, e) for e in entities) / len(entities)


def _voted_name(q: Question, units: Sequence[Unit]) -> str | None:
    """The name (not one the question uses) the units mention most, weighted by their passage's
    similarity to the question: redundancy across passages points at the answer."""
    asked = set(q.terms) | set(q.entities)
    votes: dict[str, float] = {}
    for u in units:
        for name in set(capitalised_names(u.text)):
            words = content_words(name)
            if words and not words & asked:
                votes[fold(name)] = votes.get(fold(name), 0.0) + max(u.hit.score, 0.0)
    return max(votes, key=lambda n: (votes[n], n)) if votes else None
