"""Files, the one way: atomic writes, content hashes and the cache directory.

- `atomic_write(path, data)`: a temporary file with a unique name in the same folder,
  fsync, `os.replace`. Readers see the old file or the new one, never a torn one, and two
  writers never share a temporary file.
- `sha256_file(path)` / `sha256_bytes(data)`: hex digests (files read in 1 MB chunks).
- `cache_dir(kind)`: `$WEBJUDGE_CACHE_DIR/<kind>`, else `~/.cache/webjudge/<kind>`
  (`features`: reference features and filmstrips, `llm`: model responses, `ocr`,
  `libs`: the offline library mirror, `judge.browser.mirror`).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

CACHE_KINDS = ("features", "llm", "ocr", "libs")


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
