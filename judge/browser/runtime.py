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
"""
from __future__ import annotations

import asyncio
import base64
import os
import shutil
from contextlib import asynccontextmanager
from pathlib import Path

import cv2
import numpy as np

from judge.browser.sandbox import PAGE_URL, Mounts, SandboxLog, is_virtual

CLOCK_JS = (Path(__file__).with_name("clock.js")).read_text(encoding="utf-8")
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-threaded-animation",
    # Defence in depth behind request routing: nothing resolves, every connection goes
    # to a closed port, WebRTC may not open its own UDP sockets.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:1", "--proxy-bypass-list=<-loopback>",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-features=Translate,MediaRouter,OptimizationHints,DialMediaRouteProvider",
    "--deny-permission-prompts", "--disable-notifications", "--mute-audio",
    "--font-render-hinting=none", "--hide-scrollbars", "--disable-smooth-scrolling",
]
DEFAULT_TIMEOUT_S = 20.0


class BrowserError(RuntimeError):
    """Infrastructure failure (Chromium missing, crashed or unresponsive). Not the page's fault."""


class PageError(RuntimeError):
    """The page under test failed: renderer crash, script hang, load failure, navigation away."""


def chromium_path() -> str:
    """The Chromium binary: $WEBJUDGE_CHROMIUM, else chromium on PATH."""
    for cand in (os.environ.get("WEBJUDGE_CHROMIUM"), shutil.which("chromium"),
                 shutil.which("chromium-browser"), "/usr/bin/chromium"):
        if cand and Path(cand).exists():
            return cand
    raise BrowserError("Chromium not found: install Debian's chromium (apt-get install -y chromium) "
                       "or set WEBJUDGE_CHROMIUM to its path")


def decode_png(data: bytes) -> np.ndarray:
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if arr is None:
        raise BrowserError("screenshot could not be decoded")
    return cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)


class Browser:
    """One Chromium process shared by many sessions. Restarted on demand after a crash."""

    def __init__(self, executable: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S):
        self.executable = executable or chromium_path()
        self.timeout_s = timeout_s
        self._pw = None
        self._browser = None
        self._lock = asyncio.Lock()
        self.restarts = 0

    async def start(self) -> "Browser":
        from playwright.async_api import async_playwright

        if self._pw is None:
            self._pw = await async_playwright().start()
        try:
            self._browser = await self._pw.chromium.launch(
                executable_path=self.executable, headless=True, args=LAUNCH_ARGS,
                ignore_default_args=["--enable-automation"], timeout=self.timeout_s * 1000)
        except Exception as e:
            raise BrowserError(f"Chromium failed to start ({self.executable}): {e}") from None
        return self

    async def ensure(self) -> None:
        async with self._lock:
            if self._browser is None or not self._browser.is_connected():
                if self._browser is not None:
                    self.restarts += 1
                await self.start()

    async def restart(self) -> None:
        """Kill the process (whatever state it is in) and start a new one."""
        async with self._lock:
            old, self._browser = self._browser, None
            if old is not None:
                try:
                    await asyncio.wait_for(old.close(), 5)
                except Exception:
                    pass
            self.restarts += 1
            await self.start()

    async def close(self) -> None:
        if self._browser is not None:
            try:
                await asyncio.wait_for(self._browser.close(), 10)
            except Exception:
                pass
            self._browser = None
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
        s = PageSession(self, Mounts(html, folders), viewport, timeout_s or self.timeout_s)
        try:
            await s._open(tracing)
            yield s
        finally:
            await s._close()


