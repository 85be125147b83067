"""What this CPU offers the encoders, read once from ``/proc/cpuinfo`` (Linux; elsewhere the
instruction sets are unknown and the encoders take the choice that is safe on any CPU).

Two facts matter. int8: without VNNI, onnxruntime multiplies uint8 activations by int8 weights
with AVX2's VPMADDUBSW, which adds pairs of products into 16 bits and saturates when they pass
32,767 — so on those CPUs the int8 encoder keeps its weights to 7 bits (see
``onnx_encoder.py``). bf16: torch's bfloat16 autocast is fast only with AVX512-BF16 or
AMX; without them it is emulated, several times slower than float32.
"""

from __future__ import annotations

import functools
import os
import platform
from dataclasses import dataclass
from pathlib import Path

X86 = ("x86_64", "amd64", "i386", "i686")
INT8_DOT = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})  # 8-bit dot products, no saturation
BF16 = frozenset({"avx512_bf16", "amx_bf16", "bf16"})  # "bf16": Arm's feature name
SHOWN = (  # the instruction sets worth naming, in the order a reader compares them
    ("avx2", "AVX2"),
    ("avx512f", "AVX-512"),
    ("avx512_vnni", "AVX512-VNNI"),
    ("avx_vnni", "AVX-VNNI"),
    ("avx512_bf16", "AVX512-BF16"),
    ("amx_int8", "AMX-INT8"),
    ("amx_bf16", "AMX-BF16"),
    ("asimddp", "Arm dot product"),
    ("i8mm", "Arm I8MM"),
    ("bf16", "Arm BF16"),
)


@dataclass(frozen=True)
class CpuFeatures:
    """The CPU's architecture, model name and instruction-set flags (None: not readable here).

    >>> cpu = parse_cpuinfo("model name : AMD EPYC\\nflags : fpu avx2 fma\\n", "x86_64")
    >>> cpu.int8_saturates, cpu.bf16, cpu.describe()
    (True, False, 'AMD EPYC, x86_64: AVX2; no AVX-512, no VNNI, no BF16')
    """

    machine: str
    model: str = ""
    flags: frozenset[str] | None = None
    # x86 "family F model M": tells apart CPUs a virtual machine names alike ("AMD EPYC")
    generation: str = ""

    @property
    def x86(self) -> bool:
        return self.machine.lower() in X86

    @property
    def int8_saturates(self) -> bool:
        """Whether onnxruntime's uint8 x int8 products may saturate here: on x86 without VNNI
        (or x86 whose flags are unknown). Other architectures multiply without saturating."""
        if not self.x86:
            return False
        return self.flags is None or not (self.flags & INT8_DOT)

    @property
    def amx(self) -> bool:
        """Whether the CPU has AMX's bfloat16 matrix tiles (Intel Xeon since Sapphire Rapids)."""
        return self.flags is not None and "amx_bf16" in self.flags

    @property
    def bf16(self) -> bool | None:
        """Whether bfloat16 runs natively here; None when the flags are unknown."""
        if self.flags is None:
            return None
        return bool(self.flags & BF16)

    def describe(self) -> str:
        """One line for benchmark tables: model, architecture, the instruction sets it has and
        the ones the encoders would use that it lacks."""
        model = f"{self.model} ({self.generation})" if self.generation else self.model
        head = ", ".join(part for part in (model, self.machine) if part)
        if self.flags is None:
            return f"{head}: instruction sets unknown"
        has = [name for flag, name in SHOWN if flag in self.flags]
        lacks = []
        if self.x86 and "avx512f" not in self.flags:
            lacks.append("no AVX-512")
        if self.x86 and not self.flags & INT8_DOT:
            lacks.append("no VNNI")
        if not self.bf16:
            lacks.append("no BF16")
        named = "; ".join(part for part in (", ".join(has), ", ".join(lacks)) if part)
        return f"{head}: {named}" if named else head


def parse_cpuinfo(text: str, machine: str) -> CpuFeatures:
    """The features in ``/proc/cpuinfo`` text (its first processor; x86 "flags" or Arm
    "Features")."""
    found: dict[str, str] = {}
    flags: frozenset[str] | None = None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "cpu family", "model"):
            found.setdefault(key, value.strip())
        elif key in ("flags", "features") and flags is None:
            flags = frozenset(value.split())
    family, number = found.get("cpu family", ""), found.get("model", "")
    generation = f"family {family} model {number}" if family and number else ""
    return CpuFeatures(machine, found.get("model name", ""), flags, generation)


@functools.cache
def cpu_features() -> CpuFeatures:
    """This machine's features (read once per process)."""
    machine = platform.machine()
    path = Path("/proc/cpuinfo")
    if os.name != "posix" or not path.is_file():
        return CpuFeatures(machine)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:  # unreadable (a sandbox): unknown, so the encoders take the safe choice
        return CpuFeatures(machine)
    return parse_cpuinfo(text, machine)
