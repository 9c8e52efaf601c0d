"""Offline baselines: "models" that need no key and no network.

- `reference`: the task's reference page HTML, unchanged (it may load the task's assets
  by relative path; nothing is inlined).
- `blank`: an empty white page.
- `first-frame`: a static page showing the reference video's first frame as an inline
  PNG data URI, displayed at the task's viewport size.
- `replay:DIR`: pre-generated pages, `DIR/<task_id>/index.html`, returned unchanged
  (decoded as UTF-8); an empty or binary file (a NUL byte) is no page. `DIR` must exist.

A baseline that cannot produce a page for a task raises `PageUnavailable`; the generator
records that as a generation failure for that task, never a crash of the run.
"""
from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from .base import UnknownModel

BLANK_PAGE = ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>blank</title>\n'
              '<style>html,body{margin:0;height:100%;background:#ffffff}</style>\n</head>\n<body></body>\n</html>\n')


class PageUnavailable(Exception):
    """An offline baseline has no page for this task."""


def png_bytes(frame: Any) -> bytes:
    """An RGB uint8 array as PNG bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, format="PNG")
    return buf.getvalue()


def first_frame_page(png: bytes, width: int, height: int) -> str:
    """A static page showing `png` at `width`x`height`, top-left, no margins."""
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>first frame</title>\n'
            f'<style>html,body{{margin:0;padding:0;background:#ffffff;overflow:hidden}}'
            f'img{{display:block;width:{width}px;height:{height}px}}</style>\n</head>\n<body>\n'
            f'<img alt="first frame of the reference video" width="{width}" height="{height}" src="{uri}">\n'
            '</body>\n</html>\n')


class OfflineModel:
    """A baseline addressed like a model (`reference`, `blank`, `first-frame`, `replay:DIR`)."""

    provider = "offline"
    sends_requests = False    # the page comes from the task (`page`), no prompt is sent

    def __init__(self, name: str):
        name = name.removeprefix("offline/")
        if name.startswith("replay:"):
            directory = name[len("replay:"):]
            if not directory:
                raise UnknownModel("replay needs a directory: replay:DIR (pages at DIR/<task_id>/index.html)")
            self.kind, self.directory = "replay", Path(directory).expanduser()
            if not self.directory.is_dir():
                raise UnknownModel(f"replay:{directory}: directory not found (pages at DIR/<task_id>/index.html)")
        elif name in ("reference", "blank", "first-frame"):
            self.kind, self.directory = name, None
        else:
            raise UnknownModel(f"unknown offline baseline {name!r} (reference, blank, first-frame, replay:DIR)")
        self.name = name

    @property
    def spec(self) -> str:
        return self.name

    def require_key(self) -> str:
        """A baseline needs no API key."""
        return ""

    async def aclose(self) -> None:
        """Nothing to close (the same interface as a provider model)."""

    def __repr__(self) -> str:
        return f"<OfflineModel {self.name}>"

    def page(self, task: Any) -> str:
        """The page for `task` (a `judge.tasks.Task`); raises `PageUnavailable`."""
        if self.kind == "blank":
            return BLANK_PAGE
        if self.kind == "reference":
            path = task.reference_page_path
            if path is None:
                raise PageUnavailable(f"task {task.id} has no reference page")
            if not path.is_file():
                raise PageUnavailable(f"task {task.id}: reference page {path} not found")
            return path.read_text(encoding="utf-8", errors="replace")
        if self.kind == "first-frame":
            from judge.video import VideoError, read_frames

            try:
                frame = read_frames(task.video_path, max_frames=1)[0]
            except VideoError as e:
                raise PageUnavailable(f"task {task.id}: cannot read the first frame ({e})") from None
            vp = task.spec.viewport
            return first_frame_page(png_bytes(frame), vp.width, vp.height)
        path = self.directory / task.id / "index.html"
        if not path.is_file():
            raise PageUnavailable(f"no pre-generated page for task {task.id} at {path}")
        data = path.read_bytes()
        if not data.strip():
            raise PageUnavailable(f"pre-generated page {path} is empty")
        nul = data.find(b"\0")
        if nul >= 0:
            raise PageUnavailable(f"pre-generated page {path} is not HTML text (binary: NUL byte at offset {nul})")
        return data.decode("utf-8", errors="replace")
