"""The sandbox: what a page under test may load, and the log of what it tried.

A candidate page is untrusted code. It is served from a virtual origin
(`https://webjudge.test/`) by Playwright request routing: the page itself and files
from the mounted folders (the task's assets, the page's own folder) are fulfilled from
memory/disk; CDN URLs of pinned libraries and fonts are fulfilled from the offline mirror
(`judge.browser.mirror`, per the session's `libraries` mode); every other request (any
other host, loopback, `file://`, `data:` that Playwright routes, WebSockets) is aborted
and logged. Chromium is also launched so
that anything escaping the router fails: all DNS resolves to nothing and every
connection goes to the judge's own proxy, `EgressSink`, which forwards nothing and
records each attempt (see `runtime.LAUNCH_ARGS`).
"""
from __future__ import annotations

import asyncio
import mimetypes
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from judge.browser.mirror import serve as serve_library

try:
    import resource
except ImportError:  # not Linux: no per-renderer memory cap
    resource = None

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


# ---- what a page session does with the page's requests, popups, dialogs, downloads ------
class SandboxHandlers:
    """The sandbox side of `session.PageSession` (a mixin): request routing, popups,
    dialogs, downloads, navigation detection, and collecting what the page asked for
    into `self.log`. Uses the session's `page`, `log`, `mounts`, `url`, `_call`/`_raw_call`."""

    _navs = 0          # main-frame navigation requests seen (the first is ours)
    _loader = None     # loaderId of our document
    _left = None       # URL of a document that replaced ours (about:blank, blob:, ...)
    _hung = False
    _egress_seen = 0   # egress-sink entries already attributed

    async def _route(self, route) -> None:
        req = route.request
        try:
            try:
                main_nav = req.is_navigation_request() and req.frame == self.page.main_frame
            except Exception:
                main_nav = False
            if main_nav:
                self._navs += 1
                if self._navs > 1:  # the page navigating or reloading itself: refused, the page stays
                    self.log.add("navigations", req.url[:300])
                    if not is_virtual(req.url):
                        self.log.add("blocked", f"{req.method} {req.url[:300]}")
                    await route.abort("aborted")
                    return
            # hook: CDN libraries and fonts from the pinned offline mirror (judge.browser.mirror)
            if not is_virtual(req.url) and await serve_library(self, route, req):
                return
            if is_virtual(req.url):
                hit = self.mounts.resolve(req.url)
                if hit is None:
                    self.log.add("missing", req.url)
                    await route.fulfill(status=404, body=b"", content_type="text/plain")
                else:
                    self.log.add("served", req.url)
                    await route.fulfill(status=200, body=hit[0], content_type=hit[1])
                return
            self.log.add("blocked", f"{req.method} {req.url[:300]}")
            await route.abort("blockedbyclient")
        except Exception:
            pass  # the page or context went away while the request was in flight

    def _on_page(self, popup) -> None:
        if popup is self.page:
            return
        self.log.add("popups", popup.url or "about:blank")
        _background(popup.close())

    def _on_dialog(self, dialog) -> None:
        # alert/confirm/prompt are answered in-page by clock.js; what still arrives here
        # (beforeunload, dialogs from frames) is dismissed, except beforeunload, which is
        # accepted so a trap cannot hold the page: the navigation itself is then refused.
        self.log.add("dialogs", f"{dialog.type}: {dialog.message[:200]}")
        _background(dialog.accept() if dialog.type == "beforeunload" else dialog.dismiss())

    def _on_download(self, download) -> None:
        self.log.add("downloads", download.url[:300])
        _background(download.cancel())

    def _on_frame_navigated(self, params: dict) -> None:
        frame = params.get("frame") or {}
        if frame.get("parentId"):
            return
        url, loader = frame.get("url", ""), frame.get("loaderId")
        if self._loader is None:
            if url == self.url:
                self._loader = loader  # our own document committed
        elif loader != self._loader:  # a new document replaced ours without a routed request
            self._left = url or "about:blank"
            if url not in self.log.navigations:
                self.log.add("navigations", url[:300])

    async def _pull_events(self, strict: bool = True) -> None:
        """Dialogs and popups the page asked for (answered in-page by clock.js)."""
        expr = "window.__webjudge.takeEvents()"
        if strict:
            events = await self._call(expr, "events")
        else:
            try:
                res = await asyncio.wait_for(self._raw_call(expr), 1 if self._hung else 2)
            except Exception:
                return
            events = None if "exceptionDetails" in res else (res.get("result") or {}).get("value")
        for item in events if isinstance(events, list) else []:
            if not (isinstance(item, list) and len(item) == 2):
                continue
            kind, text = item
            if kind in ("dialogs", "popups"):
                self.log.add(kind, str(text))
            elif kind == "dropped":
                self.log.dropped += int(text) if str(text).isdigit() else 0

    async def _pull_errors(self) -> None:
        """Errors clock.js caught that a failed capture never collected (best effort)."""
        if self.log.crashed or self.context is None:
            return
        try:
            res = await asyncio.wait_for(self._raw_call("window.__webjudge.takeErrors()"), 1 if self._hung else 2)
        except Exception:
            return
        errors = None if "exceptionDetails" in res else (res.get("result") or {}).get("value")
        for e in errors if isinstance(errors, list) else []:
            self.log.add("page_errors", str(e))

    def _take_egress(self) -> None:
        """Requests that reached the egress sink while this page was open (they escaped
        routing and were refused there). With pages open concurrently on one browser an
        entry may belong to a neighbour; it is listed in both."""
        entries = self.browser.egress.entries
        for entry in entries[self._egress_seen:]:
            self.log.add("blocked", f"{entry} (refused by the egress sink)")
        self._egress_seen = len(entries)


