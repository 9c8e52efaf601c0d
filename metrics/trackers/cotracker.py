"""CoTracker3 backend (the paper's tracker) from the user's own checkout.

CoTracker's code and weights are CC-BY-NC 4.0 and not on PyPI, so this is
never a dependency: the user points us at a local clone of
github.com/facebookresearch/co-tracker (arg ``repo_dir`` or env
``WEBJUDGE_COTRACKER_DIR``; imported by putting it on ``sys.path``) and a
checkpoint file (arg ``checkpoint`` or env ``WEBJUDGE_COTRACKER_CKPT``, e.g.
``scaled_offline.pth``).  Nothing is downloaded.

``track(frames, mask)``:

* frames are shrunk by the integer factor ``ceil(max(H,W)/work_size)``
  (``work_size=512``; CoTracker resizes to its own 384x512 anyway) and passed
  as a float tensor (1, T, 3, h, w) in [0, 255];
* queries ``(t, x, y)``: a ``grid_size x grid_size`` grid on frame 0 kept where
  the (dilated) change mask is set, plus corner/edge seeds
  (:func:`metrics.trackers.base.seed_points`) every ``reseed_every`` frames in
  the area that changed since the previous check, so content that appears later
  is tracked from when it appears (at most ``max_new`` per check and
  ``max_queries`` = 400 in all; a moving element may get several queries, each
  a separate tracklet from its own frame on -- the same rule for reference and
  candidate);
* ``CoTrackerPredictor(checkpoint=..., window_len=60[, offline=True])`` and
  ``model(video, queries=queries)`` -> tracks (1,T,N,2), visibility (1,T,N);
  steps before a query's frame are marked invisible; positions are mapped back
  to input pixels.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
import os
import sys
from pathlib import Path

import cv2
import numpy as np

from ..embedders.base import BackendUnavailable
from .base import Tracks, changed_since, seed_points

__all__ = ["CoTrackerTracker", "availability", "ENV_DIR", "ENV_CKPT"]

ENV_DIR = "WEBJUDGE_COTRACKER_DIR"
ENV_CKPT = "WEBJUDGE_COTRACKER_CKPT"


def _paths(repo_dir, checkpoint) -> tuple[Path | None, Path | None]:
    r = repo_dir if repo_dir is not None else os.environ.get(ENV_DIR)
    c = checkpoint if checkpoint is not None else os.environ.get(ENV_CKPT)
    return (Path(r).expanduser() if r else None, Path(c).expanduser() if c else None)


def availability(repo_dir=None, checkpoint=None) -> tuple[bool, str]:
    """``(ok, reason)``: checkout, checkpoint and torch present (nothing is imported)."""
    if importlib.util.find_spec("torch") is None:
        return False, "python package 'torch' is not installed"
    repo, ckpt = _paths(repo_dir, checkpoint)
    if repo is None:
        return False, f"no co-tracker checkout: pass repo_dir or set {ENV_DIR}"
    if not (repo / "cotracker" / "predictor.py").is_file():
        return False, f"{repo} is not a co-tracker checkout (no cotracker/predictor.py)"
    if ckpt is None:
        return False, f"no checkpoint: pass checkpoint or set {ENV_CKPT}"
    if not ckpt.is_file():
        return False, f"checkpoint {ckpt} does not exist"
    return True, f"co-tracker checkout {repo}, checkpoint {ckpt.name}"


def _import_predictor(repo: Path):
    """Import ``cotracker.predictor`` from ``repo`` (dropping a ``cotracker`` loaded from elsewhere)."""
    mod = sys.modules.get("cotracker")
    if mod is not None and not str(getattr(mod, "__file__", "") or "").startswith(str(repo)):
        for name in [n for n in sys.modules if n == "cotracker" or n.startswith("cotracker.")]:
            del sys.modules[name]
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    return importlib.import_module("cotracker.predictor").CoTrackerPredictor


class CoTrackerTracker:
    def __init__(self, repo_dir=None, checkpoint=None, grid_size: int = 10, window_len: int = 60,
                 device: str = "cpu", work_size: int = 512, reseed_every: int = 10, max_new: int = 32,
                 max_queries: int = 400):
        ok, reason = availability(repo_dir, checkpoint)
        if not ok:
            raise BackendUnavailable(f"CoTracker unavailable: {reason}")
        self.repo, self.checkpoint = _paths(repo_dir, checkpoint)
        self.grid_size, self.device, self.work_size = grid_size, device, work_size
        self.reseed_every, self.max_new, self.max_queries = reseed_every, max_new, max_queries
        self.name = f"cotracker3:{self.checkpoint.stem}"
        predictor = _import_predictor(self.repo)
        kwargs = {"checkpoint": str(self.checkpoint), "window_len": window_len}
        if "offline" in inspect.signature(predictor.__init__).parameters:
            kwargs["offline"] = True
        self.model = predictor(**kwargs).to(device).eval()

    def _queries(self, grey: list[np.ndarray], mask: np.ndarray) -> np.ndarray:
        h, w = grey[0].shape
        g = self.grid_size
        xs = (np.arange(g) + 0.5) * w / g
        ys = (np.arange(g) + 0.5) * h / g
        gx, gy = np.meshgrid(xs, ys)
        grid = np.stack([gx.ravel(), gy.ravel()], 1)
        grid = grid[mask[grid[:, 1].astype(int), grid[:, 0].astype(int)] > 0]
        q = [np.column_stack([np.zeros(len(grid)), grid])]
        room = self.max_queries - len(grid)
        for t in range(self.reseed_every, len(grey), self.reseed_every):
            region = changed_since(grey[t], grey[t - self.reseed_every]) & mask
            if region.any() and room > 0:
                pts = seed_points(grey[t], region, min(self.max_new, room))
                q.append(np.column_stack([np.full(len(pts), float(t)), pts]))
                room -= len(pts)
        return np.concatenate(q).astype(np.float32)

    def track(self, frames: np.ndarray, mask: np.ndarray | None = None) -> Tracks:
        import torch

        t_len, h, w = frames.shape[:3]
        k = max(1, math.ceil(max(h, w) / self.work_size))
        size = (max(w // k, 1), max(h // k, 1))
        small = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) if k > 1 else np.asarray(f)
                          for f in frames])
        grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in small]
        if mask is None:
            wmask = np.ones(grey[0].shape, np.uint8)
        else:
            wmask = cv2.resize(np.asarray(mask, np.uint8), size, interpolation=cv2.INTER_AREA)
            wmask = cv2.dilate((wmask > 0).astype(np.uint8), np.ones((5, 5), np.uint8))
        queries = self._queries(grey, wmask)
        if len(queries) == 0:
            return Tracks.empty(t_len)
        video = torch.from_numpy(small).permute(0, 3, 1, 2)[None].float().to(self.device)
        with torch.no_grad():
            tr, vis = self.model(video, queries=torch.from_numpy(queries)[None].to(self.device))
        tr = tr[0].float().cpu().numpy()
        vis = vis[0].cpu().numpy().astype(bool)
        born = queries[:, 0].astype(int)
        vis &= np.arange(t_len)[:, None] >= born[None, :]
        tr = np.where(vis[..., None], (tr + 0.5) * k - 0.5, 0.0)
        return Tracks(tr.astype(np.float32), vis)
