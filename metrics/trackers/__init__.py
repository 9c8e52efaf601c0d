"""Point trackers for the temporal metric.

``get_tracker(name)``:

* ``"opencv"``    -> :class:`OpenCVTracker` (``opencv-lk-v1``; offline default)
* ``"cotracker"`` -> :class:`CoTrackerTracker` (user's co-tracker checkout +
  checkpoint via ``repo_dir``/``checkpoint`` or env ``WEBJUDGE_COTRACKER_DIR`` /
  ``WEBJUDGE_COTRACKER_CKPT``; raises ``BackendUnavailable`` otherwise)
* ``"auto"``      -> CoTracker when it is configured and available, else OpenCV.
  (CoTracker3 on CPU costs minutes per clip; configure it only if you mean it.)

``tracker_status()`` lists ``(name, ok, reason)`` for ``judge doctor``.
"""
from __future__ import annotations

from .base import Tracker, Tracks
from .opencv import OpenCVTracker

__all__ = ["get_tracker", "tracker_status", "Tracker", "Tracks", "OpenCVTracker"]


def get_tracker(name: str = "auto", **cfg) -> Tracker:
    """Build a tracker by backend name ("auto" | "opencv" | "cotracker")."""
    if name == "opencv":
        return OpenCVTracker(**cfg)
    if name in ("cotracker", "auto"):
        from .cotracker import CoTrackerTracker, availability

        if name == "auto" and not availability(cfg.get("repo_dir"), cfg.get("checkpoint"))[0]:
            return OpenCVTracker()
        return CoTrackerTracker(**cfg)
    raise ValueError(f"unknown tracker {name!r}: use 'auto', 'opencv' or 'cotracker'")


def tracker_status(**cfg) -> list[tuple[str, bool, str]]:
    """``[(name, ok, reason)]`` for every tracking backend."""
    from .cotracker import availability

    ok, why = availability(cfg.get("repo_dir"), cfg.get("checkpoint"))
    return [(OpenCVTracker.name, True, "built in (OpenCV pyramidal LK)"), ("cotracker3", ok, why)]
