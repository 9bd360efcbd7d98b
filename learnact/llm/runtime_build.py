"""Build the embedded model's runtime (llama-cpp-python) so that it runs on the machine it is built on.

``python3 -m llm.runtime_build install --pip .venv/bin/python`` (what ``make setup`` runs) does three things:

1. **Probe.** llama.cpp's default build is ``-march=native`` (GGML_NATIVE): every instruction family the CPU
   *advertises* is compiled in. In VMs and containers a CPU may advertise AMX that the kernel or the
   hypervisor does not enable, and the server then dies with SIGILL on its first matrix product. Here each
   x86 instruction family llama.cpp can use is compiled into a tiny program and *run*; only the families
   that run are passed to CMake, with GGML_NATIVE off. AMX is probed as ggml uses it: ask the kernel for
   the tile state (``arch_prctl(ARCH_REQ_XCOMP_PERM)``), then configure and use the tiles.
2. **Cache.** The wheel is kept under ``~/.cache/learnact/wheels/<key>/`` (``$LEARNACT_WHEEL_CACHE``), keyed
   by the package version, the CMake arguments, the Python tag and the machine, so a second venv installs
   it in seconds instead of compiling for minutes. pip's own wheel cache ignores ``CMAKE_ARGS`` (a native
   wheel built earlier would come back), so the build bypasses it (``--no-cache-dir``).
3. **Check.** ``check`` runs the installed runtime on one token of the embedded model in a child process
   and says in one line why it failed (SIGILL: instructions this machine refuses).

Standard library only: it runs before the project's dependencies are installed. Other architectures
(aarch64, ...) keep llama.cpp's own detection; ``$LEARNACT_CMAKE_ARGS`` replaces the probed flags.
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import SIGILL_MESSAGE, crash_reason  # noqa: F401 (SIGILL_MESSAGE: the check's line for a crash, re-exported)
from .model_file import CHECK_PROMPT

PACKAGE = "llama-cpp-python"
VERSION = "0.3.36"
BASE_CMAKE_ARGS = ("-DLLAVA_BUILD=OFF",)

_AMX_SETUP = r"""
#include <sys/syscall.h>
#include <unistd.h>
#include <string.h>
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18
typedef struct { unsigned char palette_id, start_row, reserved[14]; unsigned short colsb[16]; unsigned char rows[16]; } tilecfg;
static int amx_setup(void) {
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)) return 1;  /* the kernel refuses */
    static tilecfg cfg; memset(&cfg, 0, sizeof cfg); cfg.palette_id = 1;
    for (int i = 0; i < 3; i++) { cfg.colsb[i] = 64; cfg.rows[i] = 16; }
    _tile_loadconfig(&cfg);
    return 0;
}
"""


@dataclass(frozen=True)
class Family:
    """One instruction family: llama.cpp's CMake option, the gcc flags it adds, a program that uses it."""

    option: str
    flags: tuple[str, ...]
    body: str  # C statements; ``volatile`` results so the compiler keeps the instruction
    needs: tuple[str, ...] = ()
    prelude: str = ""


