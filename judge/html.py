"""Small HTML helpers shared by the report and the scorers' report sections."""
from __future__ import annotations

import base64
import html
import json
import struct
from pathlib import Path
from typing import Any


def h(x: Any) -> str:
    """`x` as escaped HTML text (attribute-safe)."""
    return html.escape(str(x), quote=True)


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a PNG header, None if it is not a readable PNG."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def image_src(path: Path, base: Path, inline: bool) -> str:
    """A data URI (`inline`) or a path relative to `base` (the folder of report.html)."""
    if inline:
        return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    return html.escape(path.resolve().relative_to(base.resolve()).as_posix(), quote=True)


def read_jsonl(path: Path) -> list[dict]:
    """The JSON objects of a .jsonl file (unreadable lines skipped)."""
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out
