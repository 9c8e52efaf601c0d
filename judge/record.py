"""Rendering pages to videos, and authoring tasks from reference pages.

- `render_page`: a page → frames at fps for a duration (virtual clock), streamed into a
  lossless video. Used by `judge render`, by `judge tasks record --family animation`,
  and by the scorers (which keep the frames in memory instead).
- `record_interactive`: a reference page + structured actions → the whole interaction
  as a screen recording (with the pointer drawn as a user's recording shows it), the
  checkpoint screenshot after every action, and `task.json`.
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from judge.browser.runtime import Browser, PageError
from judge.browser.sandbox import SandboxLog, page_folders  # noqa: F401 (page_folders: re-exported)
from judge.errors import InputError
from judge.tasks import Action, TaskSpec, Viewport, save_spec
from judge.video import VideoWriter

SETTLE_MS = 1000.0      # virtual time the page gets after each action
MOVE_MS = 400.0         # pointer travel shown in the recording before each action


@dataclass
class RenderResult:
    frames: np.ndarray | None     # (T, H, W, 3) uint8, None when streamed to a video only
    n_frames: int
    fps: float
    wall_s: float
    log: SandboxLog
    fatal: str | None = None      # load failure, crash, hang: the page did not run
    video: Path | None = None

    def summary(self) -> dict:
        return {"frames": self.n_frames, "fps": self.fps, "wall_s": round(self.wall_s, 3),
                "fatal": self.fatal, "page_errors": self.log.page_errors, "console_errors": self.log.console_errors,
                "blocked_requests": self.log.blocked, "dialogs": self.log.dialogs, "popups": self.log.popups,
                "navigations": self.log.navigations, "downloads": self.log.downloads, "crashed": self.log.crashed,
                "dropped_log_entries": self.log.dropped, "video": str(self.video) if self.video else None}


async def render_page(browser: Browser, html: str | bytes, *, viewport: Viewport, fps: float,
                      n_frames: int, folders: dict[str, Path] | None = None,
                      video_path: Path | None = None, keep_frames: bool = True) -> RenderResult:
    """Render `n_frames` frames at `fps` of virtual time. A page that fails to load or
    hangs returns `fatal` (with whatever frames were captured) instead of raising."""
    t0 = time.perf_counter()
    writer = VideoWriter(video_path, fps) if video_path else None
    frames = np.zeros((n_frames, viewport.height, viewport.width, 3), np.uint8) if keep_frames else None
    count = 0

    def on_frame(i: int, frame: np.ndarray) -> None:
        nonlocal count
        if frames is not None:
            frames[i] = frame
        if writer is not None:
            writer.write(frame)
        count = i + 1

    fatal = None
    async with browser.session(html, (viewport.width, viewport.height), folders) as s:
        try:
            await s.load()
            await s.capture(n_frames, fps, on_frame=on_frame)
        except PageError as e:
            fatal = str(e)
        log = s.log
    if writer is not None:
        if count:
            writer.close()
        else:
            writer.abort()
    if frames is not None and count < n_frames:
        frames = frames[:count]
    return RenderResult(frames=frames, n_frames=count, fps=fps, wall_s=time.perf_counter() - t0, log=log,
                        fatal=fatal, video=video_path if (writer and count) else None)


# ---- interactive recording -------------------------------------------------------------

_CURSOR = np.array([[0, 0], [0, 17], [4, 13], [7, 20], [10, 19], [7, 12], [12, 12]], np.int32)


def draw_pointer(frame: np.ndarray, x: float, y: float, pressed: bool = False) -> np.ndarray:
    """Draw an arrow pointer with its tip at (x, y), as screen recordings show it."""
    out = frame.copy()
    pts = _CURSOR + np.array([int(round(x)), int(round(y))], np.int32)
    cv2.fillPoly(out, [pts], (0, 0, 0), lineType=cv2.LINE_AA)
    cv2.polylines(out, [pts], True, (255, 255, 255), 1, lineType=cv2.LINE_AA)
    if pressed:
        cv2.circle(out, (int(round(x)), int(round(y))), 9, (255, 160, 0), 2, lineType=cv2.LINE_AA)
    return out


@dataclass
class RecordedStep:
    index: int
    action: Action
    hint: str | None
    error: str | None = None
    log: dict = field(default_factory=dict)


class RecordError(InputError):
    """The actions or the reference page cannot be recorded (bad input, exit 2)."""


async def record_interactive(browser: Browser, page_path: Path, actions: list[Action], out_dir: Path, *,
                             task_id: str, viewport: Viewport, fps: float = 30.0,
                             assets_dir: Path | None = None, metadata: dict | None = None) -> TaskSpec:
    """Replay structured actions on the reference page under the virtual clock; write
    `video.mp4`, `checkpoints/initial.png`, `checkpoints/step_<k>.png` and `task.json`.
    Every action must be grounded by its hints and performed, else `RecordError`."""
    from agents.actions import ground_locator, locate_by_hints, perform

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "checkpoints").mkdir(exist_ok=True)
    html = page_path.read_bytes()
    vp = (viewport.width, viewport.height)
    folders = page_folders(page_path.parent, assets_dir)
    frame_ms = 1000.0 / fps
    recorded: list[Action] = []
    writer = VideoWriter(out_dir / "video.mp4", fps)
    pointer = [vp[0] / 2, vp[1] / 2]
    try:
        async with browser.session(html, vp, folders) as s:
            await s.load()
            t = 0.0

            async def film(ms: float, move_to: tuple[float, float] | None = None) -> None:
                nonlocal t
                steps = max(1, int(round(ms / frame_ms)))
                start = list(pointer)
                for i in range(1, steps + 1):
                    if move_to is not None:
                        pointer[0] = start[0] + (move_to[0] - start[0]) * i / steps
                        pointer[1] = start[1] + (move_to[1] - start[1]) * i / steps
                        await s.page.mouse.move(*pointer)
                    t = await s.advance_to(t + frame_ms)
                    writer.write(draw_pointer(await s.screenshot(), *pointer))

            writer.write(draw_pointer(await s.screenshot(), *pointer))
            await film(SETTLE_MS)
            (out_dir / "checkpoints" / "initial.png").write_bytes(await s.screenshot_png())
            for k, action in enumerate(actions):
                at = drop = None
                hint = None
                if not action.target.is_empty():
                    loc, hint = await locate_by_hints(s.page, action.target)
                    if loc is None:
                        raise RecordError(f"action {k} ({action.description!r}): no visible element matches its target hints")
                    at = await ground_locator(loc, vp)
                    if at is None:
                        raise RecordError(f"action {k} ({action.description!r}): target has no visible box")
                if action.type == "drag":
                    loc2, _ = await locate_by_hints(s.page, action.to_target)
                    drop = await ground_locator(loc2, vp) if loc2 is not None else None
                await film(MOVE_MS, (at.x, at.y) if at else None)
                if at is not None:  # the pointer leaving a hover target can move the layout: re-aim
                    again = await ground_locator(loc, vp)
                    if again is not None and abs(again.x - at.x) + abs(again.y - at.y) >= 2:
                        at = again
                        await film(frame_ms, (at.x, at.y))
                update: dict = {"timestamp_s": round(t / 1000.0, 4)}
                if at is not None:
                    update["target"] = action.target.model_copy(update={"bbox": tuple(round(v, 1) for v in at.box)})
                try:
                    await perform(s.page, action, at, vp, drop, tick=lambda: s.settle(34.0))
                except Exception as e:
                    raise RecordError(f"action {k} ({action.description!r}) failed on the reference page: {e}") from None
                if action.type in ("click", "dblclick", "type", "press"):
                    pointer[:] = [at.x, at.y] if at else pointer
                wait_ms = (action.amount or 1.0) * 1000 if action.type == "wait" else 0.0
                await film(SETTLE_MS + wait_ms)
                shot = f"checkpoints/step_{k}.png"
                (out_dir / shot).write_bytes(await s.screenshot_png())
                update["checkpoint"] = shot
                recorded.append(action.model_copy(update=update))
            await s.collect_errors()
            if s.log.page_errors or s.log.navigations or s.log.blocked:
                raise RecordError(f"the reference page misbehaved while recording: "
                                  f"{(s.log.page_errors + s.log.navigations + s.log.blocked)[:3]}")
            duration = (t + frame_ms) / 1000.0
        writer.close()
    except BaseException:
        writer.abort()
        raise
    page_name = "reference.html"
    if page_path.resolve() != (out_dir / page_name).resolve():
        shutil.copyfile(page_path, out_dir / page_name)
    spec = TaskSpec(id=task_id, family="interactive", viewport=viewport, fps=fps, duration_s=round(duration, 4),
                    video="video.mp4", reference_page=page_name,
                    assets_dir="assets" if assets_dir else None, actions=recorded,
                    metadata={"recorded_by": "judge tasks record", **(metadata or {})})
    if assets_dir and assets_dir.resolve() != (out_dir / "assets").resolve():
        shutil.copytree(assets_dir, out_dir / "assets", dirs_exist_ok=True)
    save_spec(spec, out_dir)
    return spec


def load_actions_file(path: Path) -> list[Action]:
    """A JSON list of actions in the `Action` schema (IWR-Bench fields accepted)."""
    from pydantic import ValidationError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise RecordError(f"{path}: not readable JSON ({e})") from None
    if isinstance(data, dict) and "actions" in data:
        data = data["actions"]
    if not isinstance(data, list) or not data:
        raise RecordError(f"{path}: expected a non-empty JSON list of actions")
    out = []
    for i, item in enumerate(data):
        try:
            out.append(Action.model_validate(item))
        except ValidationError as e:
            err = e.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise RecordError(f"{path}: [{i}]{'.' + loc if loc else ''}: {err['msg']}") from None
    return out
