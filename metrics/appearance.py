"""Appearance score: do the candidate's frames look like the reference's, in order?

``prepare(frames, embedder)`` (cacheable, one video) -> :class:`AppearanceFeatures`;
``compare(ref, cand)`` -> score and diagnostics.

Definitions:

* Each video is cropped to **its own** change box (``metrics.crop``).  A
  *static* video (no box) is cropped to ``fallback_box`` -- the caller passes
  the reference's box (clipped to this video's frame) -- or, without one, the
  full frame; ``static`` is recorded.
* Frames ``0, k, 2k, ...`` (``stride = k``, default 1 = all) are embedded
  with the given embedder (rows L2-normalised).
* Cost ``C[i, j] = 1 - cos(e_ref[i], e_cand[j])``; DTW with steps (1,0),
  (0,1), (1,1), total cost divided by the warping-path length
  (``metrics.dtw``).  **appearance = clip(1 - cost, 0, 1)**.
* Features made by different embedders are not comparable (``ValueError``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .crop import Box, crop, crop_box
from .dtw import dtw
from .embedders.base import Embedder, cosine_distance

__all__ = ["AppearanceFeatures", "prepare", "compare"]


@dataclass
class AppearanceFeatures:
    embeddings: np.ndarray  # (N, D) float32
    frame_indices: np.ndarray  # (N,) int64: which frames were embedded
    box: Box  # the region actually embedded
    static: bool  # True when the video had no change box (box is a fallback)
    n_frames: int
    embedder: str

    def to_npz(self, path) -> None:
        np.savez_compressed(path, embeddings=self.embeddings, frame_indices=self.frame_indices,
                            box=np.array(self.box.as_list(), np.int64), static=self.static,
                            n_frames=self.n_frames, embedder=self.embedder)

    @classmethod
    def from_npz(cls, path) -> "AppearanceFeatures":
        z = np.load(path, allow_pickle=False)
        return cls(z["embeddings"], z["frame_indices"], Box(*map(int, z["box"])), bool(z["static"]),
                   int(z["n_frames"]), str(z["embedder"]))


def prepare(frames: np.ndarray, embedder: Embedder, *, box: Box | None | str = "auto",
            fallback_box: Box | None = None, stride: int = 1) -> AppearanceFeatures:
    """Embed the cropped frames of one video. ``box="auto"`` computes the change box here."""
    t_len, h, w = frames.shape[:3]
    if isinstance(box, str):
        box = crop_box(frames)
    static = box is None
    if static:
        box = fallback_box.clip(h, w) if fallback_box is not None else Box.full(h, w)
    idx = np.arange(0, t_len, max(1, int(stride)), dtype=np.int64)
    emb = embedder.embed(crop(frames[idx] if stride > 1 else frames, box))
    return AppearanceFeatures(np.asarray(emb, np.float32), idx, box, static, t_len, embedder.name)


def compare(ref: AppearanceFeatures, cand: AppearanceFeatures) -> dict:
    """``{"appearance", "dtw_cost", "dtw_path_len"}`` for ``cand`` against ``ref``."""
    if ref.embedder != cand.embedder:
        raise ValueError(f"embeddings from different embedders: {ref.embedder} vs {cand.embedder}")
    cost, path = dtw(cosine_distance(ref.embeddings, cand.embeddings))
    return {"appearance": float(np.clip(1.0 - cost, 0.0, 1.0)), "dtw_cost": float(cost),
            "dtw_path_len": int(len(path))}