# The x86 families of ggml-cpu/CMakeLists.txt (GGML_NATIVE=OFF branch), with the exact flags each adds.
FAMILIES: tuple[Family, ...] = (
    Family("GGML_SSE42", ("-msse4.2",), "volatile __m128i r = _mm_cmpgt_epi64(_mm_set1_epi64x(v), _mm_set1_epi64x(1)); (void)r;"),
    Family("GGML_AVX", ("-mavx",), "volatile __m256 r = _mm256_add_ps(_mm256_set1_ps((float)v), _mm256_set1_ps(1)); (void)r;", ("GGML_SSE42",)),
    Family("GGML_F16C", ("-mf16c",), "volatile __m256 r = _mm256_cvtph_ps(_mm_set1_epi16((short)v)); (void)r;", ("GGML_AVX",)),
    Family("GGML_FMA", ("-mfma",), "volatile __m256 r = _mm256_fmadd_ps(_mm256_set1_ps((float)v), _mm256_set1_ps(2), _mm256_set1_ps(1)); (void)r;", ("GGML_AVX",)),
    Family("GGML_BMI2", ("-mbmi2",), "volatile unsigned r = _pdep_u32((unsigned)v, 0xF0F0u); (void)r;"),
    Family("GGML_AVX2", ("-mavx2",), "volatile __m256i r = _mm256_add_epi32(_mm256_set1_epi32(v), _mm256_set1_epi32(1)); (void)r;", ("GGML_AVX",)),
    Family("GGML_AVX_VNNI", ("-mavxvnni",), "volatile __m256i r = _mm256_dpbusd_avx_epi32(_mm256_set1_epi32(v), _mm256_set1_epi32(2), _mm256_set1_epi32(3)); (void)r;", ("GGML_AVX2",)),
    Family(
        "GGML_AVX512", ("-mavx512f", "-mavx512cd", "-mavx512vl", "-mavx512dq", "-mavx512bw"),
        "__m512i a = _mm512_set1_epi32(v); volatile __m512i r = _mm512_add_epi8(_mm512_conflict_epi32(a), _mm512_and_epi64(a, a));"
        " volatile __m256i s = _mm256_maskz_add_epi32(0x5, _mm256_set1_epi32(v), _mm256_set1_epi32(1)); (void)r; (void)s;",
        ("GGML_AVX2",),
    ),
    Family("GGML_AVX512_VBMI", ("-mavx512vbmi",), "volatile __m512i r = _mm512_permutexvar_epi8(_mm512_set1_epi8(1), _mm512_set1_epi8((char)v)); (void)r;", ("GGML_AVX512",)),
    Family("GGML_AVX512_VNNI", ("-mavx512vnni",), "volatile __m512i r = _mm512_dpbusd_epi32(_mm512_set1_epi32(v), _mm512_set1_epi32(2), _mm512_set1_epi32(3)); (void)r;", ("GGML_AVX512",)),
    Family("GGML_AVX512_BF16", ("-mavx512bf16",), "volatile __m512bh r = _mm512_cvtne2ps_pbh(_mm512_set1_ps((float)v), _mm512_set1_ps(1)); (void)r;", ("GGML_AVX512",)),
    Family("GGML_AMX_TILE", ("-mamx-tile",), "if (amx_setup()) return 1; _tile_zero(0); _tile_release();", ("GGML_AVX512",), _AMX_SETUP),
    Family("GGML_AMX_INT8", ("-mamx-int8",), "if (amx_setup()) return 1; _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_dpbssd(0, 1, 2); _tile_release();", ("GGML_AMX_TILE",), _AMX_SETUP),
    Family("GGML_AMX_BF16", ("-mamx-bf16",), "if (amx_setup()) return 1; _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_dpbf16ps(0, 1, 2); _tile_release();", ("GGML_AMX_TILE",), _AMX_SETUP),
)


def is_x86() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64", "i686", "i386")


@dataclass(frozen=True)
class ProbeResult:
    option: str
    ok: bool
    why: str  # "runs", "compiler lacks -mxxx", "SIGILL", "exit 1", ...


