"""Import IWR-Bench (`data.jsonl` + `data/<id>/`) as interactive webjudge tasks.

Input layout (Hugging Face `IWR-Bench/IWR-Bench`)::

    data.jsonl                     one task per line (id, classification, recording_details,
                                   source_website, action_sequence[])
    data/<id>/video.mp4
    data/<id>/assets/<file>        real assets the page may load
    data/<id>/checkpoints/step_<j>.png
    data/<id>/metadata.json        optional

The task folder is `<dir of data.jsonl>/<stem of data.jsonl>/<id>` (what IWR-Bench's own
evaluate.py uses), falling back to `<dir of data.jsonl>/data/<id>`.

Output per task: `out/<id>/task.json` (family interactive; viewport from
`recording_details.resolution`; fps and duration probed from the video), `video.mp4`,
`assets/` (copied, or symlinked with `link_assets`), and checkpoints **keyed by action
index**: the file an action names in `checkpoint_screenshot` (relative to the task's data
folder; a bare file name is looked up in `checkpoints/` first) becomes
`checkpoints/step_<action index>.png`. Nothing is paired by list position: a visually
flagged action without `checkpoint_screenshot` gets no checkpoint and a warning.

The initial-state screenshot becomes `checkpoints/initial.png`, taken from, in order: a
task-line `initial_screenshot`/`initial_checkpoint` field, `checkpoints/initial.png`, or
`checkpoints/step_0.png` when no action names it (IWR-Bench's evaluator compares its
screenshot 0, the page after load, with `step_0.png`). `metadata.iwr_initial_checkpoint`
records which file was used.

Scroll actions without a direction get "down" (IWR-Bench always scrolled down).
IWR-Bench's `element_index` per action is kept in `metadata.iwr_element_index`.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from judge.importers import (ImportFailed, ImportProblem, TaskImportError, copy_or_link, log, log_to_stderr,
                             stage_task_dir)
from judge.tasks import Action, TaskSpec, Viewport, save_spec
from judge.video import VideoError, probe

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_IWR_FIELD = {"description": "parameters.description", "text": "parameters.text", "key": "parameters.key",
              "direction": "parameters.direction", "amount": "parameters.scroll_page",
              "visual_check": "visual_evaluation_flag", "assertion": "logical_assertion"}
_CONSUMED = {"id", "classification", "recording_details", "source_website", "action_sequence",
             "initial_screenshot", "initial_checkpoint"}


def import_iwr(data_jsonl: Path | str, out_dir: Path | str, *, link_assets: bool = False,
               ids: list[str] | None = None) -> list[Path]:
    """Import the tasks of an IWR-Bench `data.jsonl` into `out_dir/<id>/`.

    Returns the task folders written. If any task fails, every other task is still
    imported and then `ImportFailed` is raised, listing each problem as
    `data.jsonl:LINE: field: message` and carrying the folders written in `.written`.
    """
    data_jsonl, out_dir = Path(data_jsonl), Path(out_dir)
    if not data_jsonl.is_file():
        raise ImportFailed([ImportProblem(data_jsonl, "", "file not found")])
    wanted = {str(i) for i in ids} if ids else None
    seen: dict[str, int] = {}
    written: list[Path] = []
    problems: list[ImportProblem] = []
    with data_jsonl.open(encoding="utf-8") as f:
        lines = list(enumerate(f, 1))
    for lineno, line in lines:
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(ImportProblem(data_jsonl, "", f"bad JSON line ({e.msg} at column {e.colno})", lineno))
            continue
        if not isinstance(rec, dict):
            problems.append(ImportProblem(data_jsonl, "", f"expected a JSON object, got {type(rec).__name__}",
                                          lineno))
            continue
        if rec.get("id") in (None, ""):
            problems.append(ImportProblem(data_jsonl, "id", "missing task id", lineno))
            continue
        task_id = str(rec["id"])
        if wanted is not None and task_id not in wanted:
            continue
        if task_id in seen:
            problems.append(ImportProblem(data_jsonl, "id", f"duplicate task id {task_id!r} "
                                                            f"(first on line {seen[task_id]})", lineno))
            continue
        seen[task_id] = lineno
        try:
            written.append(_import_task(rec, task_id, data_jsonl, lineno, out_dir, link_assets))
        except TaskImportError as e:
            problems.append(e.problem)
        except OSError as e:
            problems.append(ImportProblem(data_jsonl, "", f"task {task_id!r}: {e}", lineno))
    for missing in sorted((wanted or set()) - set(seen)):
        problems.append(ImportProblem(data_jsonl, "id", f"task id {missing!r} (from ids) not found"))
    if problems:
        raise ImportFailed(problems, written)
    return written


def _task_data_dir(data_jsonl: Path, task_id: str) -> Path:
    candidates = [data_jsonl.parent / data_jsonl.stem / task_id, data_jsonl.parent / "data" / task_id]
    return next((c for c in candidates if c.is_dir()), candidates[0])


def _import_task(rec: dict, task_id: str, data_jsonl: Path, lineno: int, out_dir: Path, link: bool) -> Path:
    def fail(field: str, message: str):
        raise TaskImportError(ImportProblem(data_jsonl, field, f"task {task_id!r}: {message}", lineno))

    if not _ID.match(task_id):
        fail("id", "ids may hold only letters, digits, '.', '_' and '-' (and start with a letter or digit)")
    data_dir = _task_data_dir(data_jsonl, task_id)
    warnings: list[str] = []

    rd = rec.get("recording_details") or {}
    if not isinstance(rd, dict):
        fail("recording_details", f"expected an object, got {type(rd).__name__}")
    viewport = None
    if rd.get("resolution") not in (None, ""):
        try:
            viewport = Viewport.parse(rd["resolution"])
        except (ValueError, ValidationError) as e:
            fail("recording_details.resolution", _first_error(e))

    seq = rec.get("action_sequence")
    if not isinstance(seq, list) or not seq:
        fail("action_sequence", "an interactive task needs a non-empty list of actions")
    actions = [_convert_action(a, k, fail) for k, a in enumerate(seq)]

    video = data_dir / "video.mp4"
    if not data_dir.is_dir():
        fail("video", f"missing video: task folder {data_dir} not found")
    if not video.is_file():
        fail("video", f"missing video: {video} not found")
    try:
        info = probe(video)
    except VideoError as e:
        fail("video", f"unreadable video: {e}")
    if viewport is None:
        try:
            viewport = Viewport(width=info.width, height=info.height)
        except ValidationError as e:
            fail("recording_details.resolution", f"missing, and the video size {info.width}x{info.height} "
                                                 f"is not a valid viewport ({_first_error(e)})")
        warnings.append(f"no recording_details.resolution: viewport {viewport} taken from the video")
    elif (info.width, info.height) != (viewport.width, viewport.height):
        warnings.append(f"video is {info.width}x{info.height} but recording_details.resolution is {viewport}")

    with stage_task_dir(out_dir, task_id) as stage:
        named: dict[Path, int] = {}
        for k, a in enumerate(seq):
            cs = a.get("checkpoint_screenshot")
            field = f"action_sequence[{k}].checkpoint_screenshot"
            if cs in (None, "", False):
                if a.get("visual_evaluation_flag"):
                    warnings.append(f"{field}: action {k} is visually flagged but names no checkpoint; "
                                    f"none assigned (checkpoints are not paired by list position)")
                continue
            src = _resolve_checkpoint(cs, data_dir, data_jsonl.parent)
            if src is None:
                fail(field, f"checkpoint {cs!r} not found (looked in {data_dir} and {data_dir / 'checkpoints'})")
            if src.resolve() in named:
                warnings.append(f"{field}: {src.name} is also the checkpoint of action {named[src.resolve()]}")
            named.setdefault(src.resolve(), k)
            rel = f"checkpoints/step_{k}.png"
            _copy_png(src, stage.dir / rel, lambda m, f=field: fail(f, m))
            actions[k] = actions[k].model_copy(update={"checkpoint": rel})

        initial_src = _initial_checkpoint(rec, data_dir, data_jsonl.parent, set(named), fail)
        if initial_src is not None:
            _copy_png(initial_src, stage.dir / "checkpoints" / "initial.png",
                      lambda m: fail("initial_screenshot", m))

        copy_or_link(video, stage.dir / "video.mp4", link)
        assets = data_dir / "assets"
        if assets.is_dir():
            copy_or_link(assets, stage.dir / "assets", link)

        metadata = _metadata(rec, seq, data_dir, initial_src, warnings)
        try:
            spec = TaskSpec(id=task_id, family="interactive", viewport=viewport, fps=info.fps,
                            duration_s=info.duration_s, video="video.mp4",
                            assets_dir="assets" if assets.is_dir() else None, actions=actions,
                            metadata=metadata)
        except ValidationError as e:
            err = e.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            fail("video" if loc in ("fps", "duration_s") else loc or "id",
                 f"{loc}: {err['msg']}" if loc else err["msg"])
        save_spec(spec, stage.dir)
    for w in warnings:
        log.warning("%s:%d: task %r: %s", data_jsonl, lineno, task_id, w)
    return stage.final


def _first_error(e: Exception) -> str:
    if isinstance(e, ValidationError):
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        return f"{loc}: {err['msg']}" if loc else err["msg"]
    return str(e)


def _convert_action(a: Any, k: int, fail) -> Action:
    field = f"action_sequence[{k}]"
    if not isinstance(a, dict):
        fail(field, f"expected an object, got {type(a).__name__}")
    t = a.get("type")
    if not isinstance(t, str) or not t.strip():
        fail(f"{field}.type", f"missing action type at action {k}")
    params = a.get("parameters") or {}
    if not isinstance(params, dict):
        fail(f"{field}.parameters", f"expected an object, got {type(params).__name__}")
    params = dict(params)
    if t.strip().lower() == "scroll" and params.get("direction") in (None, ""):
        params["direction"] = "down"        # IWR-Bench always scrolled down
    payload: dict[str, Any] = {"type": t, "parameters": params}
    for key in ("visual_evaluation_flag", "logical_assertion"):
        if key in a:
            payload[key] = a[key]
    try:
        return Action.model_validate(payload)
    except ValidationError as e:
        err = e.errors()[0]
        loc = [p for p in err["loc"] if not (isinstance(p, str) and "[" in p)]
        if loc == ["type"]:
            fail(f"{field}.type", f"unknown action type {t!r} at action {k} (IWR-Bench uses Click|Scroll|Type|Press)")
        sub = _IWR_FIELD.get(str(loc[0]), str(loc[0])) if loc else ""
        msg = err["msg"].removeprefix("Value error, ")
        fail(f"{field}.{sub}" if sub else field, f"{msg} (input {err.get('input')!r})" if sub else msg)


def _resolve_checkpoint(cs: Any, data_dir: Path, dataset_dir: Path) -> Path | None:
    if isinstance(cs, int) and not isinstance(cs, bool):
        candidates = [data_dir / "checkpoints" / f"step_{cs}.png"]
    else:
        p = Path(str(cs))
        if p.is_absolute():
            candidates = [p]
        elif len(p.parts) == 1:
            candidates = [data_dir / "checkpoints" / p, data_dir / p]
        else:
            candidates = [data_dir / p, dataset_dir / p]
        if not p.suffix:
            candidates += [c.with_name(c.name + ".png") for c in candidates]
    return next((c for c in candidates if c.is_file()), None)


def _initial_checkpoint(rec: dict, data_dir: Path, dataset_dir: Path, named: set[Path], fail) -> Path | None:
    for key in ("initial_screenshot", "initial_checkpoint"):
        if rec.get(key):
            src = _resolve_checkpoint(rec[key], data_dir, dataset_dir)
            if src is None:
                fail(key, f"initial screenshot {rec[key]!r} not found")
            return src
    for name in ("initial.png", "step_0.png"):
        p = data_dir / "checkpoints" / name
        if p.is_file() and p.resolve() not in named:
            return p
    return None


def _copy_png(src: Path, dst: Path, fail) -> None:
    """Copy a PNG as is; re-encode any other image as PNG. Unreadable images are errors."""
    from PIL import Image

    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        with Image.open(src) as im:
            im.load()
            if im.format == "PNG":
                dst.write_bytes(src.read_bytes())
            else:
                im.convert("RGB").save(dst, format="PNG")
    except OSError as e:
        fail(f"{src}: not a readable image ({type(e).__name__}: {e})")


def _metadata(rec: dict, seq: list, data_dir: Path, initial: Path | None, warnings: list[str]) -> dict:
    md: dict[str, Any] = {"source": "IWR-Bench"}
    for key in ("source_website", "classification"):
        if rec.get(key) is not None:
            md[key] = rec[key]
    if rec.get("recording_details") is not None:
        md["recording_details"] = rec["recording_details"]
    md["iwr_element_index"] = [(a.get("parameters") or {}).get("element_index") for a in seq]
    md["iwr_checkpoint_screenshot"] = [a.get("checkpoint_screenshot") or None for a in seq]
    if initial is not None:
        md["iwr_initial_checkpoint"] = initial.relative_to(data_dir).as_posix() \
            if initial.is_relative_to(data_dir) else str(initial)
    extra = {k: v for k, v in rec.items() if k not in _CONSUMED}
    if extra:
        md["iwr_extra"] = extra
    meta_file = data_dir / "metadata.json"
    if meta_file.is_file():
        try:
            md["iwr_metadata"] = json.loads(meta_file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            warnings.append(f"{meta_file}: not valid JSON ({e}); not kept")
    if warnings:
        md["import_warnings"] = list(warnings)
    return md


# --------------------------------------------------------------------------- CLI

def add_parser(tasks_subparsers) -> argparse.ArgumentParser:
    p = tasks_subparsers.add_parser(
        "import-iwr", help="import IWR-Bench tasks (data.jsonl + data/<id>/) as interactive tasks",
        description="Import IWR-Bench tasks. Exit 0 if all imported, 1 if some failed "
                    "(the others are still written), 2 if DATA_JSONL does not exist.")
    p.add_argument("data_jsonl", type=Path, metavar="DATA_JSONL", help="IWR-Bench data.jsonl")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (tasks go to DIR/<id>/)")
    p.add_argument("--link-assets", action="store_true", help="symlink video.mp4 and assets/ instead of copying")
    p.add_argument("--ids", nargs="+", metavar="ID", help="import only these task ids")
    p.set_defaults(func=_cli)
    return p


def _cli(args: argparse.Namespace) -> int:
    if not args.data_jsonl.is_file():
        print(f"{args.data_jsonl}: file not found", file=sys.stderr)
        return 2
    try:
        with log_to_stderr():
            written = import_iwr(args.data_jsonl, args.out, link_assets=args.link_assets, ids=args.ids)
    except ImportFailed as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"imported {len(e.written)} tasks into {args.out}, {len(e.problems)} failed")
        return 1
    print(f"imported {len(written)} tasks into {args.out}")
    return 0

