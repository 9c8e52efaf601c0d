"""Task validation: every problem in a task folder, each naming its file and field.

`validate_task_dir(folder)` checks one task folder, `validate_paths(paths)` every task
folder under the given paths (plus duplicate ids across them); `require_valid(folder)`
raises `TaskError` for the first error (`judge score` and `judge evaluate` call it before
any work). Unlike `load_task`, which
stops at the first schema error, these report everything they can find: all schema errors
(dotted field paths such as `actions[3].type`), and the files the spec names even when the
schema is invalid (best effort from the raw JSON).

Errors make a task unusable; warnings are suspicious but scoreable:
- warning: video fps or duration far from the spec (ratio > 1.5, or duration off by more
  than max(1 s, 50 %)); an action with `visual_check` but no checkpoint (VFS cannot score it).
  Actions without `visual_check` need no checkpoint (most IWR-Bench actions have none).
- error: everything else below.

CLI: `judge tasks validate PATH… [--json] [--strict]` (see `add_parser`).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from judge.tasks import ACTION_TYPES, TaskSpec, Viewport, find_task_dirs
from judge.video import VideoError, probe

Severity = Literal["error", "warning"]
_FPS_RATIO = 1.5          # video fps vs spec fps: warn beyond this ratio (either way)
_DURATION_TOL = 0.5       # duration: warn beyond max(1 s, 50 % of the spec duration)
_HTML_TAG = re.compile(rb"<\s*[A-Za-z!]")


@dataclass(frozen=True)
class Problem:
    path: Path
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}" if self.field else f"{self.path}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "field": self.field, "message": self.message, "severity": self.severity}


# --------------------------------------------------------------------------- schema

def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, str) and "[" in part:      # pydantic's validator names, e.g. function-after[...]
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _schema_problems(data: Any, path: Path) -> list[Problem]:
    try:
        TaskSpec.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            field = _loc(tuple(err["loc"]))
            msg = err["msg"]
            if err["type"] == "literal_error" and re.fullmatch(r"actions\[\d+\]\.type", field):
                msg = f"unknown action type {err.get('input')!r} (expected one of {', '.join(ACTION_TYPES)})"
            elif msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            problems.append(Problem(path, field, msg))
        return problems
    return []


# --------------------------------------------------------------------------- files

@dataclass
class _View:
    """What the file checks need, from a valid spec or (best effort) from the raw JSON."""
    id: str | None
    family: str | None
    viewport: Viewport | None
    fps: float | None
    duration_s: float | None
    video: str | None
    reference_page: str | None
    assets_dir: str | None
    actions: list[tuple[int, str | None, bool]]    # (index, checkpoint, visual_check)


def _view_from_spec(spec: TaskSpec) -> _View:
    return _View(spec.id, spec.family, spec.viewport, spec.fps, spec.duration_s, spec.video,
                 spec.reference_page, spec.assets_dir,
                 [(i, a.checkpoint, a.visual_check) for i, a in enumerate(spec.actions)])


def _view_from_raw(data: dict) -> _View:
    def s(v):
        return v if isinstance(v, str) and v else None

    def num(v):
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 else None

    try:
        viewport = Viewport.parse(data["viewport"]) if "viewport" in data else Viewport()
    except Exception:
        viewport = None
    actions = []
    raw_actions = data.get("actions") if isinstance(data.get("actions"), list) else []
    for i, a in enumerate(raw_actions):
        if isinstance(a, dict):
            cp = s(a.get("checkpoint")) or s(a.get("checkpoint_screenshot"))
            vc = bool(a.get("visual_check", a.get("visual_evaluation_flag", False)))
            actions.append((i, cp, vc))
    video = data.get("video", "video.mp4")
    fps = num(data.get("fps", 30.0))
    return _View(s(str(data["id"])) if isinstance(data.get("id"), (str, int)) else None,
                 s(data.get("family")), viewport, fps, num(data.get("duration_s")),
                 s(video), s(data.get("reference_page")), s(data.get("assets_dir")), actions)


def _video_problems(v: _View, root: Path) -> list[Problem]:
    if v.video is None:
        return []
    path = root / v.video
    try:
        info = probe(path)
    except VideoError as e:
        msg = str(e)[len(str(e.path)) + 2:] if str(e).startswith(str(e.path)) else str(e)
        return [Problem(path, "video", msg)]
    problems = []
    corrupt = _integrity(path, info.n_frames)
    if corrupt:
        problems.append(Problem(path, "video", corrupt))
    if v.viewport and (info.width, info.height) != (v.viewport.width, v.viewport.height):
        problems.append(Problem(path, "video", f"video size {info.width}x{info.height} differs from "
                                               f"viewport {v.viewport}"))
    if v.fps and info.fps > 0 and max(info.fps / v.fps, v.fps / info.fps) > _FPS_RATIO:
        problems.append(Problem(path, "fps", f"video runs at {info.fps:g} fps but the spec says {v.fps:g}",
                                "warning"))
    if v.duration_s and info.duration_s > 0 and \
            abs(info.duration_s - v.duration_s) > max(1.0, _DURATION_TOL * v.duration_s):
        problems.append(Problem(path, "duration_s", f"video lasts {info.duration_s:.2f} s but the spec says "
                                                    f"{v.duration_s:g} s", "warning"))
    return problems


def _integrity(path: Path, declared_frames: int) -> str | None:
    """Cheap corruption check: demux every packet (no decode) and decode the first frame.
    A truncated file (moov first) keeps its header, so `probe` succeeds; its packets stop early."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            declared = stream.frames or declared_frames
            present = sum(1 for p in container.demux(stream) if p.size)
        with av.open(str(path)) as container:
            first = next(iter(container.decode(container.streams.video[0])), None)
    except Exception as e:
        return f"corrupt or truncated video ({type(e).__name__}: {e})"
    if declared and present < declared:
        return f"truncated video: the container declares {declared} frames but only {present} are present"
    if first is None:
        return "video has no decodable frames"
    return None


