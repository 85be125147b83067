"""The test tiers: tests using a heavy fixture, or real data, are marked integration."""

from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from tests.conftest import pytest_collection_modifyitems


@dataclass
class Collected:
    """What the hook reads and writes of a collected test."""

    fixturenames: tuple[str, ...]
    markers: list[str] = field(default_factory=list)

    def add_marker(self, marker: Any) -> None:
        self.markers.append(marker.name)

    def get_closest_marker(self, name: str) -> str | None:
        return name if name in self.markers else None


def test_heavy_fixtures_and_real_data_make_a_test_integration() -> None:
    unit = Collected(("tmp_path", "fake_index", "tiny_corpus"))
    model = Collected(("tmp_path", "real_embedder"))
    index = Collected(("sample_index_dir", "real_embedder", "server"))  # through another fixture
    real = Collected(("tmp_path",), ["realdata"])
    pytest_collection_modifyitems(cast(list[pytest.Item], [unit, model, index, real]))
    assert unit.markers == []
    assert model.markers == index.markers == ["integration"]
    assert real.markers == ["realdata", "integration"]


def test_markers_are_strict(pytestconfig: pytest.Config) -> None:
    assert "--strict-markers" in pytestconfig.getini("addopts")
