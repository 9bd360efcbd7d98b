"""The embedded runtime's build: the instruction probe, the CMake arguments, the wheel cache, the crash check."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from learnact.llm import runtime_build as rb

x86_only = pytest.mark.skipif(not rb.is_x86(), reason="the instruction probe is for x86 machines")


@x86_only
def test_a_family_whose_instruction_traps_is_off_and_so_are_its_dependents(monkeypatch, tmp_path):
    # ud2 (what __builtin_trap emits) is what an AMX instruction is on a machine that refuses it: SIGILL.
    trap = rb.Family("GGML_TRAPS", (), "__builtin_trap();")
    after = rb.Family("GGML_AFTER", (), "return 0;", needs=("GGML_TRAPS",))
    unknown = rb.Family("GGML_UNKNOWN", ("-mno-such-instruction-set",), "return 0;")
    runs = rb.Family("GGML_RUNS", (), "volatile int r = v * 2; (void)r;")
    monkeypatch.setattr(rb, "FAMILIES", (runs, trap, after, unknown))
    results = {r.option: r for r in rb.probe()}
    assert results["GGML_RUNS"].ok and results["GGML_RUNS"].why == "runs"
    assert not results["GGML_TRAPS"].ok and results["GGML_TRAPS"].why == "SIGILL"
    assert not results["GGML_AFTER"].ok and results["GGML_AFTER"].why == "needs GGML_TRAPS"
    assert not results["GGML_UNKNOWN"].ok and results["GGML_UNKNOWN"].why.startswith("does not compile")
    args = rb.cmake_args(list(results.values()))
    assert "-DGGML_NATIVE=OFF" in args and "-DLLAVA_BUILD=OFF" in args
    assert "-DGGML_RUNS=ON" in args and "-DGGML_TRAPS=OFF" in args and "-DGGML_AFTER=OFF" in args


@x86_only
def test_the_real_probe_never_builds_native_and_amx_is_probed_with_the_kernels_permission():
    results = {r.option: r for r in rb.probe()}
    assert set(results) == {f.option for f in rb.FAMILIES}
    assert results["GGML_SSE42"].ok  # every x86-64 machine this project runs on has SSE 4.2
    for family in rb.FAMILIES:  # a family is on only if everything it builds on is on
        if results[family.option].ok:
            assert all(results[n].ok for n in family.needs), family.option
    assert "_tile_loadconfig" in rb._AMX_SETUP and "ARCH_REQ_XCOMP_PERM" in rb._AMX_SETUP
    args = rb.cmake_args(list(results.values()))
    assert "-DGGML_NATIVE=OFF" in args and not any("march=native" in a for a in args)


def test_explicit_cmake_args_replace_the_probe(monkeypatch):
    monkeypatch.setenv("LEARNACT_CMAKE_ARGS", "-DGGML_NATIVE=OFF -DGGML_AVX2=ON")
    monkeypatch.setattr(rb, "probe", lambda: pytest.fail("the probe ran although the flags were given"))
    assert rb.cmake_args() == ["-DGGML_NATIVE=OFF", "-DGGML_AVX2=ON"]


def test_the_wheel_cache_is_keyed_by_the_build_flags(monkeypatch, tmp_path):
    monkeypatch.setenv("LEARNACT_WHEEL_CACHE", str(tmp_path))
    builds: list[list[str]] = []

    def fake_build(args, python, key):
        builds.append(args)
        wheel = tmp_path / key / f"llama_cpp_python-{rb.VERSION}-cp311-cp311-linux_x86_64.whl"
        wheel.parent.mkdir(parents=True, exist_ok=True)
        wheel.write_bytes(b"wheel")
        return wheel

    monkeypatch.setattr(rb, "build_wheel", fake_build)
    portable = ["-DGGML_NATIVE=OFF", "-DGGML_AMX_TILE=OFF"]
    first, built = rb.wheel_for(portable, sys.executable)
    assert built and builds == [portable]
    again, built = rb.wheel_for(portable, sys.executable)  # a second venv: no compile
    assert again == first and not built and len(builds) == 1
    native, built = rb.wheel_for(["-DGGML_NATIVE=ON"], sys.executable)  # other flags: never the portable wheel
    assert built and native != first and len(builds) == 2
    rebuilt, built = rb.wheel_for(portable, sys.executable, rebuild=True)
    assert built and len(builds) == 3 and rebuilt == first


def test_a_build_that_crashes_in_the_runtime_is_built_again_without_the_next_families(monkeypatch, tmp_path):
    """The probe passes AMX on a VM that loses ggml's tile configuration: the real runtime dies. verify records
    the crash for this machine and installs the build without AMX; the next setup goes there at once."""
    monkeypatch.setenv("LEARNACT_WHEEL_CACHE", str(tmp_path))
    results = [rb.ProbeResult(f.option, True, "runs") for f in rb.FAMILIES]
    monkeypatch.setattr(rb, "probe", lambda: results)
    monkeypatch.setattr(rb, "is_x86", lambda: True)
    installed: list[list[str]] = []
    monkeypatch.setattr(rb, "install", lambda python, rebuild=False: installed.append(rb.cmake_args()))
    outcomes = iter([(False, rb.SIGILL_MESSAGE, True), (True, "the embedded runtime runs here", False)])
    monkeypatch.setattr(rb, "check", lambda python, model: next(outcomes))
    assert "-DGGML_AMX_INT8=ON" in rb.cmake_args()
    ok, line = rb.verify(sys.executable, "model.gguf")
    assert ok and len(installed) == 1
    rebuilt = installed[0]
    assert {"-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF", "-DGGML_AVX512=ON"} <= set(rebuilt)
    assert rb.cmake_args() == rebuilt  # remembered: the next venv on this machine builds (or takes) this one
    # A second crash takes the AVX-512 extensions off too; with nothing left to turn off, it stops and says why.
    assert set(rb.without(rebuilt, ("GGML_AVX512",))) >= {
        "-DGGML_AVX512=OFF",
        "-DGGML_AVX512_VNNI=OFF",
        "-DGGML_AMX_TILE=OFF",
    }
    monkeypatch.setattr(rb, "check", lambda python, model: (False, rb.SIGILL_MESSAGE, True))
    ok, line = rb.verify(sys.executable, "model.gguf")
    assert not ok and line == rb.SIGILL_MESSAGE and len(installed) == 1 + len(rb.FALLBACKS) - 1
    assert all(a.endswith("=OFF") for a in rb.cmake_args() if "AVX512" in a or "AMX" in a or "AVX_VNNI" in a)


def test_a_crash_that_will_repeat_is_named_in_one_line():
    line = rb.crash_reason(-signal.SIGILL)
    assert line is not None and "CPU instructions this machine refuses" in line and "make rebuild-model" in line
    assert "\n" not in line
    assert rb.crash_reason(-signal.SIGKILL) is None and rb.crash_reason(1) is None  # killed, or a plain error: retry


def test_the_check_reports_a_runtime_that_dies_of_sigill(monkeypatch, tmp_path):
    fake = tmp_path / "fake_python"
    fake.write_text("#!/bin/sh\nkill -ILL $$\n")
    fake.chmod(0o755)
    ok, line, crashed = rb.check(str(fake), str(tmp_path / "model.gguf"), timeout_s=30)
    assert not ok and crashed and line == rb.SIGILL_MESSAGE


def test_the_built_runtime_answers_a_short_prompt_on_this_machine(local_model_file):
    """The runtime this venv holds, on a short prompt of the embedded model (its batch kernels), in a child
    process: on a machine that refuses an instruction the build uses, this fails at once with the reason
    instead of a server that dies and is restarted."""
    ok, line, _ = rb.check(sys.executable, str(local_model_file), timeout_s=300)
    assert ok, line


@pytest.fixture
def local_model_file() -> Path:
    import importlib.util
    import os

    from conftest import SKIP_LOCAL_ENV

    if os.environ.get(SKIP_LOCAL_ENV) == "1":
        pytest.skip(f"{SKIP_LOCAL_ENV}=1: tests with the real local model are skipped")
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail("llama-cpp-python is not installed: `make setup` builds it for this machine", pytrace=False)
    from learnact.llm.local import ensure_model_file

    return Path(os.environ.get("LEARNACT_TEST_MODEL_PATH") or ensure_model_file())