def _image_problems(path: Path, field: str, viewport: Viewport | None) -> list[Problem]:
    if not path.is_file():
        return [Problem(path, field, "checkpoint file not found")]
    from PIL import Image

    try:
        with Image.open(path) as im:
            fmt, size = im.format, im.size
            im.load()
    except Exception as e:
        return [Problem(path, field, f"not a readable PNG ({type(e).__name__}: {e})")]
    if fmt != "PNG":
        return [Problem(path, field, f"not a PNG (the file is {fmt})")]
    if viewport and size != (viewport.width, viewport.height):
        return [Problem(path, field, f"checkpoint size {size[0]}x{size[1]} differs from viewport {viewport}")]
    return []


def _file_problems(v: _View, root: Path) -> list[Problem]:
    problems = _video_problems(v, root)
    if v.reference_page:
        page = root / v.reference_page
        if not page.is_file():
            problems.append(Problem(page, "reference_page", "reference page not found"))
        else:
            head = page.read_bytes()
            try:
                head.decode("utf-8")
                text = b"\x00" not in head
            except UnicodeDecodeError:
                text = False
            if not text:
                problems.append(Problem(page, "reference_page", "not a text file (binary or not UTF-8)"))
            elif not _HTML_TAG.search(head):
                problems.append(Problem(page, "reference_page", "not an HTML file (no tags)"))
    if v.assets_dir and not (root / v.assets_dir).is_dir():
        problems.append(Problem(root / v.assets_dir, "assets_dir", "assets folder not found"))
    for i, checkpoint, visual in v.actions:
        field = f"actions[{i}].checkpoint"
        if checkpoint:
            problems += _image_problems(root / checkpoint, field, v.viewport)
        elif visual:
            problems.append(Problem(root / "task.json", field, "action has visual_check but no checkpoint "
                                                               "(VFS cannot score this step)", "warning"))
    initial = root / "checkpoints" / "initial.png"
    if initial.exists():
        problems += _image_problems(initial, "checkpoints/initial.png", v.viewport)
    return problems


# --------------------------------------------------------------------------- public API

