"""Scoring one candidate page against one task: `score_page` and `judge score`.

The candidate runs under the same conditions as the reference (viewport, fps, number
of frames, virtual clock, sandbox). Animation tasks get Exec / appearance / temporal
(`metrics.animation`); interactive tasks are judged by the LangGraph agent
(`agents.judge_graph`) for IFS / VFS / Final. Every row says which backends produced it.

Errors are split as scores need them: a page that fails (crash, hang, no code) is
scored (exec false, zeros); a judge failure (Chromium died, a judge model is down)
raises `JudgeError` and is never scored as the page's fault.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import multiprocessing
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from judge.browser.mirror import MODES as LIBRARY_MODES, default_mode, library_scope
from judge.browser.runtime import Browser, BrowserError
from judge.errors import JudgeError
from judge.files import atomic_write, cache_dir, sha256_file
from judge.libs import library_key, page_block
from judge.record import page_folders, render_page
from judge.video import reference_frames  # noqa: F401 (re-exported)
from judge.tasks import Task, load_task

SCORER_VERSION = "2"  # bump when a score for the same page can change (2: interactive verdict rules)


@dataclass
class ScoreConfig:
    embedder: str = "auto"          # auto | classic | dreamsim
    tracker: str = "auto"           # auto | opencv | cotracker
    time_base: str = "absolute"     # absolute | resampled
    scale: str = "shared"           # shared | own
    judge_model: str | None = None  # provider/model for grounding, assertions, rubric (None: offline)
    libraries: str = "mirror"       # mirror | nearest | off: CDN libraries served offline (judge.browser.mirror)
    cache_dir: Path | None = None   # reference features cache (default ~/.cache/webjudge/features)
    extra: dict = field(default_factory=dict)

    def backend_key(self) -> str:
        return (f"{self.embedder}|{self.tracker}|{self.time_base}|{self.scale}|{self.judge_model}"
                + library_key(self.libraries))


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
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + f".{os.getpid()}.tmp.npz")
    feats.save(tmp)
    tmp.replace(path)
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


async def score_animation_page(task: Task, html: bytes | None, *, browser: Browser, config: ScoreConfig,
                               artifacts: Path | None = None) -> dict:
    """Render the candidate (in this process, through `browser`), then compute the metrics.

    The metrics (CPU-bound numpy/OpenCV work, plus the reference features on a cache miss
    and the filmstrip) run in a worker thread, or, when `config.extra["metrics_pool"]` is a
    `concurrent.futures` executor (`metrics_pool(n)`), in that pool; frames then travel
    through a temporary `.npy` file in /dev/shm that the worker memory-maps (no pickling).
    `config.extra["render_slots"]` (an `asyncio.Semaphore`), when given, is held during
    the render only, so a caller can bound pages rendering at once separately from pages
    being scored."""
    spec = task.spec
    code_present = bool(html and html.strip())
    render = None
    if code_present:
        try:
            async with config.extra.get("render_slots") or contextlib.nullcontext():
                render = await render_page(browser, html, viewport=spec.viewport, fps=spec.fps,
                                           n_frames=spec.n_frames, folders=page_folders(None, task.assets_path))
        except BrowserError as e:
            raise JudgeError(str(e)) from None
    frames = render.frames if render else None
    exec_info = {"code_present": code_present, "fatal_error": render.fatal if render else None}
    pool = config.extra.get("metrics_pool")
    job_config = replace(config, extra={k: v for k, v in config.extra.items() if k not in _LIVE_EXTRA})
    if pool is None:
        result = await asyncio.to_thread(_animation_metrics, task, frames, exec_info, job_config, artifacts)
    else:
        shared = None
        if frames is not None and frames.nbytes > (1 << 20):
            shared = await asyncio.to_thread(_share_frames, frames)
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                pool, _pooled_animation_metrics, task, shared or frames, exec_info, job_config, artifacts)
        except BrokenProcessPool as e:
            raise JudgeError(f"a metrics worker process died ({e or 'killed'})") from None
        finally:
            if shared:
                Path(shared).unlink(missing_ok=True)
    result["render"] = render.summary() if render else {"frames": 0, "fatal": "no code"}
    return result


_LIVE_EXTRA = ("metrics_pool", "render_slots")  # process-local objects: not sent to pool workers


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
    embedder, tracker, _ = animation_backends(replace(config, extra={}))
    return {"embedder": embedder.name, "tracker": tracker.name}


def _init_metrics_worker(threads: int) -> None:
    import cv2

    cv2.setNumThreads(threads)
    import metrics.animation  # noqa: F401  (imports paid once, before the first task)


def metrics_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool for the animation metrics (spawned, not forked: the parent runs an
    event loop and Playwright threads). Put it in `ScoreConfig.extra["metrics_pool"]`."""
    threads = max(1, (os.cpu_count() or 1) // max(1, workers))
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_metrics_worker, initargs=(threads,))


