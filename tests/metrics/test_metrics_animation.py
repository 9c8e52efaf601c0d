"""Validity of exec / appearance / temporal on synthetic animations (orderings, not magic numbers).

Scenes come from test_metrics_scenes.py (white page, a moving+rotating square, a
bouncing disc, a fading+turning triangle, a growing bar; a square entering from
off-page).  Offline backends: classic-v1 embedder, opencv-lk-v1 tracker.
"""
from __future__ import annotations

import importlib.util
import pathlib

import cv2
import numpy as np
import pytest

from metrics import appearance
from metrics.animation import VideoFeatures, prepare_video, score_animation
from metrics.embedders import ClassicEmbedder
from metrics.exec import ExecResult, exec_result, rendered
from metrics.trackers import OpenCVTracker

_spec = importlib.util.spec_from_file_location("_metric_scenes", pathlib.Path(__file__).with_name("test_metrics_scenes.py"))
S = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(S)

N = 120
EMB, TRK = ClassicEmbedder(), OpenCVTracker()


@pytest.fixture(scope="module")
def ref():
    return S.scene(N)


@pytest.fixture(scope="module")
def ref_cache(ref):
    return prepare_video(ref, EMB, TRK)


def _score(ref_cache, cand, **kw):
    return score_animation(None, cand, embedder=EMB, tracker=TRK, ref_cache=ref_cache, **kw)


@pytest.fixture(scope="module")
def exact(ref, ref_cache):
    return _score(ref_cache, ref.copy())


def test_exact_copy(exact):
    assert exact["exec"] and not exact["static"]
    assert exact["appearance"] >= 0.95 and exact["temporal"] >= 0.95
    assert exact["backends"] == {"embedder": "classic-v1", "tracker": "opencv-lk-v1"}
    assert exact["time_base"] == "absolute" and exact["scale"] == "shared"
    d = exact["diagnostics"]
    assert d["dtw_path_len"] == N and d["tracklets_ref"] > 20 and d["tracklets_cand"] == d["tracklets_ref"]
    assert exact["boxes"]["ref"] == exact["boxes"]["cand"]


def test_shifted_on_page_is_as_good_as_exact(ref_cache):
    r = _score(ref_cache, S.scene(N, offset=(100, 40)))
    assert r["appearance"] >= 0.9 and r["temporal"] >= 0.9
    assert r["boxes"]["cand"][0] == r["boxes"]["ref"][0] + 100


def test_slowed_down_loses_temporal(ref_cache, exact):
    r = _score(ref_cache, S.scene(N, speed=1 / 1.5))
    assert r["temporal"] < exact["temporal"] - 0.2
    assert r["appearance"] >= 0.8  # it still looks the same


def test_reversed_direction(ref_cache):
    r = _score(ref_cache, S.scene(N, reverse=True))
    assert r["temporal"] <= 0.3
    assert r["appearance"] >= 0.7


def test_static_first_frame(ref, ref_cache, exact):
    r = _score(ref_cache, np.repeat(ref[:1], N, axis=0))
    assert r["exec"] and r["static"] and r["temporal"] == 0.0
    assert r["boxes"]["cand"] is None
    assert r["diagnostics"]["appearance_box_cand"] == r["boxes"]["ref"]  # the reference's region
    assert r["appearance"] < exact["appearance"]


def test_recoloured(ref_cache, exact):
    r = _score(ref_cache, S.scene(N, recolour=True))
    assert r["appearance"] < exact["appearance"] - 0.1
    assert r["temporal"] >= 0.7


def test_blank_page(ref, ref_cache):
    blank = np.full_like(ref, 255)
    r = _score(ref_cache, blank)
    assert r["exec"] is False and r["appearance"] == 0.0 and r["temporal"] == 0.0 and r["static"]
    # the appearance metric alone (no exec gate) also finds a blank page unlike the reference
    cand = appearance.prepare(blank, EMB, fallback_box=ref_cache.box)
    assert appearance.compare(ref_cache.appearance, cand)["appearance"] <= 0.2


def test_element_entering_from_off_page():
    f = S.entering(N)
    r = score_animation(f, f.copy(), embedder=EMB, tracker=TRK)
    assert r["temporal"] >= 0.9 and r["appearance"] >= 0.95
    # it enters after frame 0, so its tracklets must be born later
    feats = prepare_video(f, EMB, TRK)
    assert (feats.temporal.visible.argmax(0) > 30).sum() >= 3
    # entering later costs temporal, the more the later (absolute time base)
    t40 = score_animation(f, S.entering(N, start=40), embedder=EMB, tracker=TRK)["temporal"]
    t50 = score_animation(f, S.entering(N, start=50), embedder=EMB, tracker=TRK)["temporal"]
    assert r["temporal"] > t40 + 0.2 and t40 > t50
    # a candidate where the square never enters is static
    never = np.repeat(f[:1], N, axis=0)
    assert score_animation(f, never, embedder=EMB, tracker=TRK)["static"]


