"""Point-tracker interface and the seeding rule shared by all trackers.

``Tracks``: ``tracks (T,N,2) float32`` positions ``(x, y)`` in the pixel
coordinates of the frames given to the tracker (the crop), ``visible (T,N)
bool``.  A track is born at its first visible frame; positions at invisible
steps are unspecified (kept finite).

**Seeding** (``seed_points``): trackers do not use a plain grid, because points
on flat colour (inside a shape or on the background) cannot be tracked (the
aperture problem; with forward-backward checks most of them are lost).  Seeds
are (1) Shi-Tomasi corners and (2) Canny edge pixels, one per ``spacing x
spacing`` cell, both restricted to a mask (the change mask) and kept at least
``spacing`` px away from each other and from points already tracked.  Seeds are
placed on frame 0 *and* later, wherever the image has changed recently
(``changed_since``), so that content entering after frame 0 is tracked too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

__all__ = ["Tracks", "Tracker", "seed_points", "changed_since"]


@dataclass
class Tracks:
    tracks: np.ndarray  # (T, N, 2) float32, x/y in crop pixels
    visible: np.ndarray  # (T, N) bool

    def __post_init__(self) -> None:
        self.tracks = np.asarray(self.tracks, np.float32).reshape(self.visible.shape[0], -1, 2)
        self.visible = np.asarray(self.visible, bool)
        if self.tracks.shape[:2] != self.visible.shape:
            raise ValueError(f"tracks {self.tracks.shape} and visible {self.visible.shape} disagree")

    @property
    def n_frames(self) -> int:
        return self.visible.shape[0]

    @property
    def n_tracks(self) -> int:
        return self.visible.shape[1]

    @classmethod
    def empty(cls, n_frames: int) -> "Tracks":
        return cls(np.zeros((n_frames, 0, 2), np.float32), np.zeros((n_frames, 0), bool))


@runtime_checkable
class Tracker(Protocol):
    name: str

    def track(self, frames: np.ndarray, mask: np.ndarray | None = None) -> Tracks:
        """frames (T,H,W,3) uint8 RGB, mask (H,W) bool or None (= everywhere)."""
        ...


def changed_since(a: np.ndarray, b: np.ndarray, threshold: int = 10, grow: int = 5) -> np.ndarray:
    """uint8 mask of pixels where grey images ``a`` and ``b`` differ by > threshold, dilated."""
    m = (cv2.absdiff(a, b) > threshold).astype(np.uint8)
    if grow > 0 and m.any():
        m = cv2.dilate(m, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    return m


def seed_points(
    grey: np.ndarray,
    mask: np.ndarray | None,
    max_points: int,
    spacing: int = 6,
    existing: np.ndarray | None = None,
) -> np.ndarray:
    """Corner + edge seeds in ``mask`` (uint8/bool, same size) away from ``existing`` (K,2)."""
    h, w = grey.shape
    allowed = np.ones((h, w), np.uint8) if mask is None else (np.asarray(mask) > 0).astype(np.uint8)
    if existing is not None and len(existing):
        pts = np.round(existing).astype(np.int32)
        keep = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
        block = np.zeros((h, w), np.uint8)
        block[pts[keep, 1], pts[keep, 0]] = 1
        block = cv2.dilate(block, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * spacing + 1,) * 2))
        allowed &= 1 - block
    if max_points <= 0 or not allowed.any():
        return np.zeros((0, 2), np.float32)
    corners = cv2.goodFeaturesToTrack(grey, maxCorners=max_points, qualityLevel=0.01,
                                      minDistance=spacing, mask=allowed, blockSize=5)
    corners = np.zeros((0, 2), np.float32) if corners is None else corners.reshape(-1, 2)
    # Edge samples: one Canny pixel per spacing x spacing cell not already holding a corner.
    edges = cv2.Canny(grey, 30, 90) & (allowed * 255)
    ys, xs = np.nonzero(edges)
    if len(xs):
        cell = (ys // spacing) * ((w + spacing - 1) // spacing) + xs // spacing
        taken = set(((corners[:, 1].astype(int) // spacing) * ((w + spacing - 1) // spacing)
                     + corners[:, 0].astype(int) // spacing).tolist())
        _, first = np.unique(cell, return_index=True)
        first = np.array([i for i in first if cell[i] not in taken], dtype=np.int64)
        edge_pts = np.stack([xs[first], ys[first]], axis=1).astype(np.float32) if len(first) else np.zeros((0, 2), np.float32)
    else:
        edge_pts = np.zeros((0, 2), np.float32)
    room = max_points - len(corners)
    if len(edge_pts) > room:
        edge_pts = edge_pts[np.linspace(0, len(edge_pts) - 1, max(room, 0)).astype(int)] if room > 0 else edge_pts[:0]
    return np.concatenate([corners, edge_pts]).astype(np.float32)
