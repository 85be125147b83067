"""What the wheel holds: every package of the library, and none of the benchmarks."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ("assistant", "index", "ui", "eval")


def test_the_wheel_lists_every_library_package_and_no_benchmark() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in LIBRARY
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert listed == found
    assert (ROOT / "benchmarks" / "__init__.py").is_file()
    assert not any(name.split(".")[0] == "benchmarks" for name in listed)
    assert "benchmarks" in config["tool"]["mypy"]["packages"]  # not installed, still checked
