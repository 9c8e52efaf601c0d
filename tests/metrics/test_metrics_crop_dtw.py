"""Unit tests: change mask / crop box, and DTW on known matrices."""
from __future__ import annotations

import time

import numpy as np
import pytest

from metrics.crop import Box, change_mask, crop, crop_box
from metrics.dtw import dtw


def _moving_square(t_len=20, h=120, w=160, x_start=20, x_step=3, y=40, side=20):
    f = np.full((t_len, h, w, 3), 255, np.uint8)
    for t in range(t_len):
        x = x_start + t * x_step
        f[t, y : y + side, x : x + side] = (200, 0, 0)
    return f


def test_crop_box_of_moving_square():
    f = _moving_square()
    # the square covers x in [20, 20 + 19*3 + 20) = [20, 97), y in [40, 60)
    assert crop_box(f, pad=0) == Box(20, 40, 97, 60)
    assert crop_box(f, pad=4) == Box(16, 36, 101, 64)
    b = crop_box(f)
    assert crop(f, b).shape == (20, b.height, b.width, 3)
    assert b.diagonal == pytest.approx(np.hypot(85, 28))


def test_box_is_clipped_to_the_frame():
    f = _moving_square(x_start=0, y=0)
    b = crop_box(f, pad=10)
    assert b.x0 == 0 and b.y0 == 0


def test_static_video_has_no_box():
    f = np.repeat(_moving_square()[:1], 10, axis=0)
    assert crop_box(f) is None
    assert not change_mask(f).any()


def test_noise_is_removed_but_real_change_kept():
    rng = np.random.default_rng(0)
    f = np.full((10, 100, 100, 3), 255, np.uint8)
    # isolated single-pixel flicker of 40 levels in random places (noise)
    for t in range(1, 10):
        ys, xs = rng.integers(0, 100, 30), rng.integers(0, 100, 30)
        f[t, ys, xs] = 215
    assert crop_box(f) is None
    # sub-threshold change everywhere (<= 10 levels) is not a change either
    g = f.copy()
    g[5:] -= 10
    assert crop_box(g[[0, 5, 6]]) is None
    # a real 6x6 blob appearing is kept
    f[7:, 50:56, 60:66] = 0
    assert crop_box(f, pad=0) == Box(60, 50, 66, 56)


def _naive_dtw(c):
    n, m = c.shape
    d = np.full((n + 1, m + 1), np.inf)
    d[0, 0] = 0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i, j] = c[i - 1, j - 1] + min(d[i - 1, j], d[i, j - 1], d[i - 1, j - 1])
    return d[n, m]


def test_dtw_identity_and_known_paths():
    cost, path = dtw(1 - np.eye(4))
    assert cost == 0.0
    assert path.tolist() == [[0, 0], [1, 1], [2, 2], [3, 3]]
    # a 2x4 matrix where the second row matches three columns: path length 4 total 0
    c = np.array([[0.0, 1, 1, 1], [1, 0, 0, 0]])
    cost, path = dtw(c)
    assert cost == 0.0 and path.tolist() == [[0, 0], [1, 1], [1, 2], [1, 3]]
    # uniform cost: every path has normalised cost 1
    assert dtw(np.ones((3, 5)))[0] == pytest.approx(1.0)
    # a single cell
    assert dtw(np.array([[0.25]]))[0] == pytest.approx(0.25)


def test_dtw_matches_naive_dp_and_path_is_valid():
    rng = np.random.default_rng(1)
    for n, m in [(1, 7), (7, 1), (5, 9), (12, 12), (30, 17)]:
        c = rng.random((n, m))
        cost, path = dtw(c)
        assert path[0].tolist() == [0, 0] and path[-1].tolist() == [n - 1, m - 1]
        steps = np.diff(path, axis=0)
        assert {tuple(s) for s in steps} <= {(1, 0), (0, 1), (1, 1)}
        total = c[path[:, 0], path[:, 1]].sum()
        assert total == pytest.approx(_naive_dtw(c))  # the path is a minimum-sum path
        assert cost == pytest.approx(total / len(path))


def test_dtw_is_fast():
    c = np.random.default_rng(2).random((150, 150))
    dtw(c)
    t = time.perf_counter()
    for _ in range(5):
        dtw(c)
    assert (time.perf_counter() - t) / 5 < 0.05


def test_dtw_rejects_bad_input():
    with pytest.raises(ValueError):
        dtw(np.zeros((0, 3)))
    with pytest.raises(ValueError):
        dtw(np.array([[np.nan]]))
