"""The sandbox: what a page under test may load, and the log of what it tried.

A candidate page is untrusted code. It is served from a virtual origin
(`https://webjudge.test/`) by Playwright request routing: the page itself and files
from the mounted folders (the task's assets, the page's own folder) are fulfilled from
memory/disk; every other request (any other host, loopback, `file://`, `data:` that
Playwright routes, WebSockets) is aborted and logged. Chromium is also launched so
that anything escaping the router fails: all DNS resolves to nothing and every
connection goes to a dead proxy (see `runtime.LAUNCH_ARGS`).
"""
from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

ORIGIN = "https://webjudge.test"
PAGE_URL = f"{ORIGIN}/index.html"
MAX_LOG = 500  # entries kept per list; a flood is counted, not stored


@dataclass
class SandboxLog:
    """Everything a page did that the judge refused or noticed. Lists are capped at
    MAX_LOG entries; `dropped` counts the rest."""

    blocked: list[str] = field(default_factory=list)        # "GET https://evil.example/x"
    served: list[str] = field(default_factory=list)         # paths served from the virtual origin
    missing: list[str] = field(default_factory=list)        # virtual-origin paths with no file (404)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)    # uncaught exceptions
    dialogs: list[str] = field(default_factory=list)        # "alert: text" (all dismissed)
    popups: list[str] = field(default_factory=list)         # window.open / target=_blank (all closed)
    navigations: list[str] = field(default_factory=list)    # main-frame navigations away from the page
    downloads: list[str] = field(default_factory=list)
    crashed: bool = False
    dropped: int = 0

    def add(self, kind: str, entry: str) -> None:
        items = getattr(self, kind)
        if len(items) < MAX_LOG:
            items.append(entry[:500])
        else:
            self.dropped += 1

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}

    def extend(self, other: "SandboxLog") -> None:
        for k, v in other.__dict__.items():
            if isinstance(v, list):
                for item in v:
                    self.add(k, item)
        self.crashed |= other.crashed
        self.dropped += other.dropped


class Mounts:
    """Maps virtual-origin paths to content: the page HTML at `/` and `/index.html`,
    and URL prefixes to folders (`assets/` → the task's assets). Longest prefix wins;
    paths never escape their folder."""

    def __init__(self, html: str | bytes, folders: dict[str, Path] | None = None):
        self.html = html.encode("utf-8") if isinstance(html, str) else html
        self.folders = sorted(((p.strip("/") + "/" if p.strip("/") else "", Path(d).resolve())
                               for p, d in (folders or {}).items() if d is not None),
                              key=lambda x: -len(x[0]))

    def resolve(self, url: str) -> tuple[bytes, str] | None:
        """(body, content type) for a virtual-origin URL, or None for a 404."""
        path = unquote(urlsplit(url).path).lstrip("/")
        if path in ("", "index.html"):
            return self.html, "text/html; charset=utf-8"
        for prefix, root in self.folders:
            if not path.startswith(prefix):
                continue
            target = (root / path[len(prefix):]).resolve()
            if not target.is_relative_to(root) or not target.is_file():
                continue
            ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            return target.read_bytes(), ctype
        return None


def is_virtual(url: str) -> bool:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" == ORIGIN
