"""The animation family: render the candidate under the virtual clock, then Exec /
appearance / temporal (`metrics.animation`) against the reference video's features
(cached on disk by video hash and backends), and a filmstrip (reference over candidate).

A page that fails (crash, hang, no code) is scored (exec false, zeros); a judge failure
(Chromium died, a metrics worker killed) raises `JudgeError`.
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import os
import tempfile
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np

from judge.browser.runtime import BrowserError
from judge.errors import JudgeError
from judge.files import atomic_write, cache_dir, sha256_file
from judge.html import image_src, png_size
from judge.record import page_folders, render_page
from judge.records import SCORER_VERSION, ScoreConfig
from judge.tasks import Task
from judge.video import reference_frames


def default_cache_dir() -> Path:
    return cache_dir("features")


_BACKENDS: dict[tuple, tuple] = {}


def animation_backends(config: ScoreConfig):
    """(embedder, tracker, notes): instances created once per process and configuration;
    `notes` says why "auto" fell back to an offline default (printed and stored)."""
    from metrics.embedders import embedder_status, get_embedder
    from metrics.trackers import get_tracker, tracker_status

    key = (config.embedder, config.tracker)
    if key not in _BACKENDS:
        embedder, tracker = get_embedder(config.embedder), get_tracker(config.tracker)
        notes = []
        if config.embedder == "auto" and not embedder.name.startswith("dreamsim"):
            why = next((r for n, ok, r in embedder_status() if n.startswith("dreamsim") and not ok), "")
            notes.append(f"embedder auto -> {embedder.name} (DreamSim unavailable: {why})")
        if config.tracker == "auto" and not tracker.name.startswith("cotracker"):
            why = next((r for n, ok, r in tracker_status() if n.startswith("cotracker") and not ok), "")
            notes.append(f"tracker auto -> {tracker.name} (CoTracker3 unavailable: {why})")
        _BACKENDS[key] = (embedder, tracker, notes)
    return _BACKENDS[key]


def reference_features(task: Task, embedder, tracker, config: ScoreConfig):
    """The reference video's crop/embeddings/tracks, cached on disk by video hash and backends."""
    from metrics.animation import VideoFeatures, prepare_video

    from judge.video import VideoError

    cache_dir = Path(config.cache_dir or default_cache_dir())
    spec = task.spec
    if not task.video_path.is_file():
        raise VideoError(task.video_path, "file not found")
    key = hashlib.sha256(f"{sha256_file(task.video_path)}|{spec.fps}|{spec.n_frames}|{embedder.name}|"
                         f"{tracker.name}|v{SCORER_VERSION}".encode()).hexdigest()[:32]
    path = cache_dir / f"{key}.npz"
    if path.exists():
        try:
            return VideoFeatures.load(path), None
        except Exception:
            path.unlink(missing_ok=True)  # a corrupt cache entry is recomputed
    frames = reference_frames(task)
    feats = prepare_video(frames, embedder, tracker)
    buf = io.BytesIO()
    feats.save(buf)
    atomic_write(path, buf.getvalue(), fsync=False)   # a cache entry: rename is enough
    return feats, frames


def _strip_row(frames: np.ndarray, n: int = 8, width: int = 192) -> np.ndarray:
    """One row of n evenly spaced thumbnails, `width` px wide each."""
    import cv2

    idx = np.linspace(0, len(frames) - 1, n).round().astype(int)
    h = int(round(frames.shape[1] * width / frames.shape[2]))
    return np.concatenate([cv2.resize(np.asarray(frames[i]), (width, h), interpolation=cv2.INTER_AREA) for i in idx], 1)


def _reference_strip(task: Task, ref_frames: np.ndarray | None, config: ScoreConfig) -> np.ndarray:
    """The reference's filmstrip row, cached next to the reference features (decoding the
    whole reference video again for 8 thumbnails costs ~1-3 s per task)."""
    import cv2

    spec = task.spec
    key = hashlib.sha256(f"{sha256_file(task.video_path)}|{spec.fps}|{spec.n_frames}|strip-v1".encode()).hexdigest()[:32]
    path = Path(config.cache_dir or default_cache_dir()) / f"{key}.strip.png"
    if ref_frames is None and path.exists():
        row = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if row is not None:
            return cv2.cvtColor(row, cv2.COLOR_BGR2RGB)
    row = _strip_row(ref_frames if ref_frames is not None else reference_frames(task))
    atomic_write(path, cv2.imencode(".png", cv2.cvtColor(row, cv2.COLOR_RGB2BGR))[1].tobytes(), fsync=False)
    return row


def _filmstrip(ref_row: np.ndarray | None, cand: np.ndarray | None, path: Path) -> None:
    """Two rows (reference over candidate) of evenly spaced thumbnails."""
    import cv2

    rows = [r for r in (ref_row, _strip_row(cand) if cand is not None and len(cand) else None) if r is not None]
    if rows:
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), cv2.cvtColor(np.concatenate(rows, 0), cv2.COLOR_RGB2BGR))


