"""Temporal score: how well the candidate's motion matches the reference's.

``prepare(frames, tracker)`` (cacheable, one video) -> :class:`TemporalFeatures`:
crop box (``metrics.crop``), point tracks on the crop (tracked on the box grown
by ``margin`` px so LK windows near the crop border see context; positions are
reported in crop coordinates).  ``compare(ref, cand)`` -> score and diagnostics.

Definitions (``compare``):

* **Time base** ``time_base="absolute"`` (default): step ``t`` of one video is
  compared with step ``t`` of the other; the shorter video is padded with
  invisible frames.  ``"resampled"``: the candidate's tracks are linearly
  resampled to the reference's frame count first (a point is visible at a
  resampled time when the frames on both sides of it are).
* **Scale** ``scale="shared"`` (default): displacements of *both* videos are
  divided by the reference crop's diagonal; ``"own"``: each video by its own
  crop diagonal.
* **Displacement** ``d_t = p_{t+1} - p_t``.  A step where the track is not
  visible at ``t`` or ``t+1`` (before birth, after loss, past the video's end)
  counts as *not moving*.  A step *moves* when visible and
  ``|d_t| > move_eps`` (0.2 px of that video's own pixels, above LK jitter).
* **Tracklet filter**: keep tracks whose largest distance from their birth
  position is >= ``min_extent`` (2 %) of the scale and that move at least once.
  Then at most ``cap`` (256) tracklets per video: an evenly spaced subset in
  track order (cost is ``N_ref x N_cand x T``).
* **Pair score** ``s_t = cos(d_a, d_b) * min(|d_a|,|d_b|) / max(|d_a|,|d_b|)``
  when both move (= ``d_a . d_b / max(|d_a|,|d_b|)^2``), ``0`` when only one
  moves; ``rho(a,b)`` = mean of ``s_t`` over the steps where at least one
  moves (steps where both are still say nothing about motion).
* **Score** ``0.5 * [mean_a max_b rho + mean_b max_a rho]`` clipped to [0, 1].
* **Static**: a candidate without a crop box or without any kept tracklet
  scores 0 and is flagged ``static``.  A reference without kept tracklets
  has no motion to compare against: its temporal score is **undefined**
  (``None``), flagged ``ref_static`` -- e.g. a colour- or opacity-only
  animation, where scoring every candidate 0 (a perfect copy included)
  would be a wrong number. Aggregates skip undefined scores and count them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .crop import Box, box_from_mask, change_mask, crop
from .trackers.base import Tracker

__all__ = ["TemporalFeatures", "prepare", "compare", "pair_correlation", "chamfer"]


@dataclass
class TemporalFeatures:
    tracks: np.ndarray  # (T, N, 2) float32, crop coordinates
    visible: np.ndarray  # (T, N) bool
    box: Box | None
    n_frames: int
    tracker: str

    @property
    def static(self) -> bool:
        return self.box is None

    @property
    def diagonal(self) -> float:
        return self.box.diagonal if self.box is not None else 0.0

    def to_npz(self, path) -> None:
        np.savez_compressed(path, tracks=self.tracks, visible=self.visible, n_frames=self.n_frames,
                            tracker=self.tracker, box=np.array(self.box.as_list() if self.box else [], np.int64))

    @classmethod
    def from_npz(cls, path) -> "TemporalFeatures":
        z = np.load(path, allow_pickle=False)
        b = z["box"]
        return cls(z["tracks"], z["visible"], Box(*map(int, b)) if b.size else None, int(z["n_frames"]),
                   str(z["tracker"]))


def prepare(frames: np.ndarray, tracker: Tracker, *, box: Box | None | str = "auto",
            mask: np.ndarray | None = None, margin: int = 16) -> TemporalFeatures:
    """Track the crop of one video. ``box="auto"`` computes mask and box here."""
    t_len, h, w = frames.shape[:3]
    if isinstance(box, str):
        mask = change_mask(frames) if mask is None else mask
        box = box_from_mask(mask)
    if box is None:
        return TemporalFeatures(np.zeros((t_len, 0, 2), np.float32), np.zeros((t_len, 0), bool), None, t_len,
                                tracker.name)
    region = Box(box.x0 - margin, box.y0 - margin, box.x1 + margin, box.y1 + margin).clip(h, w)
    # seeds only inside the box (and the change mask, when given); the margin is context for LK
    sub_mask = np.zeros((region.height, region.width), bool)
    inner = (slice(box.y0 - region.y0, box.y1 - region.y0), slice(box.x0 - region.x0, box.x1 - region.x0))
    sub_mask[inner] = True if mask is None else crop(mask, box)
    tr = tracker.track(crop(frames, region), sub_mask)  # a view: no copy of the clip
    shift = np.array([region.x0 - box.x0, region.y0 - box.y0], np.float32)
    return TemporalFeatures(tr.tracks + shift, tr.visible, box, t_len, tracker.name)


def _resample(tracks: np.ndarray, visible: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    t_in = len(visible)
    if t_in == n_out or t_in < 2 or n_out < 2:
        return tracks, visible
    tau = np.linspace(0.0, t_in - 1, n_out)
    lo = np.floor(tau).astype(int)
    hi = np.minimum(lo + 1, t_in - 1)
    f = (tau - lo)[:, None, None]
    pos = tracks[lo] * (1 - f) + tracks[hi] * f
    vis = visible[lo] & (visible[hi] | (f[:, :, 0] == 0))
    return pos.astype(np.float32), vis


def _steps(tracks: np.ndarray, visible: np.ndarray, n_frames: int, scale: float, move_eps: float,
           min_extent: float, cap: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Filtered tracklets -> (d (N, S, 2) in scale units, moving (N, S) bool, n_kept_before_cap)."""
    t_len, n = visible.shape
    if t_len < n_frames:  # pad with invisible frames
        tracks = np.concatenate([tracks, np.zeros((n_frames - t_len, n, 2), np.float32)])
        visible = np.concatenate([visible, np.zeros((n_frames - t_len, n), bool)])
    d = tracks[1:] - tracks[:-1]
    ok = visible[1:] & visible[:-1]
    mag = np.linalg.norm(d, axis=-1)
    moving = ok & (mag > move_eps)
    birth = np.argmax(visible, axis=0)
    origin = tracks[birth, np.arange(n)]
    dist = np.where(visible, np.linalg.norm(tracks - origin, axis=-1), 0.0)
    keep = (dist.max(axis=0, initial=0.0) >= min_extent * scale) & moving.any(axis=0)
    idx = np.flatnonzero(keep)
    n_kept = len(idx)
    if n_kept > cap:
        idx = idx[np.linspace(0, n_kept - 1, cap).astype(int)]
    d = np.where(moving[..., None], d, 0.0)[:, idx] / max(scale, 1e-9)
    return np.ascontiguousarray(d.transpose(1, 0, 2)), np.ascontiguousarray(moving[:, idx].T), n_kept


