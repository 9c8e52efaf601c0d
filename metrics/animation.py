"""Animation2Code scores for one candidate video against one reference video.

``score_animation(ref_frames, cand_frames, embedder=..., tracker=...)`` returns::

    {"exec": bool, "exec_reason": str, "appearance": float, "temporal": float,
     "static": bool, "backends": {"embedder": name, "tracker": name},
     "boxes": {"ref": [x0,y0,x1,y1] | None, "cand": [...] | None},
     "time_base": ..., "scale": ..., "diagnostics": {...}}

* ``exec`` (``metrics.exec``): from ``exec_info`` -- an ``ExecResult``, or a dict
  ``{"code_present", "fatal_error"}`` -- and the candidate frames; default
  ``exec_info=None`` means "code present, no fatal error".  **A failed exec
  scores appearance 0 and temporal 0** (nothing is embedded or tracked).
* ``appearance`` (``metrics.appearance``) and ``temporal`` (``metrics.temporal``).
  The change mask and crop box of a video are computed once and shared.
* ``static``: the candidate has no change box or no moving tracklet; its
  temporal is then 0.  A static candidate's appearance uses the reference's
  box region (clipped to its frame).
* ``ref_cache``: a :class:`VideoFeatures` from ``prepare_video(ref_frames, ...)``
  (picklable; ``save``/``load`` to one ``.npz``) so reference-side work is done
  once per task.  It must have been made with the same embedder, tracker and
  stride.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from . import appearance, temporal
from .crop import Box, box_from_mask, change_mask
from .embedders.base import Embedder
from .exec import ExecResult, exec_result
from .trackers.base import Tracker

__all__ = ["VideoFeatures", "prepare_video", "score_animation"]


@dataclass
class VideoFeatures:
    box: Box | None
    appearance: appearance.AppearanceFeatures
    temporal: temporal.TemporalFeatures
    stride: int
    seconds: dict

    @property
    def backends(self) -> dict:
        return {"embedder": self.appearance.embedder, "tracker": self.temporal.tracker}

    def save(self, path) -> None:
        a, t = self.appearance, self.temporal
        np.savez_compressed(
            path, box=np.array(self.box.as_list() if self.box else [], np.int64), stride=self.stride,
            a_embeddings=a.embeddings, a_frame_indices=a.frame_indices, a_box=np.array(a.box.as_list()),
            a_static=a.static, a_n_frames=a.n_frames, a_embedder=a.embedder,
            t_tracks=t.tracks, t_visible=t.visible, t_n_frames=t.n_frames, t_tracker=t.tracker)

    @classmethod
    def load(cls, path) -> "VideoFeatures":
        z = np.load(path, allow_pickle=False)
        box = Box(*map(int, z["box"])) if z["box"].size else None
        a = appearance.AppearanceFeatures(z["a_embeddings"], z["a_frame_indices"], Box(*map(int, z["a_box"])),
                                          bool(z["a_static"]), int(z["a_n_frames"]), str(z["a_embedder"]))
        t = temporal.TemporalFeatures(z["t_tracks"], z["t_visible"], box, int(z["t_n_frames"]), str(z["t_tracker"]))
        return cls(box, a, t, int(z["stride"]), {})


def prepare_video(frames: np.ndarray, embedder: Embedder, tracker: Tracker, *,
                  fallback_box: Box | None = None, stride: int = 1) -> VideoFeatures:
    """Crop box, embeddings and tracks of one video (the cacheable half of a score)."""
    t0 = time.perf_counter()
    mask = change_mask(frames)
    box = box_from_mask(mask)
    t1 = time.perf_counter()

    def track():
        t = time.perf_counter()
        return temporal.prepare(frames, tracker, box=box, mask=mask), time.perf_counter() - t

    # the two halves are independent and spend their time in numpy/OpenCV/torch code that
    # releases the GIL: tracking runs in a second thread while this one embeds
    with ThreadPoolExecutor(1, thread_name_prefix="webjudge-track") as pool:
        tracking = pool.submit(track)
        app = appearance.prepare(frames, embedder, box=box, fallback_box=fallback_box, stride=stride)
        t2 = time.perf_counter()
        tmp, track_s = tracking.result()
    return VideoFeatures(box, app, tmp, stride, {"crop": t1 - t0, "embed": t2 - t1, "track": track_s})


def _exec(exec_info, frames) -> ExecResult:
    if isinstance(exec_info, ExecResult):
        return exec_info
    info = dict(exec_info or {})
    return exec_result(bool(info.get("code_present", True)), info.get("fatal_error"), frames)


def score_animation(ref_frames: np.ndarray | None, cand_frames: np.ndarray | None, *, embedder: Embedder,
                    tracker: Tracker, exec_info: ExecResult | dict | None = None,
                    ref_cache: VideoFeatures | None = None, time_base: str = "absolute",
                    scale: str = "shared", stride: int = 1) -> dict:
    """Exec, appearance and temporal of a candidate video (see module docstring)."""
    backends = {"embedder": embedder.name, "tracker": tracker.name}
    ref = ref_cache
    if ref is not None and (ref.backends != backends or ref.stride != stride):
        if ref_frames is None:
            raise ValueError(f"ref_cache was made with {ref.backends}, stride {ref.stride}; "
                             f"asked for {backends}, stride {stride}")
        ref = None
    if ref is None:
        if ref_frames is None:
            raise ValueError("need ref_frames or ref_cache")
        ref = prepare_video(ref_frames, embedder, tracker, stride=stride)
    ex = _exec(exec_info, cand_frames)
    out = {"exec": ex.ok, "exec_reason": ex.reason, "appearance": 0.0, "temporal": 0.0, "static": True,
           "backends": backends, "boxes": {"ref": ref.box.as_list() if ref.box else None, "cand": None},
           "time_base": time_base, "scale": scale,
           "diagnostics": {"n_frames_ref": ref.temporal.n_frames, "ref_seconds": ref.seconds}}
    if not ex.ok:
        if cand_frames is not None and len(cand_frames):
            box = box_from_mask(change_mask(cand_frames))
            out["static"] = box is None
            out["boxes"]["cand"] = box.as_list() if box else None
        return out
    cand = prepare_video(cand_frames, embedder, tracker, fallback_box=ref.box, stride=stride)
    t0 = time.perf_counter()
    app = appearance.compare(ref.appearance, cand.appearance)
    tmp = temporal.compare(ref.temporal, cand.temporal, scale=scale, time_base=time_base)
    cand.seconds["compare"] = time.perf_counter() - t0
    out.update(appearance=app["appearance"], temporal=tmp["temporal"], static=bool(tmp["static"]))
    out["boxes"]["cand"] = cand.box.as_list() if cand.box else None
    out["diagnostics"].update(
        n_frames_cand=cand.temporal.n_frames, dtw_cost=app["dtw_cost"], dtw_path_len=app["dtw_path_len"],
        cand_static_box=cand.box is None, ref_static=bool(tmp["ref_static"]),
        tracks_ref=tmp["tracks_ref"], tracks_cand=tmp["tracks_cand"],
        tracklets_ref=tmp["tracklets_ref"], tracklets_cand=tmp["tracklets_cand"],
        appearance_box_cand=cand.appearance.box.as_list(), cand_seconds=cand.seconds)
    return out