class PageSession:
    """One page in its own context, under the virtual clock and the sandbox."""

    def __init__(self, browser: Browser, mounts: Mounts, viewport: tuple[int, int], timeout_s: float):
        self.browser, self.mounts, self.viewport, self.timeout_s = browser, mounts, viewport, timeout_s
        self.log = SandboxLog()
        self.context = self.page = self.cdp = None
        self.loaded = False
        self.url = PAGE_URL

    # ---- lifecycle ----
    async def _open(self, tracing: bool) -> None:
        w, h = self.viewport
        try:
            self.context = await self.browser._browser.new_context(
                viewport={"width": w, "height": h}, device_scale_factor=1, locale="en-US",
                timezone_id="UTC", service_workers="block", accept_downloads=False,
                java_script_enabled=True, reduced_motion="no-preference", color_scheme="light")
        except Exception as e:
            raise BrowserError(f"could not open a browser context: {e}") from None
        if tracing:
            await self.context.tracing.start(screenshots=True, snapshots=True)
        await self.context.add_init_script(CLOCK_JS)
        await self.context.route("**/*", self._route)
        self.page = await self.context.new_page()
        self.context.on("page", self._on_page)  # after our own page exists: any later page is a popup
        self.page.set_default_timeout(self.timeout_s * 1000)
        self.page.on("console", lambda m: m.type == "error" and self.log.add("console_errors", m.text))
        self.page.on("pageerror", lambda e: self.log.add("page_errors", str(e)))
        self.page.on("dialog", self._on_dialog)
        # WebSockets are not routed: they fail on the dead proxy / empty resolver; log them
        self.page.on("websocket", lambda ws: self.log.add("blocked", f"WEBSOCKET {ws.url[:300]}"))
        self.page.on("crash", lambda _: setattr(self.log, "crashed", True))
        self.page.on("framenavigated", self._on_nav)
        self.page.on("download", lambda d: (self.log.add("downloads", d.url), asyncio.ensure_future(d.cancel())))
        self.cdp = await self.context.new_cdp_session(self.page)

    async def _close(self) -> None:
        if self.context is None:
            return
        await self.drain()
        try:
            await asyncio.wait_for(self.context.close(), 5)
        except Exception:
            # a renderer stuck in a script can block close: take the whole browser down
            await self.browser.restart()
        self.context = None

    async def drain(self, seconds: float = 0.15) -> None:
        """Let events the page already caused (popups, navigations, dialogs, requests)
        reach the log: one round trip to the renderer, then a short real wait."""
        try:
            await asyncio.wait_for(self.page.evaluate("() => 0"), 2)
        except Exception:
            pass
        await asyncio.sleep(seconds)

    async def stop_tracing(self, path: Path) -> None:
        await self.context.tracing.stop(path=str(path))

    # ---- sandbox handlers ----
    async def _route(self, route) -> None:
        req = route.request
        try:
            if self.loaded and req.is_navigation_request() and req.frame == self.page.main_frame:
                self.log.add("navigations", req.url[:300])
        except Exception:
            pass
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


    def _on_page(self, popup) -> None:
        if popup is self.page:
            return
        self.log.add("popups", popup.url or "about:blank")
        asyncio.ensure_future(popup.close())

    def _on_dialog(self, dialog) -> None:
        self.log.add("dialogs", f"{dialog.type}: {dialog.message[:200]}")
        asyncio.ensure_future(dialog.dismiss())

    def _on_nav(self, frame) -> None:
        if frame == self.page.main_frame and self.loaded and frame.url != self.url \
                and frame.url not in self.log.navigations:
            self.log.add("navigations", frame.url)

    # ---- guarded calls ----
    async def _guard(self, coro, what: str):
        """Run a browser call with a timeout; a hang or crash becomes a PageError."""
        try:
            return await asyncio.wait_for(coro, self.timeout_s)
        except asyncio.TimeoutError:
            raise PageError(f"{what}: page did not respond within {self.timeout_s:.0f} s (script hang?)") from None
        except PageError:
            raise
        except Exception as e:
            if self.log.crashed or "crash" in str(e).lower():
                self.log.crashed = True
                raise PageError(f"{what}: renderer crashed") from None
            if not self.browser._browser or not self.browser._browser.is_connected():
                raise BrowserError(f"{what}: browser died ({e})") from None
            if "Target page, context or browser has been closed" in str(e) or "Execution context was destroyed" in str(e):
                raise PageError(f"{what}: page closed or navigated away ({str(e).splitlines()[0]})") from None
            raise PageError(f"{what}: {str(e).splitlines()[0]}") from None

    async def evaluate(self, expression: str, arg=None, what: str = "evaluate"):
        return await self._guard(self.page.evaluate(expression, arg), what)

    # ---- page control ----
    async def load(self) -> None:
        """Navigate to the page, wait for `load` and fonts, then run virtual time 0."""
        await self._guard(self.page.goto(self.url, wait_until="load"), "load")
        self.loaded = True
        await self.evaluate("() => document.fonts ? document.fonts.ready.then(() => true) : true", what="fonts")
        await self.advance_to(0)

    async def advance_to(self, ms: float) -> float:
        if self.log.crashed:
            raise PageError("renderer crashed")
        return await self.evaluate("(t) => window.__webjudge.advanceTo(t)", ms, what=f"advance to {ms:.0f} ms")

    async def now(self) -> float:
        return await self.evaluate("() => window.__webjudge.now()")

    async def advance(self, ms: float) -> float:
        return await self.advance_to((await self.now()) + ms)

    async def settle(self, ms: float = 1000.0, step_ms: float = 1000 / 30) -> float:
        """Let pending timers, transitions and rAF loops run for `ms` of virtual time."""
        t0 = await self.now()
        t = t0
        while t < t0 + ms - 1e-6:
            t = await self.advance_to(min(t0 + ms, t + step_ms))
        return t

    async def collect_errors(self) -> None:
        for e in await self.evaluate("() => window.__webjudge.takeErrors()", what="errors"):
            self.log.add("page_errors", e)

    async def screenshot_png(self, wait_frames: int = 1) -> bytes:
        """A viewport screenshot via CDP (PNG, lossless, `optimizeForSpeed`).

        It first waits for `wait_frames` real browser frames: right after a seek, the
        compositor may still be re-rasterising scaled layers, and a capture taken then
        differs along 1-2 px edges between runs (measured: pages animating `scale`
        differed in 2-13 of 90 frames per run without the wait, 0 of 90 in 20 runs with it).
        """
        if wait_frames:
            await self.evaluate("(n) => window.__webjudge.frames(n)", wait_frames, what="frame")
        params = {"format": "png", "optimizeForSpeed": True, "captureBeyondViewport": False}
        res = await self._guard(self.cdp.send("Page.captureScreenshot", params), "screenshot")
        return base64.b64decode(res["data"])

    async def screenshot(self, wait_frames: int = 1) -> np.ndarray:
        return decode_png(await self.screenshot_png(wait_frames))

    async def capture(self, n_frames: int, fps: float, start_ms: float = 0.0, wait_frames: int = 1,
                      on_frame=None) -> np.ndarray:
        """Frames at t = start + i/fps (virtual), i = 0..n-1, as (n, H, W, 3) uint8 RGB.
        `on_frame(i, frame)` lets a caller stream frames (e.g. to an encoder) instead."""
        w, h = self.viewport
        frames = None if on_frame else np.empty((n_frames, h, w, 3), np.uint8)
        for i in range(n_frames):
            await self.advance_to(start_ms + i * 1000.0 / fps)
            frame = await self.screenshot(wait_frames)
            if frame.shape[:2] != (h, w):  # a page can resize its own window contents; keep the viewport
                frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
            if on_frame:
                on_frame(i, frame)
            else:
                frames[i] = frame
        await self.collect_errors()
        return frames
