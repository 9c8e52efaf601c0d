"""Task authoring commands: `judge render` (a page under the virtual clock into a lossless
video) and `judge tasks record` (a task folder from a reference page: video, checkpoints,
task.json; an interactive task is refused unless its own reference passes every action
under the offline judge). The rendering itself is `judge.record`."""
from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from judge.errors import UsageError
from judge.tasks import Viewport


def _viewport(value: str) -> Viewport:
    try:
        return Viewport.parse(value)
    except Exception as e:
        raise argparse.ArgumentTypeError(str(e)) from None


# ---- judge render --------------------------------------------------------------------
def add_render_parser(sub) -> None:
    p = sub.add_parser("render", help="render a page under the virtual clock into a lossless video")
    p.add_argument("page", type=Path, help="the HTML file")
    p.add_argument("--out", type=Path, required=True, help="output folder (video.mp4, render.json)")
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--duration", type=float, default=5.0, help="seconds of virtual time")
    p.add_argument("--size", type=_viewport, default=Viewport(), help="viewport WIDTHxHEIGHT (default 1024x768)")
    p.add_argument("--assets", type=Path, default=None, help="folder served at assets/ (default: PAGE_DIR/assets)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_run_render)


def _read_page(path: Path) -> bytes:
    if not path.is_file():
        raise UsageError(f"{path}: page not found")
    return path.read_bytes()


def _run_render(args) -> int:
    from judge.browser.runtime import Browser
    from judge.record import page_folders, render_page

    html = _read_page(args.page)
    assets = args.assets or (args.page.parent / "assets" if (args.page.parent / "assets").is_dir() else None)
    n = max(1, int(round(args.duration * args.fps)))

    async def go():
        async with Browser() as b:
            return await render_page(b, html, viewport=args.size, fps=args.fps, n_frames=n,
                                     folders=page_folders(args.page.parent, assets),
                                     video_path=args.out / "video.mp4", keep_frames=False)

    res = asyncio.run(go())
    report = {"page": str(args.page), "size": str(args.size), **res.summary()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "render.json").write_text(json.dumps(report, indent=2) + "\n")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{res.n_frames} frames at {args.fps:g} fps ({args.size}) in {res.wall_s:.2f} s "
              f"({res.n_frames / max(res.wall_s, 1e-9):.1f} frames/s) -> {res.video}")
        for kind in ("page_errors", "console_errors", "blocked_requests", "dialogs", "popups", "navigations"):
            for item in report[kind]:
                print(f"  {kind[:-1].replace('_', ' ')}: {item}")
        if res.fatal:
            print(f"  fatal: {res.fatal}")
    return 1 if res.fatal else 0


# ---- judge tasks record --------------------------------------------------------------
def add_record_parser(tsub) -> None:
    p = tsub.add_parser("record", help="build a task from a reference page (renders the video, checkpoints, task.json)")
    p.add_argument("--family", choices=["animation", "interactive"], required=True)
    p.add_argument("--page", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="task folder to write")
    p.add_argument("--id", default=None, help="task id (default: the folder name)")
    p.add_argument("--actions", type=Path, help="interactive: JSON list of actions")
    p.add_argument("--duration", type=float, default=5.0, help="animation: seconds")
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--size", type=_viewport, default=Viewport())
    p.add_argument("--assets", type=Path, default=None, help="folder of static assets (served at assets/)")
    p.add_argument("--meta", type=Path, default=None, help="JSON object merged into the task's metadata")
    p.set_defaults(func=_run_record)


def _run_record(args) -> int:
    from judge.browser.runtime import Browser
    from judge.record import RecordError, load_actions_file, page_folders, record_interactive, render_page
    from judge.tasks import TaskSpec, save_spec

    html = _read_page(args.page)
    task_id = args.id or args.out.resolve().name
    meta = {}
    if args.meta:
        try:
            meta = json.loads(args.meta.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise UsageError(f"{args.meta}: not readable JSON ({e})") from None
    if args.family == "interactive" and not args.actions:
        raise UsageError("--actions: required for an interactive task")
    assets = args.assets or (args.page.parent / "assets" if (args.page.parent / "assets").is_dir() else None)

    async def go():
        async with Browser() as b:
            if args.family == "interactive":
                try:
                    actions = load_actions_file(args.actions)
                    spec = await record_interactive(b, args.page, actions, args.out, task_id=task_id,
                                                    viewport=args.size, fps=args.fps, assets_dir=assets, metadata=meta)
                except RecordError as e:
                    raise UsageError(str(e)) from None
                await _require_oracle(b, args.out, html)
                return spec
            n = max(1, int(round(args.duration * args.fps)))
            res = await render_page(b, html, viewport=args.size, fps=args.fps, n_frames=n,
                                    folders=page_folders(args.page.parent, assets),
                                    video_path=args.out / "video.mp4", keep_frames=False)
            if res.fatal or res.log.page_errors:
                from judge.libs import blocked_note   # hook: say which library requests were blocked
                raise UsageError(f"{args.page}: the reference page failed: {res.fatal or res.log.page_errors[0]}"
                                 + blocked_note(res.log.blocked))
            if args.page.resolve() != (args.out / "reference.html").resolve():
                (args.out / "reference.html").write_bytes(html)
            spec = TaskSpec(id=task_id, family="animation", viewport=args.size, fps=args.fps,
                            duration_s=args.duration, video="video.mp4", reference_page="reference.html",
                            metadata={"recorded_by": "judge tasks record", **meta})
            save_spec(spec, args.out)
            return spec

    spec = asyncio.run(go())
    print(f"recorded {spec.family} task {spec.id!r} -> {args.out} ({spec.duration_s:g} s, {len(spec.actions)} actions)")
    return 0


async def _require_oracle(browser, task_dir: Path, html: bytes) -> None:
    """Refuse an interactive task whose own reference page does not pass every action
    under the offline judge (IFS 1.0): its task.json is withdrawn, the reasons printed."""
    from judge.score import ScoreConfig, score_page
    from judge.tasks import load_task

    row = await score_page(load_task(task_dir), html, browser=browser,
                           config=ScoreConfig(embedder="classic", tracker="opencv"))
    if row["ifs"] < 1.0:
        (task_dir / "task.json").replace(task_dir / "task.json.rejected")
        failed = [f"step {s['index']} ({s['description']!r}): {s.get('error') or s.get('verdict_reason') or s.get('verdict_source')}"
                  for s in row["steps"] if not s.get("passed")]
        from judge.libs import blocked_note   # hook: say which library requests were blocked
        raise UsageError(f"{task_dir}: the reference page scores ifs={row['ifs']:.3f} under the judge, not 1.0; "
                         f"task.json withdrawn (kept as task.json.rejected). Failing: {'; '.join(failed[:3])}"
                         + blocked_note([b["request"] for b in row.get("blocked_requests") or []]))
