"""The browser runtime: one Chromium process, a fresh sandboxed context per page.

    async with Browser() as browser:
        async with browser.session(html, viewport=(1024, 768), folders={"assets/": d}) as s:
            await s.load()
            frames = await s.capture(n_frames=150, fps=30)

Debian's Chromium (`/usr/bin/chromium`, or `$WEBJUDGE_CHROMIUM`) is driven by
Playwright through `executable_path`; Playwright's own browser download is never used.
Every page runs under the virtual clock of `clock.js`, so time advances only through
`advance_to`, and two runs of the same page give the same pixels.

Failures are split the way scores need them: `PageError` is the page's fault
(it crashed the renderer, hung in a script, navigated away) and is scored;
`BrowserError` is infrastructure (Chromium missing or dead) and is never scored.

Containment of hostile pages (measured in tests/hostile/README.md):
- every call into the page is bounded by `timeout_s`, and a page's calls together by
  `page_budget_s` (time the judge waits on the page; model calls are not counted);
  on a timeout the script is stopped (`Runtime.terminateExecution`) and a browser
  that no longer answers is reported as a `BrowserError`, not blamed on the page;
- the judge drives the clock over the DevTools protocol (`Runtime.evaluate` of
  `window.__webjudge.*`), not Playwright's in-page helpers, so a page that rewrites
  Array/Map/Function/Object built-ins cannot break capture;
- renderer memory is capped (V8 heap `--max-old-space-size`, RLIMIT_DATA per renderer);
- popups need a user gesture; page-initiated navigations of the main frame are aborted
  and logged; a page that replaces its document anyway (about:blank, blob:) is a
  page error; pages over `MAX_PAGE_BYTES` are refused.

The runtime is split along its seams: this module (the Chromium process: start, health,
restart, memory limits), `session.py` (one page: load, guard, clock), `capture.py`
(screenshots, frame capture), `limits.py` (flags, limits, errors), `sandbox.py` (request
routing, egress sink, process helpers). Their names are re-exported here.
"""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path

from judge.browser.capture import decode_png  # noqa: F401 (re-exported)
from judge.browser.limits import (  # noqa: F401
    CLOCK_JS,
    DEFAULT_PAGE_BUDGET_S,
    DEFAULT_TIMEOUT_S,
    FRAME_BUDGET_S,
    IGNORED_DEFAULT_ARGS,
    JS_HEAP_MB,
    LAUNCH_ARGS,
    MAX_PAGE_BYTES,
    RENDERER_MEMORY_MB,
    BrowserError,
    PageError,
    chromium_path,
    launch_args,
)
from judge.browser.sandbox import (
    EgressSink,
    Mounts,
    kill_tree,
    limit_renderers,
    proc_alive,
    proc_cmdline,
    proc_cpu,
    proc_stat,
)
from judge.browser.session import PageSession