def _check(folder: Path) -> tuple[list[Problem], str | None]:
    path = folder / "task.json"
    if not path.is_file():
        return [Problem(path, "", "missing task.json")], None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        return [Problem(path, "", f"not UTF-8 text ({e})")], None
    except json.JSONDecodeError as e:
        return [Problem(path, "", f"not valid JSON (line {e.lineno} column {e.colno}: {e.msg})")], None
    if not isinstance(data, dict):
        return [Problem(path, "", f"expected a JSON object, got {type(data).__name__}")], None
    problems = _schema_problems(data, path)
    view = _view_from_spec(TaskSpec.model_validate(data)) if not problems else _view_from_raw(data)
    return problems + _file_problems(view, folder), view.id


def validate_task_dir(folder: Path | str) -> list[Problem]:
    """Every problem in one task folder (schema, video, reference page, assets, checkpoints).
    `folder` may also be the task.json file itself."""
    folder = Path(folder)
    return _check(folder.parent if folder.name == "task.json" and folder.is_file() else folder)[0]


def require_valid(folder: Path | str) -> None:
    """For commands that must not start on a broken task: raise `TaskError` for the first
    error `validate_task_dir` finds in `folder` (its task.json, the field, the file at fault
    and what is wrong, e.g. `t/task.json: video: t/video.mp4: file is empty (0 bytes)`).
    Warnings pass."""
    from judge.tasks import TaskError

    folder = Path(folder)
    errors = [p for p in validate_task_dir(folder) if p.severity == "error"]
    if errors:
        p, spec = errors[0], folder / "task.json"
        more = f" (+{len(errors) - 1} more: judge tasks validate {folder})" if len(errors) > 1 else ""
        raise TaskError(spec, p.field, (p.message if p.path == spec else f"{p.path}: {p.message}") + more)


def validate_paths(paths: list[Path | str]) -> list[Problem]:
    """Validate every task folder under `paths` (recursively) and check ids are unique.
    A path that does not exist or holds no task.json is itself a problem."""
    problems, _ = _validate_all(paths)
    return problems


def _validate_all(paths: list[Path | str]) -> tuple[list[Problem], int]:
    problems: list[Problem] = []
    dirs: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            problems.append(Problem(p, "", "path does not exist"))
            continue
        found = find_task_dirs([p])
        if not found:
            problems.append(Problem(p, "", "no task.json found under this path"))
        dirs += [d for d in found if d not in dirs]
    seen: dict[str, Path] = {}
    for d in dirs:
        found_problems, task_id = _check(d)
        problems += found_problems
        if task_id is not None:
            if task_id in seen:
                problems.append(Problem(d / "task.json", "id",
                                        f"duplicate task id {task_id!r} (also in {seen[task_id]})"))
            else:
                seen[task_id] = d
    return problems, len(dirs)


# --------------------------------------------------------------------------- CLI

def add_parser(tasks_subparsers) -> argparse.ArgumentParser:
    p = tasks_subparsers.add_parser(
        "validate", help="check task folders: schema, video, reference page, assets, checkpoints",
        description="Report every problem in the task folders under PATH (recursively). "
                    "Exit 0 if no errors, 1 on errors, 2 if a PATH does not exist.")
    p.add_argument("paths", nargs="+", metavar="PATH", type=Path, help="task folder(s) or folders of tasks")
    p.add_argument("--json", action="store_true", help="print a JSON report instead of lines")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.set_defaults(func=_cli)
    return p


def _cli(args: argparse.Namespace) -> int:
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        for p in missing:
            print(f"{p}: path does not exist", file=sys.stderr)
        return 2
    problems, n_tasks = _validate_all(args.paths)
    if args.strict:
        problems = [Problem(p.path, p.field, p.message, "error") for p in problems]
    n_err = sum(p.severity == "error" for p in problems)
    n_warn = len(problems) - n_err
    if args.json:
        print(json.dumps({"tasks": n_tasks, "errors": n_err, "warnings": n_warn,
                          "problems": [p.to_dict() for p in problems]}, indent=2))
    else:
        for p in problems:
            print(f"{p.severity}: {p}")
        print(f"{n_tasks} tasks, {n_err} errors, {n_warn} warnings")
    return 1 if n_err else 0