def probe_family(family: Family, workdir: Path, cc: str = "gcc", base_flags: tuple[str, ...] = ()) -> ProbeResult:
    """Compile a program using ``family`` with the flags llama.cpp would add (those of the families that
    already passed, as llama.cpp compiles with all of them at once, plus its own), run it, report."""
    src = workdir / f"{family.option.lower()}.c"
    exe = workdir / family.option.lower()
    src.write_text(
        "#include <immintrin.h>\n" + family.prelude + "\nint main(int argc, char **argv) { int v = argc + (argv != 0);\n"
        + family.body + "\nreturn 0; }\n"
    )
    built = subprocess.run([cc, "-O1", *base_flags, *family.flags, str(src), "-o", str(exe)], capture_output=True, text=True)
    if built.returncode != 0:
        first = (built.stderr.strip().splitlines() or ["?"])[0]
        return ProbeResult(family.option, False, f"does not compile ({first[:120]})")
    try:
        ran = subprocess.run([str(exe)], capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        return ProbeResult(family.option, False, "hung")
    if ran.returncode == 0:
        return ProbeResult(family.option, True, "runs")
    if ran.returncode < 0:
        return ProbeResult(family.option, False, signal.Signals(-ran.returncode).name)
    return ProbeResult(family.option, False, f"refused by the kernel (exit {ran.returncode})")


def probe(cc: str = "gcc") -> list[ProbeResult]:
    """Every x86 family, probed in order; a family whose prerequisite failed is not run. Probed once per
    process (``verify`` asks for the CMake arguments several times while it falls back)."""
    return list(_probe(FAMILIES, cc))


@functools.cache
def _probe(families: tuple[Family, ...], cc: str) -> tuple[ProbeResult, ...]:
    results: dict[str, ProbeResult] = {}
    with tempfile.TemporaryDirectory(prefix="learnact-cpu-probe-") as tmp:
        for family in families:
            missing = [n for n in family.needs if not results[n].ok]
            passed = tuple(flag for f in families if f.option in results and results[f.option].ok for flag in f.flags)
            results[family.option] = (
                ProbeResult(family.option, False, f"needs {missing[0]}") if missing else probe_family(family, Path(tmp), cc, passed)
            )
    return tuple(results.values())


def probed_args(results: list[ProbeResult] | None = None) -> list[str]:
    """The CMake arguments the probe gives: ``$LEARNACT_CMAKE_ARGS`` if set, else the families that ran."""
    if os.environ.get("LEARNACT_CMAKE_ARGS"):
        return os.environ["LEARNACT_CMAKE_ARGS"].split()
    if not is_x86():
        return list(BASE_CMAKE_ARGS)
    results = probe() if results is None else results
    return [*BASE_CMAKE_ARGS, "-DGGML_NATIVE=OFF", *(f"-D{r.option}={'ON' if r.ok else 'OFF'}" for r in results)]


# What to turn off, in order, when a build whose families all passed the probe still crashes in the real
# runtime. Measured here: ggml's AMX kernels die of SIGILL (``tilezero`` in a worker thread) on a VM where
# every AMX instruction runs in a test program, the kernel's permission asked first: the VM loses the
# tile configuration ggml loads once per thread. Only the real runtime on a real prompt shows it.
FALLBACKS: tuple[tuple[str, ...], ...] = (
    ("GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16"),
    ("GGML_AVX512_VBMI", "GGML_AVX512_VNNI", "GGML_AVX512_BF16"),
    ("GGML_AVX512",),
    ("GGML_AVX_VNNI",),
)


def without(args: list[str], options: tuple[str, ...]) -> list[str]:
    """``args`` with ``options`` OFF, and with them every family that needs one of them."""
    off = set(options)
    for family in FAMILIES:  # in order: prerequisites come first
        if any(n in off for n in family.needs):
            off.add(family.option)
    return [f"-D{a.split('=')[0][2:]}=OFF" if a.startswith("-D") and a.split("=")[0][2:] in off else a for a in args]


def machine_id() -> str:
    """This machine's CPU as a build sees it (model, advertised flags) and its kernel."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    first = [line for line in cpuinfo.splitlines() if line.startswith(("model name", "flags"))][:2]
    return hashlib.sha256("\n".join([*first, platform.release(), platform.machine()]).encode()).hexdigest()[:16]


def _crash_file() -> Path:
    return cache_root() / "crashed.json"


def crashed_here() -> list[str]:
    """The builds (their CMake arguments, joined) that crashed in the real runtime on this machine."""
    try:
        return json.loads(_crash_file().read_text()).get(machine_id(), [])
    except (OSError, ValueError):
        return []


def record_crash(args: list[str]) -> None:
    path = _crash_file()
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    known.setdefault(machine_id(), []).append(" ".join(args))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(known, indent=1))


def cmake_args(results: list[ProbeResult] | None = None) -> list[str]:
    """The CMake arguments to build with here: the probed ones, minus the fallbacks a crash on this
    machine has already called for (``crashed.json`` in the wheel cache)."""
    args = probed_args(results)
    crashed = set(crashed_here())
    for options in FALLBACKS:
        if " ".join(args) not in crashed:
            break
        args = without(args, options)
    return args


def cache_root() -> Path:
    return Path(os.environ.get("LEARNACT_WHEEL_CACHE") or Path.home() / ".cache" / "learnact" / "wheels")


def cache_key(args: list[str], python: str) -> str:
    tag = subprocess.run(
        [python, "-c", "import sys, platform; print(sys.implementation.cache_tag, platform.machine())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    material = json.dumps({"package": PACKAGE, "version": VERSION, "cmake_args": args, "python": tag}, sort_keys=True)
    return f"{PACKAGE}-{VERSION}-" + hashlib.sha256(material.encode()).hexdigest()[:16]


def cached_wheel(key: str) -> Path | None:
    wheels = sorted((cache_root() / key).glob("*.whl"))
    return wheels[0] if wheels else None


def build_wheel(args: list[str], python: str, key: str) -> Path:
    """Compile the wheel with ``args`` (pip's wheel cache bypassed) and keep it under the cache key."""
    target = cache_root() / key
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="learnact-wheel-") as tmp:
        env = {**os.environ, "CMAKE_ARGS": " ".join(args), "FORCE_CMAKE": "1"}
        cmd = [python, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "--no-binary", PACKAGE, "-w", tmp, f"{PACKAGE}=={VERSION}"]
        print(f"building {PACKAGE} {VERSION} (a few minutes) with CMAKE_ARGS={env['CMAKE_ARGS']}", flush=True)
        subprocess.run(cmd, env=env, check=True)
        built = sorted(Path(tmp).glob("*.whl"))
        if not built:
            raise SystemExit(f"pip wheel produced no wheel in {tmp}")
        final = target / built[0].name
        shutil.move(str(built[0]), final)
    (target / "build.json").write_text(json.dumps({"cmake_args": args, "version": VERSION}, indent=1))
    return final


def wheel_for(args: list[str], python: str, *, rebuild: bool = False) -> tuple[Path, bool]:
    """The wheel built with ``args`` for ``python``: the cached one, else a fresh build; (wheel, built now)."""
    key = cache_key(args, python)
    wheel = None if rebuild else cached_wheel(key)
    if wheel is not None:
        return wheel, False
    return build_wheel(args, python, key), True


def install(python: str, *, rebuild: bool = False) -> Path:
    """Install llama-cpp-python built for this machine into ``python``'s environment."""
    args = cmake_args()
    wheel, built = wheel_for(args, python, rebuild=rebuild)
    if not built:
        print(f"{PACKAGE}: the wheel cached for these build flags ({wheel})", flush=True)
    subprocess.run([python, "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", str(wheel)], check=True)
    # The [server] extra's dependencies (fastapi, uvicorn, ...) and the package's own, resolved normally:
    # 0.3.36 is installed, so pip does not build it again.
    subprocess.run([python, "-m", "pip", "install", "-q", f"{PACKAGE}[server]=={VERSION}"], check=True)
    return wheel


# -- the one-token check -----------------------------------------------------------------------------

_ONE_TOKEN = """
import sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=512, n_threads=2, verbose=False)
out = llm.create_completion(sys.argv[2], max_tokens=2, temperature=0)
print(repr(out["choices"][0]["text"]))
"""


def check(python: str, model_file: str, timeout_s: float = 300) -> tuple[bool, str, bool]:
    """Run the installed runtime on a short prompt of ``model_file`` in a child: (ok, one line, died of a
    signal that will repeat)."""
    try:
        ran = subprocess.run([python, "-c", _ONE_TOKEN, model_file, CHECK_PROMPT], capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return False, f"the embedded runtime did not answer a short prompt within {timeout_s:.0f} s", False
    if ran.returncode == 0:
        return True, f"the embedded runtime runs here (reply: {ran.stdout.strip()})", False
    reason = crash_reason(ran.returncode)
    if reason:
        return False, reason, True
    tail = " | ".join(ran.stderr.strip().splitlines()[-2:])
    return False, f"the embedded runtime failed (exit {ran.returncode}): {tail}", False


def verify(python: str, model_file: str) -> tuple[bool, str]:
    """Check the installed runtime; while it crashes, record the crash for this machine and install the
    next fallback build (AMX off, then the AVX-512 extensions, ...). (ok, one line)."""
    while True:
        ok, line, crashed = check(python, model_file)
        if ok or not crashed:
            return ok, line
        failed = cmake_args()
        record_crash(failed)
        following = cmake_args()
        if following == failed:  # nothing left to turn off (or the flags were given explicitly)
            return False, line
        turned_off = ", ".join(a[2:].removesuffix("=OFF") for a in following if a not in failed)
        print(f"the runtime crashed on a test prompt; building it again without {turned_off}", flush=True)
        install(python)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m llm.runtime_build", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("probe", help="print which instruction families run here and the CMake arguments")
    inst = sub.add_parser("install", help="install llama-cpp-python built for this machine (cached wheel)")
    inst.add_argument("--python", default=sys.executable, help="the interpreter of the venv to install into")
    inst.add_argument("--rebuild", action="store_true", help="compile again even if a cached wheel matches")
    chk = sub.add_parser("check", help="run the installed runtime on one token of a GGUF file")
    chk.add_argument("model_file", nargs="?", help="a GGUF file (default: the embedded model, assembled if needed)")
    chk.add_argument("--embedded", action="store_true", help="check on the embedded model (the default)")
    chk.add_argument("--python", default=sys.executable)
    chk.add_argument("--fix", action="store_true", help="on a crash, build again without the failing families (make setup)")
    opts = parser.parse_args(argv)
    if opts.command == "probe":
        results = probe() if is_x86() else []
        for r in results:
            print(f"{r.option:18} {'yes' if r.ok else 'no ':3}  {r.why}")
        print("CMAKE_ARGS=" + " ".join(cmake_args(results)))
        return 0
    if opts.command == "install":
        install(opts.python, rebuild=opts.rebuild)
        return 0
    model_file = opts.model_file
    if not model_file:
        from .model_file import ensure_model_file  # needs the venv (the model's parts), not the runtime

        model_file = str(ensure_model_file())
    ok, line = verify(opts.python, model_file) if opts.fix else check(opts.python, model_file)[:2]
    print(line, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
