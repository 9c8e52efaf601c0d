"""Synthetic animation videos for the metric tests (and sanity tests of the generator).

``scene(...)`` draws a few anti-aliased shapes on a white page with cv2:

* a red square moving right while rotating (ease-in-out),
* a blue disc bouncing vertically (one full sine period),
* a green triangle fading in (alpha 0 -> 1 over the first half) and turning,
* a purple progress bar growing to the right (linear).

No part is time-symmetric, so playing the scene backwards reverses every motion.

Knobs: ``offset`` (move everything on the page), ``speed`` (animation time =
frame time x speed: 1/1.5 = slowed by 1.5), ``reverse`` (play backwards),
``recolour`` (other hues, same motion).  ``entering(...)`` draws one square that
slides in from beyond the left page edge after frame ``start``.

Other metric test modules load this file by path (importlib), so they work
whether or not ``tests/`` is a package.
"""
from __future__ import annotations

import cv2
import numpy as np

WHITE = (255, 255, 255)
COLOURS = {"square": (220, 40, 40), "disc": (40, 80, 220), "tri": (30, 160, 60), "bar": (140, 60, 170)}
RECOLOURS = {"square": (250, 190, 0), "disc": (0, 190, 190), "tri": (230, 90, 180), "bar": (90, 90, 90)}


def _ease(u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * u)


def _rect_pts(cx, cy, w, h, angle_deg):
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a), np.sin(a)
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    rot = corners @ np.array([[c, s], [-s, c]])
    return rot + [cx, cy]


def _poly(img, pts, colour, alpha=1.0):
    p = np.round(np.asarray(pts) * 16).astype(np.int32)
    if alpha >= 1.0:
        cv2.fillPoly(img, [p], colour, lineType=cv2.LINE_AA, shift=4)
        return
    layer = img.copy()
    cv2.fillPoly(layer, [p], colour, lineType=cv2.LINE_AA, shift=4)
    cv2.addWeighted(layer, alpha, img, 1 - alpha, 0, dst=img)


def scene(
    n_frames: int = 120,
    height: int = 384,
    width: int = 512,
    offset: tuple[int, int] = (0, 0),
    speed: float = 1.0,
    reverse: bool = False,
    recolour: bool = False,
    parts: tuple[str, ...] = ("square", "disc", "tri", "bar"),
) -> np.ndarray:
    col = RECOLOURS if recolour else COLOURS
    ox, oy = offset
    frames = np.empty((n_frames, height, width, 3), np.uint8)
    for t in range(n_frames):
        u = (n_frames - 1 - t if reverse else t) / (n_frames - 1) * speed  # animation progress
        img = np.full((height, width, 3), WHITE, np.uint8)
        if "bar" in parts:
            bw = 40 + 120 * min(u, 1.0)  # left end fixed at x=180
            _poly(img, _rect_pts(ox + 180 + bw / 2, oy + 300, bw, 18, 0), col["bar"])
        if "tri" in parts:
            alpha = min(u / 0.5, 1.0)
            a = np.deg2rad(60 * u)
            r = 34
            pts = [(ox + 330 + r * np.cos(a + k * 2 * np.pi / 3), oy + 120 + r * np.sin(a + k * 2 * np.pi / 3)) for k in range(3)]
            if alpha > 0:
                _poly(img, pts, col["tri"], alpha)
        if "disc" in parts:
            cy = oy + 170 - 80 * np.sin(2 * np.pi * min(u, 1.0))
            cv2.circle(img, (int(round((ox + 230) * 16)), int(round(cy * 16))), 26 * 16, col["disc"], -1, cv2.LINE_AA, 4)
        if "square" in parts:
            cx = ox + 70 + 140 * _ease(u)
            _poly(img, _rect_pts(cx, oy + 90, 48, 48, 90 * _ease(u)), col["square"])
        frames[t] = img
    return frames


def entering(n_frames: int = 120, height: int = 384, width: int = 512, start: int = 30, side: int = 60) -> np.ndarray:
    """A teal square starting fully off-page (left), sliding in from frame ``start``, stopping at x=200."""
    frames = np.full((n_frames, height, width, 3), 255, np.uint8)
    for t in range(n_frames):
        u = _ease((t - start) / 60.0)
        x0 = -side - 10 + (200 + side + 10) * u
        _poly(frames[t], _rect_pts(x0 + side / 2, 150, side, side, 0), (0, 150, 150))
        # a second, static element on the page so the page is not empty
        cv2.rectangle(frames[t], (400, 300), (480, 360), (200, 200, 200), -1)
    return frames


def test_scene_is_deterministic_and_animated():
    a = scene(30, 192, 256, parts=("square",))
    b = scene(30, 192, 256, parts=("square",))
    assert a.shape == (30, 192, 256, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a[0], a[-1])


def test_reverse_is_time_mirror():
    f = scene(40, parts=("square", "disc"))
    r = scene(40, parts=("square", "disc"), reverse=True)
    assert np.array_equal(f[::-1], r)


def test_entering_square_starts_off_page():
    f = entering(90)
    teal = (f[..., 0] == 0) & (f[..., 1] == 150)
    assert not teal[0].any() and teal[-1].any()
