"""Crop a video to the region that changes over time.

Definitions (binding for every metric that uses a crop):

* **Change mask** ``change_mask(frames)``: a pixel ``p`` is *changed* when
  ``max_t max_c |F[t](p, c) - F[0](p, c)| > threshold`` with ``threshold = 10``
  on the 0..255 scale (Animation2Code's "~10/255 on any channel").  Computed at
  full resolution (``cv2.absdiff`` + running ``cv2.max``; ~0.1 s for 150 frames
  at 1024x768).
* **Noise removal**: the raw mask is (1) morphologically *opened* with a
  ``open_size x open_size`` square (default 3), which removes changes thinner
  than 3 px in every direction -- isolated pixels and 1-2 px anti-aliasing /
  compression fringes along static edges; then (2) connected components
  (8-connectivity) smaller than ``min_area`` pixels (default 16) are dropped.
  Consequence, on purpose: a change that is at most 2 px wide everywhere (e.g. a
  2 px blinking caret alone) counts as noise.
* **Crop box** ``crop_box(frames)``: the bounding box of the cleaned mask,
  padded by ``pad = 4`` px on each side and clipped to the frame.  ``None``
  when the cleaned mask is empty: the video is *static*.  Each video gets its
  own box, so where an animation sits on the page does not matter.
* ``Box`` uses half-open pixel coordinates ``[x0, x1) x [y0, y1)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["Box", "change_mask", "box_from_mask", "crop_box", "crop"]


@dataclass(frozen=True)
class Box:
    """Axis-aligned box, half-open: columns ``x0..x1-1``, rows ``y0..y1-1``."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def diagonal(self) -> float:
        """Euclidean length of the box diagonal in pixels."""
        return float(np.hypot(self.width, self.height))

    def as_list(self) -> list[int]:
        return [self.x0, self.y0, self.x1, self.y1]

    @classmethod
    def full(cls, height: int, width: int) -> "Box":
        return cls(0, 0, int(width), int(height))

    def clip(self, height: int, width: int) -> "Box":
        """The box intersected with a ``height x width`` frame (never empty)."""
        x0 = min(max(self.x0, 0), width - 1)
        y0 = min(max(self.y0, 0), height - 1)
        x1 = max(min(self.x1, width), x0 + 1)
        y1 = max(min(self.y1, height), y0 + 1)
        return Box(x0, y0, x1, y1)


def _check_frames(frames: np.ndarray) -> None:
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (T,H,W,3) uint8, got {frames.shape} {frames.dtype}")
    if len(frames) == 0:
        raise ValueError("frames is empty")


def raw_change(frames: np.ndarray) -> np.ndarray:
    """``max_t max_c |F[t] - F[0]|`` as (H,W) uint8 (the un-thresholded change)."""
    _check_frames(frames)
    first = np.ascontiguousarray(frames[0])
    acc = np.zeros_like(first)
    for frame in frames[1:]:
        cv2.max(acc, cv2.absdiff(np.ascontiguousarray(frame), first), dst=acc)
    return acc.max(axis=2)


def clean_mask(mask: np.ndarray, open_size: int = 3, min_area: int = 16) -> np.ndarray:
    """Opening with a square of side ``open_size``, then drop components < ``min_area`` px."""
    m = mask.astype(np.uint8)
    if open_size > 1:
        kernel = np.ones((open_size, open_size), np.uint8)
        m = cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel)
    if min_area > 1 and m.any():
        n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        keep = stats[:, cv2.CC_STAT_AREA] >= min_area
        keep[0] = False
        m = keep[labels].astype(np.uint8)
    return m.astype(bool)


def change_mask(
    frames: np.ndarray, threshold: int = 10, open_size: int = 3, min_area: int = 16
) -> np.ndarray:
    """Bool (H,W): pixels whose value moves more than ``threshold`` from frame 0, cleaned."""
    return clean_mask(raw_change(frames) > threshold, open_size, min_area)


def box_from_mask(mask: np.ndarray, pad: int = 4) -> Box | None:
    """Padded bounding box of a bool mask, clipped to it; ``None`` when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    h, w = mask.shape
    return Box(
        max(int(cols[0]) - pad, 0),
        max(int(rows[0]) - pad, 0),
        min(int(cols[-1]) + 1 + pad, w),
        min(int(rows[-1]) + 1 + pad, h),
    )


def crop_box(
    frames: np.ndarray,
    pad: int = 4,
    threshold: int = 10,
    open_size: int = 3,
    min_area: int = 16,
) -> Box | None:
    """The padded box around everything that changes; ``None`` for a static video."""
    return box_from_mask(change_mask(frames, threshold, open_size, min_area), pad)


def crop(frames: np.ndarray, box: Box | None) -> np.ndarray:
    """View of ``frames[..., y0:y1, x0:x1, :]`` (works for (T,H,W,3) and (H,W[,3])).

    ``box=None`` returns the frames unchanged.
    """
    if box is None:
        return frames
    if frames.ndim == 4:
        return frames[:, box.y0 : box.y1, box.x0 : box.x1]
    return frames[box.y0 : box.y1, box.x0 : box.x1]