def _background(awaitable) -> None:
    """Fire and forget, without 'exception was never retrieved' noise when the page is gone."""
    fut = asyncio.ensure_future(awaitable)
    fut.add_done_callback(lambda f: f.cancelled() or f.exception())


# ---- the Chromium process tree (Linux /proc; no dependency) ----------------------------
# A page's memory is capped per renderer process with RLIMIT_DATA (set on Chromium's
# zygotes, so every renderer forked after start-up inherits it; live renderers are capped
# too): past the cap an ArrayBuffer allocation throws RangeError and a V8/Blink heap
# allocation crashes the renderer ("renderer crashed", a page error), instead of the page
# taking the machine's memory. A hung or dead browser is killed as a whole tree (SIGKILL).
def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


def proc_stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) of a live process, None when it is gone."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return int(fields[1]), fields[0]


def proc_cpu(pid: int) -> int | None:
    """User + system CPU time of a process, in clock ticks (None when it is gone)."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def proc_alive(pid: int | None) -> bool:
    """The process exists and is not a zombie (a killed child its parent has not reaped)."""
    if not pid:
        return False
    st = proc_stat(pid)
    return st is not None and st[1] not in ("Z", "X")


def proc_cmdline(pid: int) -> list[str]:
    """The command line, split on NULs and spaces (Chromium rewrites its children's
    argv into one space-separated title)."""
    raw = _read(f"/proc/{pid}/cmdline")
    return raw.replace("\0", " ").split() if raw else []


def proc_descendants(pid: int) -> list[int]:
    """Every live descendant of `pid` (children first, breadth first)."""
    children: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if name.isdigit():
            st = proc_stat(int(name))
            if st:
                children.setdefault(st[0], []).append(int(name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(0), []):
            out.append(c)
            todo.append(c)
    return out


def kill_tree(pid: int | None) -> int:
    """SIGKILL `pid` and all its descendants. Returns how many were signalled."""
    if not pid:
        return 0
    n = 0
    for p in [pid] + proc_descendants(pid):
        try:
            os.kill(p, signal.SIGKILL)
            n += 1
        except OSError:
            pass
    return n


def limit_renderers(browser_pid: int | None, data_bytes: int) -> int:
    """Cap RLIMIT_DATA of Chromium's zygotes and renderers (not the browser process, which
    the page does not control). Returns how many processes were capped."""
    if not browser_pid or resource is None or not hasattr(resource, "prlimit") or data_bytes <= 0:
        return 0
    n = 0
    for p in proc_descendants(browser_pid):
        cmd = proc_cmdline(p)
        if any(a in ("--type=zygote", "--type=renderer") for a in cmd):
            try:
                soft, hard = resource.prlimit(p, resource.RLIMIT_DATA)
                if hard == resource.RLIM_INFINITY or hard > data_bytes:
                    resource.prlimit(p, resource.RLIMIT_DATA, (data_bytes, data_bytes))
                n += 1
            except (OSError, ValueError):
                pass
    return n


# ---- the egress sink ---------------------------------------------------------------------
class EgressSink:
    """Chromium's proxy: a loopback server that forwards nothing. Whatever escapes request
    routing (a worker that started before Playwright attached to it, a WebSocket, a
    prefetch) arrives here, is answered `403` and recorded as its request line
    ("CONNECT evil.example:443", "GET http://127.0.0.1:8080/x"), so escapes are measured,
    not only prevented. Nothing ever leaves the machine through it."""

    MAX_ENTRIES = 10_000

    def __init__(self):
        self.entries: list[str] = []
        self.dropped = 0
        self.port: int | None = None
        self._server = None

    async def start(self) -> int:
        if self._server is None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def _handle(self, reader, writer) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
        except Exception:
            head = b""
        line = head.split(b"\r\n", 1)[0].decode("latin-1", "replace")
        if line:
            method, _, rest = line.partition(" ")
            target = rest.rsplit(" ", 1)[0] if " " in rest else rest
            if len(self.entries) < self.MAX_ENTRIES:
                self.entries.append(f"{method} {target}"[:500])
            else:
                self.dropped += 1
        try:
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await asyncio.wait_for(writer.drain(), 2)
        except Exception:
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


def page_folders(page_dir: Path | None, assets_dir: Path | None) -> dict[str, Path]:
    """What the virtual origin serves besides the page: the page's own folder (relative
    links), and the task's assets at `assets/`."""
    folders: dict[str, Path] = {}
    if page_dir is not None:
        folders[""] = page_dir
    if assets_dir is not None:
        folders["assets/"] = assets_dir
    return folders
