"""``opencv-lk-v1``: the offline default point tracker (OpenCV pyramidal Lucas-Kanade).

* **Resolution**: frames are converted to grey and shrunk by the integer
  factor ``k = ceil(max(H, W) / work_size)`` (``work_size = 512``; ``INTER_AREA``,
  whose integer-factor path is fast), e.g. 1024x768 -> 512x384.  Returned
  positions are mapped back to input pixels (``x_in = (x_work + 0.5) * k - 0.5``).
* **Seeds**: corners and edge samples inside the (dilated) change mask on frame
  0 (:func:`metrics.trackers.base.seed_points`), and every ``reseed_every``
  frames inside the area that changed over the last ``reseed_every`` frames,
  away from live tracks -- content entering after frame 0 gets tracks.
* **Tracking**: ``cv2.calcOpticalFlowPyrLK`` frame to frame (window
  ``win x win``, ``levels`` pyramid levels, at most 10 iterations per level;
  identical consecutive frames are skipped: nothing moves) with
  a **forward-backward check**: a point survives a step when both passes
  succeed, it stays inside the frame, and tracking it back lands within
  ``fb_max`` work pixels of where it started.  A point that fails is ended
  (invisible from then on); re-seeding picks the content up again.
* **Caps** (cost is linear in live points): at most ``max_live`` (300) points
  tracked at once, ``max_new`` (64) new seeds per re-seeding, ``max_tracks``
  (2000) tracks per video.  Seeds must pass LK's own min-eigenvalue test at
  ``seed_min_eig`` (3e-3): corners and curved edges pass, straight edges (the
  aperture problem) and anti-aliasing jaggies do not.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from .base import Tracks, changed_since, seed_points

__all__ = ["OpenCVTracker"]

_CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 10, 0.03)  # LK iterations per level


def _to_work(frames: np.ndarray, k: int) -> list[np.ndarray]:
    out = []
    for f in frames:
        g = cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)  # cv2 accepts strided crop views
        if k > 1:
            g = cv2.resize(g, (g.shape[1] // k, g.shape[0] // k), interpolation=cv2.INTER_AREA)
        out.append(g)
    return out


class OpenCVTracker:
    name = "opencv-lk-v1"

    def __init__(self, work_size: int = 512, win: int = 15, levels: int = 3, fb_max: float = 1.0,
                 reseed_every: int = 5, max_live: int = 300, max_tracks: int = 2000, max_new: int = 64,
                 spacing: int = 6,
                 change_threshold: int = 10, seed_min_eig: float = 3e-3):
        self.work_size = work_size
        self.win = win
        self.levels = levels
        self.fb_max = fb_max
        self.reseed_every = reseed_every
        self.max_live = max_live
        self.max_tracks = max_tracks
        self.max_new = max_new
        self.spacing = spacing
        self.change_threshold = change_threshold
        self.seed_min_eig = seed_min_eig

    def track(self, frames: np.ndarray, mask: np.ndarray | None = None) -> Tracks:
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"frames must be (T,H,W,3) uint8, got {frames.shape} {frames.dtype}")
        t_len, h, w = frames.shape[:3]
        k = max(1, math.ceil(max(h, w) / self.work_size))
        grey = _to_work(frames, k)
        gh, gw = grey[0].shape
        if mask is None:
            wmask = np.ones((gh, gw), np.uint8)
        else:
            wmask = cv2.resize(np.asarray(mask, np.uint8), (gw, gh), interpolation=cv2.INTER_AREA)
            wmask = cv2.dilate((wmask > 0).astype(np.uint8), np.ones((5, 5), np.uint8))
        if gh < 8 or gw < 8 or not wmask.any():
            return Tracks.empty(t_len)

        win = (self.win, self.win)
        # no pyramid level smaller than ~24 px: coarse estimates on tiny images are garbage
        levels = int(max(0, min(self.levels, math.floor(math.log2(max(min(gh, gw), 1) / 24)))))
        lk = dict(winSize=win, maxLevel=levels, criteria=_CRITERIA)
        pos = np.full((t_len, 64, 2), np.nan, np.float32)  # grows as tracks are born
        n = 0
        live_ids = np.zeros(0, np.int64)

        def add(t: int, pts: np.ndarray) -> None:
            nonlocal n, live_ids, pos
            if len(pts):  # keep seeds LK itself accepts (its min-eigenvalue test on grey[t])
                _, st, _ = cv2.calcOpticalFlowPyrLK(grey[t], grey[t], pts.reshape(-1, 1, 2), None, winSize=win,
                                                    maxLevel=0, minEigThreshold=self.seed_min_eig)
                pts = pts[st.ravel() == 1]
            pts = pts[: max(0, min(self.max_tracks - n, self.max_live - len(live_ids)))]
            if len(pts):
                if n + len(pts) > pos.shape[1]:
                    grown = np.full((t_len, max(2 * pos.shape[1], n + len(pts)), 2), np.nan, np.float32)
                    grown[:, :n] = pos[:, :n]
                    pos = grown
                ids = np.arange(n, n + len(pts))
                pos[t, ids] = pts
                live_ids = np.concatenate([live_ids, ids])
                n += len(pts)

        add(0, seed_points(grey[0], wmask, min(self.max_live, 4 * self.max_new), self.spacing))
        for t in range(1, t_len):
            prev, cur = grey[t - 1], grey[t]
            if len(live_ids) and np.array_equal(prev, cur):  # a pause: nothing moves
                pos[t, live_ids] = pos[t - 1, live_ids]
            elif len(live_ids):
                p0 = pos[t - 1, live_ids].reshape(-1, 1, 2)
                p1, st1, _ = cv2.calcOpticalFlowPyrLK(prev, cur, p0, None, **lk)
                pb, st2, _ = cv2.calcOpticalFlowPyrLK(cur, prev, p1, None, **lk)
                fb = np.linalg.norm((pb - p0).reshape(-1, 2), axis=1)
                q = p1.reshape(-1, 2)
                ok = (st1.ravel() == 1) & (st2.ravel() == 1) & (fb < self.fb_max)
                ok &= (q[:, 0] >= 0) & (q[:, 0] <= gw - 1) & (q[:, 1] >= 0) & (q[:, 1] <= gh - 1)
                live_ids = live_ids[ok]
                pos[t, live_ids] = q[ok]
            if t % self.reseed_every == 0 and n < self.max_tracks and len(live_ids) < self.max_live:
                region = changed_since(cur, grey[t - self.reseed_every], self.change_threshold) & wmask
                if region.any():
                    room = min(self.max_new, self.max_live - len(live_ids))
                    add(t, seed_points(cur, region, room, self.spacing, pos[t, live_ids]))

        tracks = pos[:, :n]
        visible = ~np.isnan(tracks[..., 0])
        tracks = np.where(visible[..., None], (tracks + 0.5) * k - 0.5, 0.0).astype(np.float32)
        return Tracks(tracks, visible)
