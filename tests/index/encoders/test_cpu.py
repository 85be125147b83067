"""What the CPU offers the encoders: read from /proc/cpuinfo text, described for benchmarks."""

import platform

from index.encoders.cpu import CpuFeatures, cpu_features, parse_cpuinfo

MILAN = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse4_2 avx fma avx2 sha_ni vaes
processor\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse4_2 avx fma avx2 sha_ni vaes
"""
GENOA_FLAGS = "avx2 avx512f avx512_vnni avx512_bf16"
SAPPHIRE_RAPIDS_FLAGS = "avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_int8 amx_tile"
GRAVITON3 = "processor\t: 0\nBogoMIPS\t: 2100.00\nFeatures\t: fp asimd asimddp bf16 i8mm\n"


def test_an_avx2_cpu_saturates_int8_and_lacks_bf16() -> None:
    cpu = parse_cpuinfo(MILAN, "x86_64")
    assert cpu.model == "AMD EPYC" and cpu.flags is not None and "avx2" in cpu.flags
    assert cpu.int8_saturates and cpu.bf16 is False
    assert cpu.describe() == (
        "AMD EPYC (family 25 model 1), x86_64: AVX2; no AVX-512, no VNNI, no BF16"
    )


def test_vnni_and_amx_cpus_run_int8_and_bf16_natively() -> None:
    genoa = parse_cpuinfo(f"model name : AMD EPYC 9R14\nflags : {GENOA_FLAGS}\n", "x86_64")
    assert not genoa.int8_saturates and genoa.bf16
    assert genoa.describe() == "AMD EPYC 9R14, x86_64: AVX2, AVX-512, AVX512-VNNI, AVX512-BF16"
    spr = parse_cpuinfo(f"flags : {SAPPHIRE_RAPIDS_FLAGS}\n", "x86_64")
    assert not spr.int8_saturates and spr.bf16
    assert spr.describe().endswith("AVX512-BF16, AMX-INT8, AMX-BF16")


def test_arm_reads_its_features_line_and_never_saturates() -> None:
    cpu = parse_cpuinfo(GRAVITON3, "aarch64")
    assert cpu.flags == frozenset({"fp", "asimd", "asimddp", "bf16", "i8mm"})
    assert not cpu.int8_saturates and cpu.bf16
    assert cpu.describe() == "aarch64: Arm dot product, Arm I8MM, Arm BF16"
    assert parse_cpuinfo("Features : fp asimd\n", "aarch64").describe() == "aarch64: no BF16"
    assert not parse_cpuinfo("Features : fp asimd\n", "aarch64").int8_saturates


def test_unknown_flags_take_the_choice_that_is_safe_everywhere() -> None:
    cpu = CpuFeatures("AMD64", "")
    assert cpu.int8_saturates and cpu.bf16 is None
    assert cpu.describe() == "AMD64: instruction sets unknown"
    assert not CpuFeatures("arm64").int8_saturates


def test_this_machine_is_read_once() -> None:
    cpu = cpu_features()
    assert cpu is cpu_features()
    assert cpu.machine == platform.machine()
    if platform.system() == "Linux":
        assert cpu.flags, "a Linux /proc/cpuinfo lists the CPU's flags"
