"""VFS: visual fidelity of the candidate's states against the reference checkpoints.

Checkpoints: the initial state (after load + 1 s) and every action flagged
`visual_check`, paired **by action index** with `Task.checkpoint_path(index)` (IWR-Bench
paired by list position). Per checkpoint, on viewport screenshots:

- `ocr`: 1 - Levenshtein(a, b) / max(len(a), len(b)) of the two OCR texts, lower-cased
  and whitespace-collapsed; both empty -> 1 (IWR-Bench's formula). OCR is Tesseract
  (`/usr/bin/tesseract`, Debian; IWR-Bench used EasyOCR).
- `emb`: cosine similarity of the two frame embeddings, clipped to [0, 1]
  (`metrics.embedders`: DreamSim when its weights exist, else the offline `classic-v1`;
  IWR-Bench used DINOv2).
- `rubric`: the judge model's visual rubric, 0-100 (layout 10, elements 15,
  content/text 40, style 15, overall 20), when a judge model is configured.

`LFS = (ocr + emb) / 2`, `HFS = rubric / 100`, `VFS = 0.5 LFS + 0.5 HFS` when every
scored checkpoint has a rubric, else `VFS = LFS` (recorded as `hfs_used: false`). A
checkpoint the candidate never reached (the page failed before that step, or never
loaded) scores 0 on every component. A checkpoint whose reference screenshot is missing
is skipped and listed. The task's VFS is the mean over its checkpoints.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

TESSERACT = os.environ.get("WEBJUDGE_TESSERACT") or shutil.which("tesseract") or "/usr/bin/tesseract"


class OCRUnavailable(RuntimeError):
    """Tesseract is missing or failed: an infrastructure problem, not the page's."""


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert, delete, substitute: cost 1), one numpy row per character."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    bb = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    idx = np.arange(len(b) + 1, dtype=np.int64)
    prev = idx.copy()
    for i, ch in enumerate(a, 1):
        cur = np.empty_like(prev)
        cur[0] = i
        cur[1:] = np.minimum(prev[1:] + 1, prev[:-1] + (bb != ord(ch)))
        prev = np.minimum.accumulate(cur - idx) + idx      # insertions: min_k<=j cur[k] + (j - k)
    return int(prev[-1])


def normalise_text(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip().lower()


def text_similarity(a: str, b: str) -> float:
    """IWR-Bench: 1 - Levenshtein(a, b) / max(len); lower-cased; both empty -> 1."""
    a, b = normalise_text(a), normalise_text(b)
    if not a and not b:
        return 1.0
    return 1.0 - levenshtein(a, b) / max(len(a), len(b))


@lru_cache(maxsize=1)
def tesseract_version() -> str:
    try:
        out = subprocess.run([TESSERACT, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise OCRUnavailable(f"tesseract not runnable at {TESSERACT}: {e} (apt-get install tesseract-ocr)") from None
    first = (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else "tesseract ?"
    return first.strip()


_OCR_CACHE: dict[str, str] = {}


def _ocr_cache_dir() -> Path:
    base = os.environ.get("WEBJUDGE_CACHE_DIR")
    return (Path(base).expanduser() if base else Path.home() / ".cache" / "webjudge") / "ocr"


def ocr(png: bytes, timeout_s: float = 60.0) -> str:
    """Tesseract's text for a PNG (English, automatic page segmentation), cached by
    content and Tesseract version in memory and in `$WEBJUDGE_CACHE_DIR/ocr`."""
    key = hashlib.sha256(png + tesseract_version().encode()).hexdigest()
    if key in _OCR_CACHE:
        return _OCR_CACHE[key]
    path = _ocr_cache_dir() / f"{key}.txt"
    try:
        _OCR_CACHE[key] = path.read_text(encoding="utf-8")
        return _OCR_CACHE[key]
    except OSError:
        pass
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        out = subprocess.run([TESSERACT, "stdin", "stdout", "-l", "eng", "--psm", "3"], input=png,
                             capture_output=True, timeout=timeout_s, env=env)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise OCRUnavailable(f"tesseract failed: {e}") from None
    if out.returncode != 0:
        raise OCRUnavailable(f"tesseract exited {out.returncode}: {out.stderr.decode(errors='replace')[:200]}")
    text = out.stdout.decode("utf-8", errors="replace")
    if len(_OCR_CACHE) > 512:
        _OCR_CACHE.clear()
    _OCR_CACHE[key] = text
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{key}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass   # a read-only cache only costs time
    return text


def embedding_similarity(embedder, a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of two RGB frames' embeddings (each its own batch), clipped to [0, 1]."""
    ea, eb = embedder.embed(a[None]), embedder.embed(b[None])
    return float(np.clip(float(ea[0] @ eb[0]), 0.0, 1.0))


@dataclass
class CheckpointScore:
    label: str                       # "initial" or "step_<index>"
    index: int | None                # action index (None: initial state)
    reached: bool
    ocr: float = 0.0
    emb: float = 0.0
    rubric: float | None = None      # 0-100, None when no judge model scored it
    lfs: float = 0.0
    hfs: float | None = None
    vfs: float = 0.0

    def finish(self) -> "CheckpointScore":
        self.lfs = (self.ocr + self.emb) / 2.0
        self.hfs = None if self.rubric is None else self.rubric / 100.0
        self.vfs = self.lfs if self.hfs is None else 0.5 * self.lfs + 0.5 * self.hfs
        return self


def unreached(label: str, index: int | None, with_rubric: bool) -> CheckpointScore:
    return CheckpointScore(label, index, False, 0.0, 0.0, 0.0 if with_rubric else None).finish()


def score_pair(label: str, index: int | None, ref_png: bytes, cand_png: bytes, ref_rgb: np.ndarray,
               cand_rgb: np.ndarray, embedder, rubric: float | None = None) -> CheckpointScore:
    """OCR and embedding similarity of one reached checkpoint (rubric given by the caller)."""
    s = CheckpointScore(label, index, True, ocr=text_similarity(ocr(ref_png), ocr(cand_png)),
                        emb=embedding_similarity(embedder, ref_rgb, cand_rgb), rubric=rubric)
    return s.finish()


@dataclass
class VFSResult:
    vfs: float | None
    lfs: float | None
    hfs: float | None
    ocr: float | None
    emb: float | None
    hfs_used: bool
    checkpoints: list[dict] = field(default_factory=list)
    missing_reference: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def aggregate(scores: list[CheckpointScore], missing_reference: list[str] | None = None) -> VFSResult:
    """Means over checkpoints. HFS enters VFS only if every checkpoint has a rubric."""
    missing = list(missing_reference or [])
    if not scores:
        return VFSResult(None, None, None, None, None, False, [], missing)
    hfs_used = all(s.rubric is not None for s in scores)
    if not hfs_used:
        for s in scores:
            s.rubric = None
            s.finish()
    mean = lambda xs: float(np.mean(xs))  # noqa: E731
    return VFSResult(vfs=mean([s.vfs for s in scores]), lfs=mean([s.lfs for s in scores]),
                     hfs=mean([s.hfs for s in scores]) if hfs_used else None,
                     ocr=mean([s.ocr for s in scores]), emb=mean([s.emb for s in scores]), hfs_used=hfs_used,
                     checkpoints=[asdict(s) for s in scores], missing_reference=missing)
