"""The reader's model files: shipped, loadable, and a clear error when one is missing."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.learned import LearnedAnswerer
from assistant.reader import MODELS, UNIT_FEATURES, LinearModel, ModelFileError, ReaderModels
from index.embeddings import FakeEmbedder


def test_the_shipped_models_load() -> None:
    models = ReaderModels.load()
    assert models.units.features == UNIT_FEATURES
    assert 0.0 <= models.refusal.threshold <= 1.0


def test_a_missing_model_file_names_the_retrain_command(tmp_path: Path) -> None:
    shutil.copytree(MODELS, tmp_path / "reader")
    (tmp_path / "reader" / "refusal.json").unlink()
    with pytest.raises(ModelFileError) as err:
        ReaderModels.load(tmp_path / "reader")
    message = str(err.value)
    assert f"No reader model at {tmp_path / 'reader' / 'refusal.json'}" in message
    assert "python -m benchmarks.train_reader --train ../shared/data/realtimeqa-2025" in message


def test_a_model_of_other_features_is_refused(tmp_path: Path) -> None:
    shutil.copytree(MODELS, tmp_path / "reader")
    path = tmp_path / "reader" / "units.json"
    data = json.loads(path.read_text())
    data["features"] = data["features"][:-1]
    path.write_text(json.dumps(data))
    with pytest.raises(ModelFileError, match="trained on other features"):
        LearnedAnswerer(FakeEmbedder(64), models=ReaderModels.load(tmp_path / "reader"))


def test_a_linear_model_round_trips_through_json(tmp_path: Path) -> None:
    model = LinearModel(
        ("a", "b"), np.array([0.0, 1.0]), np.array([1.0, 2.0]), np.array([0.5, -1.0]), 0.25, 0.4
    )
    path = tmp_path / "m.json"
    path.write_text(json.dumps(model.to_dict()))
    loaded = LinearModel.load(path, ("a", "b"))
    x = np.array([[1.0, 3.0]])
    assert loaded.prob(x)[0] == pytest.approx(1 / (1 + np.exp(-(0.5 - 1.0 + 0.25))))
    assert loaded.threshold == 0.4
