"""Files, the one way: atomic writes, content hashes and the cache directory.

- `atomic_write(path, data)`: a temporary file with a unique name in the same folder,
  fsync, `os.replace`. Readers see the old file or the new one, never a torn one, and two
  writers never share a temporary file.
- `sha256_file(path)` / `sha256_bytes(data)`: hex digests (files read in 1 MB chunks).
- `cache_dir(kind)`: `$WEBJUDGE_CACHE_DIR/<kind>`, else `~/.cache/webjudge/<kind>`
  (`features`: reference features and filmstrips, `llm`: model responses, `ocr`,
  `previews`: browser-playable videos made by `judge view`, `libs`: the offline library mirror,
  `judge.browser.mirror`, `tasks`: task folders a Ray worker received, by tree hash,
  `judge.executors.ray_actor`).
- `tree_sha256(folder)`: one digest of every file under a folder (relative paths and
  contents; remembered per process while no file's size or mtime changes).
- `code_sha256(*modules)`: one digest of the source of modules and packages of ours
  (`.py` and `.js` files), for provenance stamps.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

CACHE_KINDS = ("features", "llm", "ocr", "previews", "libs", "tasks")


def atomic_write(path: Path | str, data: bytes | str, *, fsync: bool = True) -> Path:
    """Write `path` through a uniquely named temporary file beside it and `os.replace`;
    a failed write leaves the old file as it was (and no temporary file behind)."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path | str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_dir(kind: str) -> Path:
    """The folder for one kind of cache entries (see the module docstring)."""
    if kind not in CACHE_KINDS:
        raise ValueError(f"unknown cache kind {kind!r} (known: {', '.join(CACHE_KINDS)})")
    base = os.environ.get("WEBJUDGE_CACHE_DIR")
    return (Path(base).expanduser() if base else Path.home() / ".cache" / "webjudge") / kind


_TREES: dict[str, tuple[tuple, str]] = {}


def tree_sha256(folder: Path | str) -> str:
    """sha256 over every regular file under `folder`: sorted relative paths and contents
    (hidden files and `__pycache__` skipped)."""
    root = Path(folder).resolve()
    files = sorted(p for p in root.rglob("*") if p.is_file() and not any(
        part.startswith(".") or part == "__pycache__" for part in p.relative_to(root).parts))
    stats = tuple((p.relative_to(root).as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    known = _TREES.get(str(root))
    if known and known[0] == stats:
        return known[1]
    h = hashlib.sha256()
    for p, (rel, _, _) in zip(files, stats):
        h.update(f"{rel}\0{sha256_file(p)}\n".encode())
    _TREES[str(root)] = (stats, h.hexdigest())
    return h.hexdigest()


_CODE: dict[tuple, str] = {}
_ROOT = Path(__file__).resolve().parents[1]


def code_sha256(*modules: str) -> str:
    """sha256 over the source files of `modules` (dotted names of ours: a package means
    every `.py`/`.js` file under it), in sorted order of their paths."""
    key = tuple(sorted(modules))
    if key not in _CODE:
        paths: set[Path] = set()
        for name in key:
            base = _ROOT.joinpath(*name.split("."))
            if base.is_dir():
                paths.update(p for p in base.rglob("*") if p.suffix in (".py", ".js") and "__pycache__" not in p.parts)
            elif base.with_suffix(".py").is_file():
                paths.add(base.with_suffix(".py"))
            else:
                raise ValueError(f"code_sha256: no module or package {name!r}")
        h = hashlib.sha256()
        for p in sorted(paths):
            h.update(f"{p.relative_to(_ROOT).as_posix()}\0{sha256_file(p)}\n".encode())
        _CODE[key] = h.hexdigest()
    return _CODE[key]