async def score_page(task: Task, html: bytes | str | None, *, browser: Browser, config: ScoreConfig | None = None,
                     artifacts: Path | None = None) -> dict:
    """Score `html` (None or empty: no code was produced) on `task`. Returns the result row
    (contract in docs/CONTRACTS.md, minus the run fields). Raises `JudgeError`."""
    config = config or ScoreConfig()
    if isinstance(html, str):
        html = html.encode("utf-8")
    row = {"task_id": task.id, "family": task.family,
           "page_sha256": hashlib.sha256(html).hexdigest() if html else None, "scorer_version": SCORER_VERSION}
    with library_scope(config.libraries) as libs:   # hook: pages' CDN libraries (judge.browser.mirror)
        if task.family == "animation":
            row.update(await score_animation_page(task, html, browser=browser, config=config, artifacts=artifacts))
        else:
            from agents.judge_graph import judge_page

            row.update(await judge_page(task, html, browser=browser, config=config, artifacts=artifacts))
    row.update(libs.row_fields())
    return row


# ---- judge score --------------------------------------------------------------------
def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("score", help="score one candidate page against one task")
    p.add_argument("task", type=Path, help="task folder (with task.json)")
    p.add_argument("page", type=Path, help="candidate HTML file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_backend_args(p)
    p.add_argument("--artifacts", type=Path, default=None, help="write filmstrips / step screenshots here")
    p.set_defaults(func=run)
    return p


def add_backend_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--embedder", default=os.environ.get("WEBJUDGE_EMBEDDER", "auto"),
                   choices=["auto", "classic", "dreamsim"], help="frame embedder (default: dreamsim if its weights are available, else classic)")
    p.add_argument("--tracker", default=os.environ.get("WEBJUDGE_TRACKER", "auto"),
                   choices=["auto", "opencv", "cotracker"], help="point tracker (default: cotracker if available, else opencv)")
    p.add_argument("--time-base", default="absolute", choices=["absolute", "resampled"])
    p.add_argument("--scale", default="shared", choices=["shared", "own"])
    p.add_argument("--judge-model", default=None, help="provider/model for grounding, assertions and the visual rubric")
    p.add_argument("--libraries", default=default_mode(), choices=LIBRARY_MODES,
                   help="CDN libraries and web fonts the page requests: mirror (default; pinned versions served "
                        "offline), nearest (also the nearest mirrored version of the same major), off (all blocked)")


def config_from_args(args) -> ScoreConfig:
    return ScoreConfig(embedder=args.embedder, tracker=args.tracker, time_base=args.time_base,
                       scale=args.scale, judge_model=args.judge_model,
                       libraries=getattr(args, "libraries", None) or default_mode())



def score_in_own_browser(task: Task, html: bytes, config: ScoreConfig, artifacts: Path | None = None) -> dict:
    """`score_page` in a Chromium of its own (the one-page CLI commands). A browser that
    cannot start or dies is a `JudgeError` (not the page's fault)."""
    async def go():
        async with Browser() as b:
            return await score_page(task, html, browser=b, config=config, artifacts=artifacts)

    try:
        return asyncio.run(go())
    except BrowserError as e:
        raise JudgeError(str(e)) from None


def run(args) -> int:
    from judge.errors import UsageError
    from judge.validate import require_valid

    task = load_task(args.task)
    if not args.page.is_file():
        raise UsageError(f"{args.page}: page not found")
    require_valid(task.root)  # a broken video or checkpoint fails fast, naming the field
    html = args.page.read_bytes()

    row = score_in_own_browser(task, html, config_from_args(args), args.artifacts)   # JudgeError: exit 3
    if args.json:
        print(json.dumps(row, indent=2, default=str))
    else:
        print(format_row(row))
        for line in page_block(row):   # libraries served, requests blocked, page errors
            print(line)
        for note in row.get("backend_notes", []):
            print(f"  note: {note}")
    return 0


def format_row(row: dict) -> str:
    b = row.get("backends", {})
    backends = ", ".join(f"{k}={v}" for k, v in b.items() if v)
    if row["family"] == "animation":
        temporal = "undefined (reference has no motion)" if row["temporal"] is None else f"{row['temporal']:.3f}"
        return (f"{row['task_id']}: exec={row['exec']} appearance={row['appearance']:.3f} "
                f"temporal={temporal} static={row['static']}  [{backends}]")
    return (f"{row['task_id']}: ifs={row['ifs']:.3f} ifs_steps={row['ifs_steps']:.3f} vfs={row['vfs']:.3f} "
            f"final={row['final']:.3f}" + (f" weak_steps={row['weak_steps']}" if row.get("weak_steps") else "")
            + f"  [{backends}]")
