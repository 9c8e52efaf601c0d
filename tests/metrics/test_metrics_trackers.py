"""Trackers: the OpenCV default on synthetic motion, and the CoTracker plumbing."""
from __future__ import annotations

import textwrap

import cv2
import numpy as np
import pytest

from metrics.embedders.base import BackendUnavailable
from metrics.trackers import get_tracker, tracker_status
from metrics.trackers.base import Tracker, Tracks
from metrics.trackers.opencv import OpenCVTracker


def _scenes():
    import importlib.util
    import pathlib

    spec = importlib.util.spec_from_file_location("_metric_scenes", pathlib.Path(__file__).with_name("test_metrics_scenes.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


S = _scenes()


def _translating(t_len=40, h=200, w=300, v=(2.5, 1.0), side=40):
    f = np.full((t_len, h, w, 3), 255, np.uint8)
    for t in range(t_len):
        x, y = 40 + v[0] * t, 50 + v[1] * t
        pts = np.round(np.array([[x, y], [x + side, y], [x + side, y + side], [x, y + side]]) * 16).astype(np.int32)
        cv2.fillPoly(f[t], [pts], (30, 90, 200), cv2.LINE_AA, 4)
        cv2.circle(f[t], (250, 150), 15, (200, 30, 30), -1)  # static disc
    return f


def test_lk_recovers_translation_and_keeps_static_points_still():
    tr = OpenCVTracker()
    assert isinstance(tr, Tracker)
    frames = _translating()
    out = tr.track(frames, None)
    assert out.tracks.shape == (40, out.n_tracks, 2) and out.visible.shape == (40, out.n_tracks)
    steps = out.tracks[1:] - out.tracks[:-1]
    ok = out.visible[1:] & out.visible[:-1]
    moving = ok & (np.linalg.norm(steps, axis=-1) > 0.5)
    assert moving.sum() > 50
    # every moving step is the square's true velocity (2.5, 1.0) within 0.3 px
    assert np.abs(steps[moving] - [2.5, 1.0]).max() < 0.3
    # points on the static disc do not move
    near_disc = ok & (np.linalg.norm(out.tracks[:-1] - [250, 150], axis=-1) < 25)
    assert near_disc.sum() > 20 and np.abs(steps[near_disc]).max() < 0.05


def test_mask_restricts_seeds():
    frames = _translating()
    mask = np.zeros(frames.shape[1:3], bool)
    mask[:, :200] = True
    out = OpenCVTracker().track(frames, mask)
    born = out.tracks[out.visible.argmax(0), np.arange(out.n_tracks)]
    assert out.n_tracks > 0 and (born[:, 0] < 205).all()  # 5 px dilation of the mask


def test_content_entering_later_gets_tracks():
    frames = S.entering(90)
    out = OpenCVTracker().track(frames[:, :, :300], None)
    births = out.visible.argmax(0)
    assert (births == 0).sum() <= 4  # frame 0 shows only the static grey box (4 corners)
    late = np.flatnonzero(births > 30)
    # the late tracks follow the square moving right (it stops at x=200..260 by frame 90)
    travelled = [out.tracks[np.flatnonzero(out.visible[:, i])[-1], i, 0] - out.tracks[births[i], i, 0] for i in late]
    assert sum(d > 20 for d in travelled) >= 3
    assert min(travelled) > -1.0  # nothing tracked on the square goes left


def test_reduced_resolution_maps_back_to_input_pixels():
    small = _translating(20)
    big = np.stack([cv2.resize(f, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR) for f in small])
    out = OpenCVTracker(work_size=300).track(big, None)  # k = 2: tracked at 300x200
    steps = out.tracks[1:] - out.tracks[:-1]
    moving = out.visible[1:] & out.visible[:-1] & (np.linalg.norm(steps, axis=-1) > 1)
    assert moving.sum() > 20
    assert np.abs(np.median(steps[moving], axis=0) - [5.0, 2.0]).max() < 0.3


def test_flat_frames_give_no_tracks():
    out = OpenCVTracker().track(np.full((5, 50, 60, 3), 255, np.uint8), None)
    assert out.n_tracks == 0 and out.tracks.shape == (5, 0, 2)


# --- CoTracker plumbing ---------------------------------------------------------------
# CoTracker3 (CC-BY-NC, not on PyPI, ~100 MB weights, minutes per clip on CPU) cannot be
# a test dependency.  We write a *fake* checkout with the same module path and call
# signature (cotracker/predictor.py: CoTrackerPredictor(checkpoint=..., window_len=...),
# model(video, queries=...)) that returns synthetic tracks (each query moving +1 px/frame
# in x from its query frame) and records what it was given, so our loader, query building,
# tensor layout and output conversion are exercised end to end.
FAKE_PREDICTOR = textwrap.dedent('''
    import os
    import torch

    class CoTrackerPredictor(torch.nn.Module):
        last = {}

        def __init__(self, checkpoint="./checkpoints/cotracker2.pth", offline=True, window_len=16, v2=False):
            super().__init__()
            assert os.path.isfile(checkpoint), checkpoint
            CoTrackerPredictor.last.update(checkpoint=checkpoint, window_len=window_len, offline=offline)

        def forward(self, video, queries=None, segm_mask=None, grid_size=0, grid_query_frame=0,
                    backward_tracking=False):
            B, T, C, H, W = video.shape
            CoTrackerPredictor.last.update(video_shape=tuple(video.shape), dtype=str(video.dtype),
                                           vmax=float(video.max()), queries=queries.clone())
            t = torch.arange(T, dtype=torch.float32)[None, :, None]
            q = queries
            x = q[:, None, :, 1] + (t - q[:, None, :, 0])
            y = q[:, None, :, 2].expand(B, T, q.shape[1])
            tracks = torch.stack([x, y], dim=-1)
            vis = torch.ones(B, T, q.shape[1], dtype=torch.bool)
            return tracks, vis
''')


@pytest.fixture
def fake_checkout(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    repo = tmp_path / "co-tracker"
    (repo / "cotracker").mkdir(parents=True)
    (repo / "cotracker" / "__init__.py").write_text("")
    (repo / "cotracker" / "predictor.py").write_text(FAKE_PREDICTOR)
    ckpt = tmp_path / "scaled_offline.pth"
    ckpt.write_bytes(b"not really weights")
    monkeypatch.setenv("WEBJUDGE_COTRACKER_DIR", str(repo))
    monkeypatch.setenv("WEBJUDGE_COTRACKER_CKPT", str(ckpt))
    import sys

    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in [n for n in sys.modules if n == "cotracker" or n.startswith("cotracker.")]:
        monkeypatch.delitem(sys.modules, name)
    yield repo, ckpt
    for name in [n for n in sys.modules if n == "cotracker" or n.startswith("cotracker.")]:
        del sys.modules[name]


def test_cotracker_unavailable_reasons(tmp_path, monkeypatch):
    monkeypatch.delenv("WEBJUDGE_COTRACKER_DIR", raising=False)
    monkeypatch.delenv("WEBJUDGE_COTRACKER_CKPT", raising=False)
    status = dict((n, (ok, why)) for n, ok, why in tracker_status())
    assert status["opencv-lk-v1"][0] and not status["cotracker3"][0]
    assert "WEBJUDGE_COTRACKER_DIR" in status["cotracker3"][1]
    assert get_tracker("auto").name == "opencv-lk-v1"
    with pytest.raises(BackendUnavailable, match="not a co-tracker checkout"):
        get_tracker("cotracker", repo_dir=tmp_path, checkpoint=tmp_path / "x.pth")


def test_cotracker_plumbing_with_fake_checkout(fake_checkout):
    repo, ckpt = fake_checkout
    tr = get_tracker("auto")  # configured through the env vars -> CoTracker
    assert tr.name == "cotracker3:scaled_offline"
    from cotracker.predictor import CoTrackerPredictor as Fake

    assert Fake.last["checkpoint"] == str(ckpt) and Fake.last["window_len"] == 60 and Fake.last["offline"]
    frames = S.entering(60, 200, 1030)  # wider than work_size 512 -> shrunk by k = 3
    mask = np.ones(frames.shape[1:3], bool)
    out = tr.track(frames, mask)
    assert isinstance(out, Tracks)
    assert Fake.last["video_shape"] == (1, 60, 3, 66, 343)
    assert Fake.last["dtype"] == "torch.float32" and 200 < Fake.last["vmax"] <= 255
    q = Fake.last["queries"][0].numpy()
    assert (q[:, 0] == 0).sum() == 100  # the 10x10 grid on frame 0 (mask everywhere)
    assert (q[:, 0] > 0).any()  # extra queries where the square enters later
    assert out.tracks.shape == (60, len(q), 2)
    # invisible before each query's frame, visible from it on
    born = out.visible.argmax(0)
    assert np.array_equal(born, q[:, 0].astype(int))
    # positions mapped back to input pixels: the fake moves 1 work px / frame = 3 input px
    i = int(np.flatnonzero(q[:, 0] == 0)[0])
    assert out.tracks[1, i, 0] - out.tracks[0, i, 0] == pytest.approx(3.0)
    assert out.tracks[0, i, 0] == pytest.approx((q[i, 1] + 0.5) * 3 - 0.5)
