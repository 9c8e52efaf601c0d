"""Temporal correlation on hand-constructed tracklets (definitions in metrics/temporal.py)."""
from __future__ import annotations

import time

import numpy as np
import pytest

from metrics.crop import Box
from metrics.temporal import TemporalFeatures, chamfer, compare, pair_correlation

BOX = Box(0, 0, 300, 400)  # diagonal 500


def _feat(*velocities, t_len=21, box=BOX, start=(50.0, 50.0), visible=None):
    """One track per velocity (vx, vy) per frame, starting at ``start``."""
    t = np.arange(t_len, dtype=np.float32)[:, None, None]
    v = np.asarray(velocities, np.float32)[None]  # (1, N, 2)
    tracks = np.asarray(start, np.float32) + t * v
    vis = np.ones(tracks.shape[:2], bool) if visible is None else visible
    return TemporalFeatures(tracks.astype(np.float32), vis, box, t_len, "hand")


def _rho(a, b, **kw):
    return compare(a, b, **kw)


@pytest.mark.parametrize(
    "vb, expected",
    [((5, 0), 1.0), ((-5, 0), 0.0), ((2.5, 0), 0.5), ((0, 5), 0.0), ((10, 0), 0.5), ((5, 5), 0.5)],
)
def test_single_pair_scores(vb, expected):
    # same, opposite (rho -1, clipped to 0), half speed, perpendicular, double speed, 45 degrees
    # at sqrt(2) speed: cos 45 * (5 / 7.07) = 0.5
    assert compare(_feat((5, 0)), _feat(vb))["temporal"] == pytest.approx(expected, abs=1e-5)


def test_pair_correlation_values():
    s = 20
    d = lambda vx, vy: np.tile(np.array([vx, vy], np.float32), (s, 1))  # noqa: E731
    da = d(5, 0)[None]
    ma = np.ones((1, s), bool)
    db = np.stack([d(5, 0), d(-5, 0), d(2.5, 0), d(0, 0)])
    mb = np.ones((4, s), bool)
    mb[3] = False  # the last one is still
    rho = pair_correlation(da, ma, db, mb)
    assert rho.shape == (1, 4)
    assert rho[0].tolist() == pytest.approx([1.0, -1.0, 0.5, 0.0], abs=1e-6)
    # b moves only during the first half: s_t = 1 there, 0 where only a moves
    mb_half = np.zeros((1, s), bool)
    mb_half[0, :10] = True
    assert pair_correlation(da, ma, d(5, 0)[None] * mb_half[0, :, None], mb_half)[0, 0] == pytest.approx(0.5)
    assert chamfer(np.array([[1.0, -1.0]])) == pytest.approx(0.5 * (1.0 + 0.0))


def test_still_candidate_is_static_and_scores_zero():
    r = compare(_feat((5, 0)), _feat((0, 0), (0.05, 0)))
    assert r["temporal"] == 0.0 and r["static"] is True and r["tracklets_cand"] == 0
    r = compare(_feat((5, 0)), TemporalFeatures(np.zeros((21, 0, 2), np.float32), np.zeros((21, 0), bool), None, 21, "hand"))
    assert r["temporal"] == 0.0 and r["static"] is True


def test_invisible_steps_count_as_not_moving():
    vis = np.ones((21, 1), bool)
    vis[11:] = False  # the candidate track is lost after frame 10: 10 of 20 steps
    r = compare(_feat((5, 0)), _feat((5, 0), visible=vis))
    assert r["temporal"] == pytest.approx(0.5, abs=1e-6)


def test_steps_where_both_are_still_are_ignored():
    t = np.arange(41, dtype=np.float32)

    def still_then(v):  # still for 20 frames, then moves at v px/frame along x
        x = np.where(t < 20, 50.0, 50.0 + v * (t - 20))
        return TemporalFeatures(np.stack([x, np.full_like(x, 50.0)], -1)[:, None, :].astype(np.float32),
                                np.ones((41, 1), bool), BOX, 41, "hand")

    a = still_then(5.0)
    assert compare(a, a)["temporal"] == pytest.approx(1.0)
    assert compare(a, still_then(2.5))["temporal"] == pytest.approx(0.5)
    # a long shared pause does not dilute a wrong motion
    assert compare(a, still_then(-5.0))["temporal"] == 0.0


def test_barely_moving_tracks_are_dropped():
    # 2 % of the 500 px diagonal = 10 px: a track drifting 0.3 px/frame for 20 frames (6 px) is dropped
    ref = _feat((5, 0), (0.3, 0))
    r = compare(ref, _feat((5, 0)))
    assert r["tracklets_ref"] == 1 and r["temporal"] == pytest.approx(1.0)


def test_scale_switch():
    # candidate: the same motion at half size in a half-size box
    half = _feat((2.5, 0), box=Box(0, 0, 150, 200))
    assert compare(_feat((5, 0)), half)["temporal"] == pytest.approx(0.5, abs=1e-5)  # shared
    assert compare(_feat((5, 0)), half, scale="own")["temporal"] == pytest.approx(1.0, abs=1e-5)


def test_time_base_switch():
    # reference: 5 px/frame for 40 frames, then back; candidate: the same path in half the frames
    def path(t_len):
        u = np.linspace(0, 1, t_len)
        x = 50 + 200 * np.where(u < 0.5, 2 * u, 2 - 2 * u)
        return np.stack([x, np.full_like(x, 60.0)], -1)[:, None, :].astype(np.float32)

    ref = TemporalFeatures(path(81), np.ones((81, 1), bool), BOX, 81, "hand")
    fast = TemporalFeatures(path(41), np.ones((41, 1), bool), BOX, 41, "hand")
    absolute = compare(ref, fast)["temporal"]
    resampled = compare(ref, fast, time_base="resampled")["temporal"]
    assert resampled == pytest.approx(1.0, abs=1e-3)
    assert absolute < 0.3 < resampled


def test_chamfer_is_symmetric_mean_of_best_matches():
    rho = np.array([[1.0, 0.2], [0.1, 0.0], [0.3, 0.4]])
    # rows: best 1.0, 0.1, 0.4 -> mean 0.5; cols: best 1.0, 0.4 -> mean 0.7
    assert chamfer(rho) == pytest.approx(0.6)
    assert chamfer(np.zeros((0, 3))) == 0.0


def test_npz_roundtrip(tmp_path):
    f = _feat((5, 0), (0, 3))
    f.to_npz(tmp_path / "t.npz")
    g = TemporalFeatures.from_npz(tmp_path / "t.npz")
    assert g.box == f.box and g.tracker == "hand" and np.array_equal(g.tracks, f.tracks)
    assert compare(f, g)["temporal"] == pytest.approx(1.0)


def test_vectorised_pairs_are_fast_and_capped():
    rng = np.random.default_rng(0)
    t_len, n = 150, 400
    steps = rng.normal(0, 2, (t_len, n, 2)).astype(np.float32)
    tracks = 100 + np.cumsum(steps, axis=0)
    f = TemporalFeatures(tracks, np.ones((t_len, n), bool), BOX, t_len, "rand")
    t0 = time.perf_counter()
    r = compare(f, f)
    assert time.perf_counter() - t0 < 1.0
    assert r["tracklets_ref"] == n  # counted before the cap
    assert r["temporal"] == pytest.approx(1.0, abs=1e-5)  # the capped subsets are the same tracks