def pair_correlation(da: np.ndarray, ma: np.ndarray, db: np.ndarray, mb: np.ndarray,
                     chunk_elems: int = 1_000_000) -> np.ndarray:
    """rho for all pairs: da (Na,S,2), ma (Na,S) bool, db (Nb,S,2), mb (Nb,S) -> (Na,Nb)."""
    na, s = ma.shape
    nb = mb.shape[0]
    if na == 0 or nb == 0:
        return np.zeros((na, nb), np.float32)
    # 1 / max(|a|^2, |b|^2) = min(1/|a|^2, 1/|b|^2); a still step gets 1/|.|^2 := 0, which
    # makes s_t = 0 whenever either track is still (and d is 0 there anyway).
    da = da.astype(np.float32)
    db = db.astype(np.float32)
    ia = np.where(ma, 1.0 / np.maximum(np.einsum("nsk,nsk->ns", da, da), 1e-30), 0.0).astype(np.float32)
    ib = np.where(mb, 1.0 / np.maximum(np.einsum("nsk,nsk->ns", db, db), 1e-30), 0.0).astype(np.float32)
    maf, mbf = ma.astype(np.float32), mb.astype(np.float32)
    either = maf.sum(1)[:, None] + mbf.sum(1)[None, :] - maf @ mbf.T  # |moving_a OR moving_b|
    num = np.empty((na, nb), np.float32)
    step = max(1, chunk_elems // max(nb * s, 1))
    bx, by = db[None, :, :, 0], db[None, :, :, 1]
    for i in range(0, na, step):
        sl = slice(i, i + step)
        prod = da[sl, None, :, 0] * bx
        prod += da[sl, None, :, 1] * by
        prod *= np.minimum(ia[sl, None, :], ib[None, :, :])
        num[sl] = prod.sum(-1)
    return np.where(either > 0, num / np.maximum(either, 1.0), 0.0).astype(np.float32)


def chamfer(rho: np.ndarray) -> float:
    """0.5 * (mean_a max_b rho + mean_b max_a rho), clipped to [0, 1]; 0 if a side is empty."""
    if rho.size == 0:
        return 0.0
    return float(np.clip(0.5 * (rho.max(axis=1).mean() + rho.max(axis=0).mean()), 0.0, 1.0))


def compare(ref: TemporalFeatures, cand: TemporalFeatures, *, scale: str = "shared",
            time_base: str = "absolute", min_extent: float = 0.02, move_eps: float = 0.2,
            cap: int = 256) -> dict:
    """Temporal score of ``cand`` against ``ref`` (see module docstring)."""
    if scale not in ("shared", "own"):
        raise ValueError("scale must be 'shared' or 'own'")
    if time_base not in ("absolute", "resampled"):
        raise ValueError("time_base must be 'absolute' or 'resampled'")
    out = {"temporal": 0.0, "static": cand.static, "ref_static": ref.static, "scale": scale,
           "time_base": time_base, "tracks_ref": int(ref.visible.shape[1]),
           "tracks_cand": int(cand.visible.shape[1]), "tracklets_ref": 0, "tracklets_cand": 0}
    if ref.static:
        out["temporal"] = None
        return out
    if cand.static:
        return out
    s_ref = ref.diagonal
    s_cand = s_ref if scale == "shared" else cand.diagonal
    c_tracks, c_vis, c_len = cand.tracks, cand.visible, cand.n_frames
    # move_eps is in a video's own pixels; d is compared after dividing by the scale
    if time_base == "resampled":
        c_tracks, c_vis = _resample(c_tracks, c_vis, ref.n_frames)
        c_len = ref.n_frames
    n_frames = max(ref.n_frames, c_len)
    da, ma, ka = _steps(ref.tracks, ref.visible, n_frames, s_ref, move_eps, min_extent, cap)
    db, mb, kb = _steps(c_tracks, c_vis, n_frames, s_cand, move_eps, min_extent, cap)
    out.update(tracklets_ref=ka, tracklets_cand=kb, ref_static=ka == 0, static=kb == 0)
    if ka == 0:
        out["temporal"] = None
        return out
    if kb == 0:
        return out
    out["temporal"] = chamfer(pair_correlation(da, ma, db, mb))
    return out