def test_a_different_animation_scores_lower(ref_cache, exact):
    other = S.scene(N, parts=("disc", "bar"))
    r = _score(ref_cache, other)
    assert r["appearance"] < exact["appearance"] - 0.2
    assert r["temporal"] < exact["temporal"]


def test_full_size_and_scale_switch():
    small = S.scene(90, 384, 512)
    big = np.stack([cv2.resize(f, (1024, 768), interpolation=cv2.INTER_LINEAR) for f in small])
    ref = prepare_video(small, EMB, TRK)
    own = score_animation(None, big, embedder=EMB, tracker=TRK, ref_cache=ref, scale="own")
    shared = score_animation(None, big, embedder=EMB, tracker=TRK, ref_cache=ref)
    assert own["appearance"] >= 0.9 and own["temporal"] >= 0.8
    assert shared["temporal"] < own["temporal"] - 0.2  # twice the travel is penalised with a shared scale


def test_time_base_switch_on_a_shorter_recording(ref_cache):
    short = S.scene(80)  # the whole animation in 2/3 of the frames
    absolute = _score(ref_cache, short)
    resampled = _score(ref_cache, short, time_base="resampled")
    assert resampled["temporal"] >= 0.8
    assert absolute["temporal"] < resampled["temporal"] - 0.2


def test_failed_exec_scores_zero(ref_cache, ref):
    r = _score(ref_cache, ref.copy(), exec_info={"code_present": True, "fatal_error": "SyntaxError"})
    assert r["exec"] is False and "SyntaxError" in r["exec_reason"]
    assert r["appearance"] == 0.0 and r["temporal"] == 0.0
    r = _score(ref_cache, None, exec_info=ExecResult(False, "no code extracted"))
    assert r["exec"] is False and r["appearance"] == 0.0


def test_reference_cache_roundtrip(tmp_path, ref, ref_cache, exact):
    ref_cache.save(tmp_path / "ref.npz")
    loaded = VideoFeatures.load(tmp_path / "ref.npz")
    cand = S.scene(N, speed=1 / 1.5)
    a = _score(loaded, cand)
    b = score_animation(ref, cand, embedder=EMB, tracker=TRK)
    for k in ("appearance", "temporal", "static", "boxes"):
        assert a[k] == b[k]
    # a cache from other backends is refused without frames, recomputed with them
    other = OpenCVTracker()
    other.name = "other-tracker"
    with pytest.raises(ValueError):
        score_animation(None, cand, embedder=EMB, tracker=other, ref_cache=loaded)
    assert score_animation(ref, cand, embedder=EMB, tracker=other, ref_cache=loaded)["backends"]["tracker"] == "other-tracker"


def test_exec_definition():
    white = np.full((3, 60, 80, 3), 255, np.uint8)
    assert not rendered(white)
    assert not exec_result(True, None, white).ok
    mark = white.copy()
    mark[2, 10:14, 10:14] = (250, 0, 0)  # 16 px, last frame only
    assert rendered(mark) and exec_result(True, None, mark).ok
    tiny = white.copy()
    tiny[1, 10:13, 10:15] = 0  # 15 px: below min_pixels
    assert not rendered(tiny)
    faint = white.copy()
    faint[1, :, :40] = 240  # half the frame 15 levels off: below threshold
    assert not rendered(faint)
    dark = np.zeros_like(white)
    dark[0, 20:40, 20:40] = (0, 0, 200)  # a blue square on a black page
    assert rendered(dark)
    assert exec_result(False, None, mark).reason == "no code extracted"
    assert not exec_result(True, "ReferenceError: x", mark).ok
    assert not exec_result(True, None, None).ok


def test_colour_only_reference_has_undefined_temporal():
    """A reference with no motion (a square changing colour in place) gives no tracklets:
    temporal is undefined (None), not 0 for a perfect copy."""
    import numpy as np

    f = np.full((40, 192, 256, 3), 255, np.uint8)
    for t in range(40):
        f[t, 60:140, 80:180] = (200, 40 + 5 * t, 40)
    r = score_animation(f, f.copy(), embedder=EMB, tracker=TRK)
    assert r["exec"] and r["temporal"] is None and r["appearance"] >= 0.95
