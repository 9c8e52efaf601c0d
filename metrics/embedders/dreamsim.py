"""DreamSim backend (the paper's appearance embedding), weights from a local cache dir.

Uses the real ``dreamsim`` package and its own loader
``dreamsim.dreamsim(pretrained=True, device=..., cache_dir=..., dreamsim_type=...)``
but never lets it download: before calling it we check that every file its
loader (and torch.hub, for DINO branches) will open is already in the cache
dir, and raise :class:`BackendUnavailable` naming what is missing otherwise.

* Cache dir: the ``cache_dir`` argument, else env ``WEBJUDGE_DREAMSIM_DIR``.
* Files per ``dreamsim_type`` (from ``dreamsim/model.py: download_weights`` and
  ``feature_extraction/*``): ensemble -> ``dino_vitb16_pretrain.pth``,
  ``clip_vitb16_pretrain.pth.tar``, ``open_clip_vitb16_pretrain.pth.tar``,
  ``ensemble_lora/``; single branch ``<x>`` -> ``<x>_pretrain.pth.tar`` +
  ``<x>_single_lora/``; a LoRA dir holds ``adapter_config.json`` and
  ``adapter_model.safetensors`` (or ``.bin``).  Branches built with ``torch.hub`` (DINO, DINOv2) also
  need the hub repo and checkpoint under the cache dir (it is used as the hub
  dir, so it must be writable): ``facebookresearch_dino_main/`` +
  ``checkpoints/dino_vitbase16_pretrain.pth`` (DINO) or
  ``facebookresearch_dinov2_main/`` + ``checkpoints/dinov2_vitb14_pretrain.pth``
  (DINOv2; torch.hub first probes github.com for the default branch, which
  fails fast offline and falls back to the cached repo).
* Preprocessing: frames (N,H,W,3) uint8 -> resized to 224x224 with
  ``cv2.INTER_AREA`` (an anti-aliased downscale, the closest cv2 match to the
  PIL bicubic resize of dreamsim's own ``preprocess``) -> float (B,3,224,224)
  in [0,1].
* Only distinct frames are embedded: frames are hashed after the 224x224
  resize and each distinct one runs through the model once (animations hold
  still for long stretches; CPU cost is ~1.4 s/frame for the ensemble).
* Output: ``model.embed`` (dreamsim's ``normalize_embeds=True``: mean removed,
  unit norm), float32, re-normalised.  ``name`` = ``"dreamsim:<type>"``.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import cv2
import numpy as np

from .base import BackendUnavailable, frame_batch, l2_normalise

__all__ = ["DreamSimEmbedder", "required_files", "availability", "ENV_DIR"]

ENV_DIR = "WEBJUDGE_DREAMSIM_DIR"
_IMG = 224

_WEIGHTS = {
    "ensemble": ["dino_vitb16_pretrain.pth", "clip_vitb16_pretrain.pth.tar",
                 "open_clip_vitb16_pretrain.pth.tar", "ensemble_lora/"],
    "dino_vitb16": ["dino_vitb16_pretrain.pth", "dino_vitb16_single_lora/"],
    "dinov2_vitb14": ["dinov2_vitb14_pretrain.pth", "dinov2_vitb14_single_lora/"],
    "open_clip_vitb32": ["open_clip_vitb32_pretrain.pth.tar", "open_clip_vitb32_single_lora/"],
    "clip_vitb32": ["clip_vitb32_pretrain.pth.tar", "clip_vitb32_single_lora/"],
    "synclr_vitb16": ["synclr_vit_b_16.pth", "synclr_vitb16_single_lora/"],
}
_ADAPTER_FILES = ("adapter_model.safetensors", "adapter_model.bin")
_HUB_DINO = ["facebookresearch_dino_main/hubconf.py", "checkpoints/dino_vitbase16_pretrain.pth"]
_HUB_DINOV2 = ["facebookresearch_dinov2_main/hubconf.py", "checkpoints/dinov2_vitb14_pretrain.pth"]


def required_files(dreamsim_type: str) -> list[str]:
    """Paths (relative to the cache dir; trailing ``/`` = directory) the loader needs."""
    if dreamsim_type not in _WEIGHTS:
        raise ValueError(f"unknown dreamsim_type {dreamsim_type!r}; known: {sorted(_WEIGHTS)}")
    files = list(_WEIGHTS[dreamsim_type])
    if dreamsim_type in ("ensemble", "dino_vitb16"):
        files += _HUB_DINO
    elif dreamsim_type == "dinov2_vitb14":
        files += _HUB_DINOV2
    lora = next(f for f in files if f.endswith("lora/"))
    files.append(lora + "adapter_config.json")
    return files


def _resolve_dir(cache_dir: str | os.PathLike | None) -> Path | None:
    d = cache_dir if cache_dir is not None else os.environ.get(ENV_DIR)
    return Path(d).expanduser() if d else None


def _missing(cache: Path, dreamsim_type: str) -> list[str]:
    out = []
    for rel in required_files(dreamsim_type):
        p = cache / rel.rstrip("/")
        if not (p.is_dir() if rel.endswith("/") else p.is_file()):
            out.append(rel)
    # peft falls back to the Hugging Face hub when the adapter weights are absent
    lora = next(r for r in _WEIGHTS[dreamsim_type] if r.endswith("lora/"))
    if (cache / lora).is_dir() and not any((cache / lora / f).is_file() for f in _ADAPTER_FILES):
        out.append(f"{lora}{_ADAPTER_FILES[0]} (or {_ADAPTER_FILES[1]})")
    return out


def availability(cache_dir: str | os.PathLike | None = None, dreamsim_type: str = "ensemble") -> tuple[bool, str]:
    """``(ok, reason)``: packages located, weight files present, then ``import dreamsim`` tried."""
    import importlib.util

    for mod in ("torch", "torchvision", "dreamsim", "peft", "yaml"):
        if importlib.util.find_spec(mod) is None:
            return False, f"python package {mod!r} is not installed (pip install 'webjudge[dreamsim]')"
    cache = _resolve_dir(cache_dir)
    if cache is None:
        return False, f"no weights dir: pass cache_dir or set {ENV_DIR}"
    if not cache.is_dir():
        return False, f"weights dir {cache} does not exist"
    try:
        missing = _missing(cache, dreamsim_type)
    except ValueError as e:
        return False, str(e)
    if missing:
        return False, f"missing in {cache}: {', '.join(missing)}"
    try:  # the weights are there: make sure the stack really imports (torchvision builds differ)
        import dreamsim  # noqa: F401
    except Exception as e:  # pragma: no cover - depends on the installed wheels
        return False, f"'import dreamsim' failed: {type(e).__name__}: {e}"
    return True, f"dreamsim {dreamsim_type} weights in {cache}"


def preprocess(frames: np.ndarray) -> np.ndarray:
    """(N,H,W,3) uint8 -> (N,224,224,3) uint8 (INTER_AREA resize)."""
    out = np.empty((len(frames), _IMG, _IMG, 3), np.uint8)
    for i, f in enumerate(frames):
        out[i] = cv2.resize(np.ascontiguousarray(f), (_IMG, _IMG), interpolation=cv2.INTER_AREA)
    return out


class DreamSimEmbedder:
    """DreamSim through its own loader; see module docstring. Loads eagerly."""

    def __init__(self, cache_dir: str | os.PathLike | None = None, dreamsim_type: str = "ensemble",
                 device: str = "cpu", batch_size: int = 8):
        ok, reason = availability(cache_dir, dreamsim_type)
        if not ok:
            raise BackendUnavailable(f"DreamSim unavailable: {reason}")
        import torch  # noqa: F401  (heavy imports only once the files are known to be there)
        from dreamsim import dreamsim as load_dreamsim

        self.cache_dir = _resolve_dir(cache_dir)
        self.dreamsim_type = dreamsim_type
        self.device = device
        self.batch_size = int(batch_size)
        self.name = f"dreamsim:{dreamsim_type}"
        with warnings.catch_warnings():
            # dreamsim wraps the model with get_peft_model before PeftModel.from_pretrained
            warnings.filterwarnings("ignore", message="Already found a `peft_config` attribute")
            self.model, _ = load_dreamsim(pretrained=True, device=device, cache_dir=str(self.cache_dir),
                                          dreamsim_type=dreamsim_type)
        self.model.eval()

    def _embed_batch(self, imgs: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(imgs).to(self.device).permute(0, 3, 1, 2).float().div_(255.0)
        with torch.inference_mode():
            e = self.model.embed(x)
        return e.reshape(len(imgs), -1).float().cpu().numpy()

    def embed(self, frames: np.ndarray) -> np.ndarray:
        frames = frame_batch(frames)
        small = preprocess(frames)
        keys = [hashlib.blake2b(f.tobytes(), digest_size=16).digest() for f in small]
        first: dict[bytes, int] = {}
        for i, k in enumerate(keys):
            first.setdefault(k, i)
        uniq = np.fromiter(first.values(), dtype=np.int64)
        rows = [self._embed_batch(small[uniq[s : s + self.batch_size]])
                for s in range(0, len(uniq), self.batch_size)]
        emb = l2_normalise(np.concatenate(rows)) if rows else np.zeros((0, 1), np.float32)
        slot = {k: j for j, k in enumerate(first)}
        return emb[[slot[k] for k in keys]]