async def score_animation_page(task: Task, html: bytes | None, ctx, artifacts: Path | None = None) -> dict:
    """Render the candidate (in this process, through `ctx`'s browser), then compute the metrics.

    The metrics (CPU-bound numpy/OpenCV work, plus the reference features on a cache miss
    and the filmstrip) run in a worker thread, or in `ctx.pool` when the run has one;
    frames then travel through a temporary `.npy` file in /dev/shm that the worker
    memory-maps (no pickling). One of `ctx.render_slots` is held during the render only,
    so pages rendering at once are bounded separately from pages being scored."""
    spec = task.spec
    code_present = bool(html and html.strip())
    render = None
    if code_present:
        browser = await ctx.ensure_browser()
        try:
            async with ctx.render_slots:
                render = await render_page(browser, html, viewport=spec.viewport, fps=spec.fps,
                                           n_frames=spec.n_frames, folders=page_folders(None, task.assets_path))
        except BrowserError as e:
            raise JudgeError(str(e)) from None
    frames = render.frames if render else None
    exec_info = {"code_present": code_present, "fatal_error": render.fatal if render else None}
    pool, config = ctx.pool, ctx.config
    if pool is None:
        result = await asyncio.to_thread(_animation_metrics, task, frames, exec_info, config, artifacts)
    else:
        shared = None
        if frames is not None and frames.nbytes > (1 << 20):
            shared = await asyncio.to_thread(_share_frames, frames)
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                pool, _pooled_animation_metrics, task, shared or frames, exec_info, config, artifacts)
        except BrokenProcessPool as e:
            raise JudgeError(f"a metrics worker process died ({e or 'killed'})") from None
        finally:
            if shared:
                Path(shared).unlink(missing_ok=True)
    result["render"] = render.summary() if render else {"frames": 0, "fatal": "no code"}
    return result


def _animation_metrics(task: Task, frames: np.ndarray | None, exec_info: dict, config: ScoreConfig,
                       artifacts: Path | None) -> dict:
    """Reference features (cached), the candidate's scores, and the filmstrip."""
    from metrics.animation import score_animation

    embedder, tracker, notes = animation_backends(config)
    ref_feats, ref_frames = reference_features(task, embedder, tracker, config)
    result = score_animation(ref_frames, frames, embedder=embedder, tracker=tracker, exec_info=exec_info,
                             ref_cache=ref_feats, time_base=config.time_base, scale=config.scale)
    result["backend_notes"] = notes
    if artifacts is not None:
        _filmstrip(_reference_strip(task, ref_frames, config), frames, artifacts / "filmstrip.png")
    return result


def _pooled_animation_metrics(task: Task, frames: np.ndarray | str | None, exec_info: dict, config: ScoreConfig,
                              artifacts: Path | None) -> dict:
    """`_animation_metrics` in a pool worker; `frames` may be the path of a shared `.npy`.
    Failures come back as `JudgeError` (other exception types may not survive pickling)."""
    try:
        if isinstance(frames, str):
            frames = np.load(frames, mmap_mode="c")
        return _animation_metrics(task, frames, exec_info, config, artifacts)
    except Exception as e:
        raise JudgeError(f"metrics failed: {type(e).__name__}: {e}") from None


def _share_frames(frames: np.ndarray) -> str:
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    fd, path = tempfile.mkstemp(dir=shm, prefix="webjudge-frames-", suffix=".npy")
    with os.fdopen(fd, "wb") as f:
        np.save(f, frames, allow_pickle=False)
    return path


def animation_backend_names(config: ScoreConfig) -> dict:
    """The names of the backends `config` resolves to here (`auto` included), e.g.
    `{"embedder": "classic-v1", "tracker": "opencv-lk-v1"}`. Raises `BackendUnavailable`."""
    embedder, tracker, _ = animation_backends(config)
    return {"embedder": embedder.name, "tracker": tracker.name}


class AnimationScorer:
    family = "animation"
    fields = (("exec", "Exec %", "pct"), ("appearance", "Appear.", "num"), ("temporal", "Temporal", "num"),
              ("static", "Static %", "pct"))
    holds_browser = False
    uses_pool = True
    needs_judge_model = False
    replays = False                 # `judge replay` is for step-by-step judgments
    code = ("judge.scorers.animation", "judge.record", "judge.video", "judge.browser", "metrics")

    async def backends(self, config: ScoreConfig, pool=None) -> dict:
        if pool is not None:
            return await asyncio.get_running_loop().run_in_executor(pool, animation_backend_names, config)
        return await asyncio.to_thread(animation_backend_names, config)

    async def score(self, task: Task, html: bytes | None, ctx, artifacts: Path | None = None) -> dict:
        return await score_animation_page(task, html, ctx, artifacts)

    def task_score(self, row: dict) -> float | None:
        """mean(appearance, temporal); appearance alone when temporal is undefined."""
        vals = [row.get(k) for k in ("appearance", "temporal") if isinstance(row.get(k), (int, float))]
        return sum(vals) / len(vals) if vals else None

    def text(self, row: dict) -> str:
        temporal = "undefined (reference has no motion)" if row["temporal"] is None else f"{row['temporal']:.3f}"
        return (f"{row['task_id']}: exec={row['exec']} appearance={row['appearance']:.3f} "
                f"temporal={temporal} static={row['static']}")

    def report_section(self, row: dict, artifacts: Path, base: Path, inline: bool) -> str:
        """Reference and candidate filmstrips."""
        path = artifacts / "filmstrip.png"
        size = png_size(path)
        if size is None:
            return '<p class="muted">no filmstrip</p>'
        w, hh = size
        has_cand = bool((row.get("render") or {}).get("frames"))
        half = hh / 2 if has_cand else hh
        src = image_src(path, base, inline)
        strips = []
        for label, shift in [("reference", 0.0)] + ([("candidate", half)] if has_cand else []):
            strips.append(f'<div class="strip"><div class="muted">{label}</div><div class="clip" '
                          f'style="aspect-ratio: {w} / {half:g}"><img alt="{label} filmstrip" src="{src}" '
                          f'style="margin-top: -{100 * shift / w:.4f}%"></div></div>')
        if not has_cand:
            strips.append('<div class="strip"><div class="muted">candidate</div><p class="bad">no frames rendered</p></div>')
        return f'<div class="strips">{"".join(strips)}</div>'


SCORER = AnimationScorer()