class Browser:
    """One Chromium process shared by many sessions. Restarted on demand after a crash.

    `timeout_s` bounds every call into a page; `page_budget_s` bounds the total time the
    judge waits on one page (all its calls together; a capture of n frames gets at least
    n x `FRAME_BUDGET_S`), so a page that stays just under the per-call timeout on every
    frame still ends. `pid` is the Chromium browser process."""

    def __init__(self, executable: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                 page_budget_s: float | None = None, paced: bool = False):
        self.executable = executable or chromium_path()
        self.paced = paced        # frames at Chromium's 60 Hz display rate (see limits.UNPACED_ARG)
        self.timeout_s = timeout_s
        self.page_budget_s = DEFAULT_PAGE_BUDGET_S if page_budget_s is None else page_budget_s
        self._pw = None
        self._browser = None
        self._cdp = None          # browser-level DevTools session: liveness probe, process ids
        self._lock = asyncio.Lock()
        self.restarts = 0
        self.pid: int | None = None
        self.egress = EgressSink()  # Chromium's proxy: records whatever escapes request routing
        self._exe_seen: str | None = None  # argv[0] of `pid`, checked before any kill (pid reuse)
        self._closed = False                # close() was called: sessions ending late do not restart it

    async def start(self) -> "Browser":
        from playwright.async_api import async_playwright

        self._closed = False
        if self._pw is None:
            self._pw = await async_playwright().start()
        port = await self.egress.start()
        args = [f"--proxy-server=http://127.0.0.1:{port}" if a.startswith("--proxy-server=") else a
                for a in launch_args(self.paced)]
        try:
            self._browser = await self._pw.chromium.launch(
                executable_path=self.executable, headless=True, args=args,
                ignore_default_args=IGNORED_DEFAULT_ARGS, timeout=self.timeout_s * 1000)
        except Exception as e:
            raise BrowserError(f"Chromium failed to start ({self.executable}): {e}") from None
        self.pid = self._exe_seen = None
        try:
            self._cdp = await self._browser.new_browser_cdp_session()
            info = await asyncio.wait_for(self._cdp.send("SystemInfo.getProcessInfo"), 10)
            self.pid = next((p["id"] for p in info.get("processInfo", []) if p.get("type") == "browser"), None)
            cmd = proc_cmdline(self.pid) if self.pid else []
            self._exe_seen = cmd[0] if cmd else None
        except Exception:
            self.pid = None
        self.limit_memory()
        return self

    def limit_memory(self) -> int:
        """Cap the renderers' memory (RLIMIT_DATA); called at start and for each session."""
        return limit_renderers(self.pid, RENDERER_MEMORY_MB << 20) if self.pid and RENDERER_MEMORY_MB > 0 else 0

    def connected(self) -> bool:
        """Playwright still has a connection to the browser."""
        return self._browser is not None and self._browser.is_connected()

    @property
    def version(self) -> str | None:
        """The running Chromium's version string (None before start or after a crash)."""
        return getattr(self._browser, "version", None)

    def alive(self) -> bool:
        """Connected, and (when its pid is known) the browser process is running."""
        if not self.connected():
            return False
        return self.pid is None or proc_alive(self.pid)

    async def responsive(self, timeout_s: float = 5.0) -> bool:
        """The browser process answers a DevTools call (a hung renderer does not matter),
        or, when the answer is late, it is running and busy (using CPU, not stopped): the
        pipe may be queued behind a page's flood of events, which is the page's doing."""
        if not self.alive():
            return False
        cpu0 = proc_cpu(self.pid) if self.pid else None
        if await self._answers(self._cdp, timeout_s):
            return True
        st = proc_stat(self.pid) if self.pid else None
        if st is None or st[1] in ("T", "t", "Z", "X") or not self.alive():  # gone, stopped or traced
            return False
        cpu1 = proc_cpu(self.pid)
        return cpu0 is not None and cpu1 is not None and cpu1 > cpu0

    @staticmethod
    async def _answers(cdp, timeout_s: float = 3.0) -> bool:
        if cdp is None:
            return False
        try:
            await asyncio.wait_for(cdp.send("Browser.getVersion"), timeout_s)
            return True
        except Exception:
            return False

    def _kill(self, pid: int | None, exe: str | None) -> None:
        cmd = proc_cmdline(pid) if pid else []
        if pid and cmd and cmd[0] == exe:
            kill_tree(pid)

    async def _discard(self, polite: bool = True) -> None:
        """Close the current process politely if it answers, then SIGKILL whatever is left."""
        old, pid, exe, cdp = self._browser, self.pid, self._exe_seen, self._cdp
        self._browser = self._cdp = None
        self.pid = self._exe_seen = None
        if old is not None:
            try:
                if polite and old.is_connected() and (pid is None or proc_alive(pid)) and await self._answers(cdp):
                    await asyncio.wait_for(old.close(), 5)
            except Exception:
                pass
        self._kill(pid, exe)

    async def ensure(self) -> None:
        async with self._lock:
            if not self.alive():
                if self._browser is not None:
                    self.restarts += 1
                    await self._discard()
                await self.start()

    async def restart(self, polite: bool = True) -> None:
        """Kill the process (whatever state it is in) and start a new one; `polite=False`
        skips asking a browser known to be unresponsive to close first."""
        async with self._lock:
            await self._discard(polite)
            self.restarts += 1
            await self.start()

    async def close(self) -> None:
        self._closed = True
        await self._discard()
        await self.egress.close()
        if self._pw is not None:
            await self._pw.stop()
            self._pw = None

    async def __aenter__(self) -> "Browser":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    @asynccontextmanager
    async def session(self, html: str | bytes, viewport: tuple[int, int] = (1024, 768),
                      folders: dict[str, Path] | None = None, timeout_s: float | None = None,
                      tracing: bool = False):
        """A fresh context (no shared storage, cookies or cache) and page for `html`."""
        await self.ensure()
        self.limit_memory()
        s = PageSession(self, Mounts(html, folders), viewport, timeout_s or self.timeout_s)
        try:
            await s._open(tracing)
            yield s
        finally:
            await s._close()
            s.libraries.absorb(s.log)  # the scope's record of libraries served and requests blocked
