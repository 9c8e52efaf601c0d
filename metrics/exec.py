"""Exec: did the candidate produce an animation page at all?

``exec_result(code_present, fatal_error, frames)`` is ``ok`` when all hold:

1. ``code_present``: code was extracted from the model's answer;
2. ``fatal_error is None``: the page loaded without a fatal error;
3. **something was rendered** (``rendered(frames)``), defined exactly as:
   for some frame ``F[t]``, let ``bg_t`` be its *dominant colour* -- the most
   frequent exact RGB value among the pixels on a 4-pixel grid
   (``F[t][::4, ::4]``); the frame is *rendered* when at least ``min_pixels``
   (16) of all its pixels ``p`` satisfy ``max_c |F[t](p,c) - bg_t(c)| >
   threshold`` (16 on 0..255).  Frames are checked first, last, then the rest
   in order, stopping at the first rendered one.

So a blank page (one flat colour, e.g. white) is not rendered, while a single
16-pixel mark on it is.  Anti-aliasing and JPEG-like noise below 17 levels do
not count.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["ExecResult", "exec_result", "rendered", "frame_rendered"]


@dataclass(frozen=True)
class ExecResult:
    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok


def _dominant_colour(frame: np.ndarray) -> np.ndarray:
    sample = frame[::4, ::4].reshape(-1, 3).astype(np.int32)
    code = (sample[:, 0] << 16) | (sample[:, 1] << 8) | sample[:, 2]
    if (code == code[0]).all():  # flat frame: skip the sort
        c = int(code[0])
    else:
        values, counts = np.unique(code, return_counts=True)
        c = int(values[np.argmax(counts)])
    return np.array([(c >> 16) & 255, (c >> 8) & 255, c & 255], np.int32)


def frame_rendered(frame: np.ndarray, threshold: int = 16, min_pixels: int = 16) -> bool:
    """One frame against its dominant colour (see module docstring)."""
    bg = _dominant_colour(frame)
    lo = tuple(int(v) for v in np.clip(bg - threshold, 0, 255))
    hi = tuple(int(v) for v in np.clip(bg + threshold, 0, 255))
    near = cv2.inRange(frame, lo, hi)  # 255 where every channel is within threshold
    return frame.shape[0] * frame.shape[1] - cv2.countNonZero(near) >= min_pixels


def rendered(frames: np.ndarray, threshold: int = 16, min_pixels: int = 16) -> bool:
    """True when any frame shows something besides its dominant colour."""
    frames = np.asarray(frames)
    if frames.ndim == 3:
        frames = frames[None]
    n = len(frames)
    order = [0, n - 1] + list(range(1, n - 1)) if n > 1 else [0]
    return any(frame_rendered(frames[i], threshold, min_pixels) for i in order)


def exec_result(code_present: bool, fatal_error: str | None, frames: np.ndarray | None) -> ExecResult:
    if not code_present:
        return ExecResult(False, "no code extracted")
    if fatal_error:
        return ExecResult(False, f"fatal page error: {fatal_error}")
    if frames is None or len(frames) == 0:
        return ExecResult(False, "no frames captured")
    if not rendered(frames):
        return ExecResult(False, "nothing rendered: every frame is one flat colour")
    return ExecResult(True, "ok")
