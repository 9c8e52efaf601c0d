"""One page in its own browser context, under the virtual clock and the sandbox.

`PageSession` is made by `Browser.session(...)` (judge/browser/runtime.py): loading the
candidate from the virtual origin, bounded calls into the page (`_guard`: per-call
timeout, per-page budget, the script stopped on a hang, a browser that stops answering
reported as `BrowserError`), the virtual clock (`advance_to`, `settle`), page errors,
tracing; frame capture comes from `judge.browser.capture.CaptureMixin` and the request
routing, popups, dialogs and downloads from `judge.browser.sandbox.SandboxHandlers`.

Over 300 lines because the guard, the clock and the lifecycle share the session's
state (hung / budget / navigation flags) and must change together.
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from judge.browser.capture import CaptureMixin
from judge.browser.limits import CLOCK_JS, MAX_PAGE_BYTES, BrowserError, PageError
from judge.browser.mirror import current_use
from judge.browser.sandbox import PAGE_URL, Mounts, SandboxHandlers, SandboxLog


class PageSession(CaptureMixin, SandboxHandlers):
    """One page in its own context, under the virtual clock and the sandbox (request
    routing and the other sandbox handlers: `sandbox.SandboxHandlers`)."""

    def __init__(self, browser, mounts: Mounts, viewport: tuple[int, int], timeout_s: float):
        self.browser, self.mounts, self.viewport, self.timeout_s = browser, mounts, viewport, timeout_s
        self.log = SandboxLog()
        self.libraries = current_use()  # the library mirror and mode of the current scope (judge.browser.mirror)
        self.context = self.page = self.cdp = None
        self.loaded = False
        self.url = PAGE_URL
        self.budget_s = browser.page_budget_s
        self.spent_s = 0.0         # time spent waiting on this page (counted against budget_s)
        self._hung = False         # a call timed out: the renderer may still be busy
        self._browser_hung = False # ... and the browser process did not answer either
        self._navs = 0             # main-frame navigation requests seen (the first is ours)
        self._loader = None        # loaderId of our document
        self._left = None          # URL of a document that replaced ours (about:blank, blob:, ...)
        self._crash_seen = asyncio.Event()
        self._egress_seen = len(browser.egress.entries)  # sink entries before this page opened
        self._events = 0           # console messages and page errors received

    # ---- lifecycle ----
    async def _open(self, tracing: bool) -> None:
        w, h = self.viewport
        try:
            self.context = await self.browser._browser.new_context(
                viewport={"width": w, "height": h}, device_scale_factor=1, locale="en-US",
                timezone_id="UTC", service_workers="block", accept_downloads=False,
                java_script_enabled=True, reduced_motion="no-preference", color_scheme="light")
            if tracing:
                await self.context.tracing.start(screenshots=True, snapshots=True)
            await self.context.add_init_script(CLOCK_JS)
            await self.context.route("**/*", self._route)
            self.page = await self.context.new_page()
            self.context.on("page", self._on_page)  # after our own page exists: any later page is a popup
            self.page.set_default_timeout(self.timeout_s * 1000)
            self.page.on("console", self._on_console)
            self.page.on("pageerror", self._on_pageerror)
            self.page.on("dialog", self._on_dialog)
            # WebSockets are not routed: they fail at the egress sink (no DNS, no route out); log them
            self.page.on("websocket", lambda ws: self.log.add("blocked", f"WEBSOCKET {ws.url[:300]}"))
            self.page.on("crash", self._on_crash)
            self.page.on("download", self._on_download)
            self.cdp = await self.context.new_cdp_session(self.page)
            self.cdp.on("Page.frameNavigated", self._on_frame_navigated)
            await self.cdp.send("Page.enable")
        except Exception as e:
            raise BrowserError(f"could not open a browser context: {_first_line(e)}") from None

    async def _close(self) -> None:
        if self.context is None:
            return
        if self._browser_hung:  # nothing in this browser answers: do not wait on it again
            self.context = None
            await self.browser.restart(polite=False)
            return
        await self._pull_errors()
        await self.drain()
        try:
            await asyncio.wait_for(self.context.close(), 5)
        except Exception:
            # a renderer stuck in a script can block close: take the whole browser down
            self.context = None
            await self.browser.restart()
        self.context = None
        if not self.browser.alive() and not self.browser._closed:  # killed meanwhile: have a new one ready
            await self.browser.ensure()

    async def drain(self, seconds: float = 0.15) -> None:
        """Let events the page already caused (popups, navigations, dialogs, requests)
        reach the log: one round trip to the renderer, then a short real wait."""
        if not self.log.crashed:
            await self._pull_events(strict=False)
        await asyncio.sleep(seconds)
        self._take_egress()

    # console messages and uncaught errors cross the pipe to this process one event each:
    # past MAX_EVENTS (clock.js already caps each document) stop listening, count the rest
    MAX_EVENTS = 3000

    def _on_console(self, message) -> None:
        self._events += 1
        if self._events > self.MAX_EVENTS:
            self.log.dropped += 1
            _unlisten(self.page, "console", self._on_console)
        elif message.type == "error":
            self.log.add("console_errors", message.text)

    def _on_pageerror(self, error) -> None:
        self._events += 1
        if self._events > self.MAX_EVENTS:
            self.log.dropped += 1
            _unlisten(self.page, "pageerror", self._on_pageerror)
        else:
            self.log.add("page_errors", str(error))

    def _on_crash(self, _page) -> None:
        self.log.crashed = True
        self._crash_seen.set()

    async def stop_tracing(self, path: Path) -> None:
        await self.context.tracing.stop(path=str(path))

    # ---- guarded calls ----
    async def _guard(self, coro, what: str):
        """Run a browser call with a timeout; a hang or crash becomes a PageError, a dead or
        unresponsive browser a BrowserError."""
        if self._left:
            _discard_coro(coro)
            raise PageError(f"{what}: the page navigated away (its document was replaced by {self._left[:120]})", kind="navigated")
        remaining = self.budget_s - self.spent_s
        if remaining <= 0:
            _discard_coro(coro)
            raise PageError(f"{what}: the page used up its time budget ({self.budget_s:.0f} s)", kind="budget")
        limit = min(self.timeout_s, remaining)
        t0 = time.perf_counter()
        try:
            return await self._race(coro, limit)
        except asyncio.TimeoutError:
            self.spent_s += time.perf_counter() - t0
            t0 = time.perf_counter()
            await self._stop_script(what)
            if limit < self.timeout_s:
                raise PageError(f"{what}: the page used up its time budget ({self.budget_s:.0f} s)", kind="budget") from None
            raise PageError(f"{what}: page did not respond within {self.timeout_s:.0f} s (script hang?)", kind="hang") from None
        except PageError as e:
            if e.kind == "crash":
                raise PageError(f"{what}: renderer crashed", kind="crash") from None
            raise
        except BrowserError:
            raise
        except Exception as e:
            if self.log.crashed or "crash" in str(e).lower():
                self.log.crashed = True
                raise PageError(f"{what}: renderer crashed", kind="crash") from None
            if not await self._browser_ok():
                raise BrowserError(f"{what}: browser died ({_first_line(e)})") from None
            if self._left:
                raise PageError(f"{what}: the page navigated away (its document was replaced by {self._left[:120]})", kind="navigated") from None
            if any(m in str(e) for m in ("Target page, context or browser has been closed", "Execution context was destroyed",
                                          "Inspected target navigated or closed", "Cannot find default execution context")):
                raise PageError(f"{what}: page closed or navigated away ({_first_line(e)})", kind="closed") from None
            raise PageError(f"{what}: {_first_line(e)}", kind="call") from None
        finally:
            self.spent_s += time.perf_counter() - t0

    async def _race(self, coro, limit: float):
        """`coro` with a timeout; ends at once if the renderer crashes meanwhile (a DevTools
        call on a crashed renderer may never answer)."""
        if self._crash_seen.is_set():
            _discard_coro(coro)
            raise PageError("renderer crashed", kind="crash")
        task = asyncio.ensure_future(coro)
        crash = asyncio.ensure_future(self._crash_seen.wait())
        try:
            done, _ = await asyncio.wait({task, crash}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        finally:
            crash.cancel()
        if task in done:
            return task.result()
        task.cancel()
        task.add_done_callback(lambda f: f.cancelled() or f.exception())
        if crash in done:
            self.log.crashed = True
            raise PageError("renderer crashed", kind="crash")
        raise asyncio.TimeoutError

    async def _browser_ok(self) -> bool:
        """Is the browser still there? A kill is seen by Playwright a moment after the call
        it broke fails, so give the process state a short while to settle."""
        for _ in range(10):
            if not self.browser.alive():
                return False
            if self.browser.pid is not None:
                return True
            await asyncio.sleep(0.1)
        return self.browser.alive()

    async def _stop_script(self, what: str) -> None:
        """After a timeout: if the browser itself stopped answering it is infrastructure;
        else stop the page's script so the renderer is free (and closable) again."""
        self._hung = True
        if not await self.browser.responsive():
            self._browser_hung = True
            raise BrowserError(f"{what}: the browser stopped answering")
        try:
            await asyncio.wait_for(self.cdp.send("Runtime.terminateExecution"), 2)
        except Exception:
            pass

    async def guard(self, coro, what: str):
        """Await any call into the page (e.g. a Playwright input action) under the session's
        timeout and budget: a hang stops the page's script and is a `PageError`, a dead or
        unresponsive browser a `BrowserError`, a crash "renderer crashed"."""
        return await self._guard(coro, what)

    async def evaluate(self, expression: str, arg=None, what: str = "evaluate"):
        """Playwright's evaluate (a function or expression, with `arg`), guarded."""
        return await self._guard(self.page.evaluate(expression, arg), what)

    def _raw_call(self, expression: str, await_promise: bool = False):
        return self.cdp.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                  "awaitPromise": await_promise})

    async def _call(self, expression: str, what: str, await_promise: bool = False):
        res = await self._guard(self._raw_call(expression, await_promise), what)
        if "exceptionDetails" in res:
            d = res["exceptionDetails"]
            text = (d.get("exception") or {}).get("description") or d.get("text") or "exception"
            raise PageError(f"{what}: {_first_line(text)}", kind="call")
        return (res.get("result") or {}).get("value")

    async def run_js(self, expression: str, what: str = "run_js", await_promise: bool = False):
        """Evaluate a JavaScript *expression* in the page's main world over the DevTools
        protocol and return its JSON value. Unlike `evaluate`, nothing of Playwright's
        in-page machinery runs, so a page that rewrote Array/Map/Function/Object
        built-ins cannot break the call (use it for judge-side probes of hostile pages)."""
        return await self._call(expression, what, await_promise)

    # ---- page control ----
    async def load(self) -> None:
        """Navigate to the page, wait for `load` and fonts, then run virtual time 0."""
        size = len(self.mounts.html)
        if size > MAX_PAGE_BYTES:
            raise PageError(f"load: the page is {size / (1 << 20):.1f} MB, over the "
                            f"{MAX_PAGE_BYTES / (1 << 20):.0f} MB limit for a candidate page", kind="load")
        problem = _not_text(self.mounts.html)
        if problem:  # still served and rendered (as UTF-8, with replacement characters): scored
            self.log.add("page_errors", f"the page is not HTML text: {problem}")
        await self._guard(self._navigate(), "load")
        self.loaded = True
        # the page is the only history entry: history.back() has no about:blank to return to
        await self._guard(self.cdp.send("Page.resetNavigationHistory"), "load")
        await self._call("window.__webjudge.fontsReady()", "fonts", await_promise=True)
        await self.advance_to(0)

    async def _navigate(self) -> None:
        """Go to the page and wait until its document is complete (the `load` event ran).
        Playwright's own `load` wait is not used: it never ends when the page starts a
        navigation of its own during load, even though the router refuses it."""
        await self.page.goto(self.url, wait_until="commit")
        while True:
            res = await self._raw_call("window.__webjudge.readyState()")
            if (res.get("result") or {}).get("value") == "complete":
                return
            if self._left:
                return
            await asyncio.sleep(0.02)

    def _seek_time(self, ms: float) -> float:
        """`ms` as a time to seek to; a crashed renderer or a non-finite time is refused."""
        if self.log.crashed:
            raise PageError("renderer crashed", kind="crash")
        ms = float(ms)
        if ms != ms or ms in (float("inf"), float("-inf")):
            raise ValueError(f"advance_to: not a finite time: {ms}")
        return ms

    async def advance_to(self, ms: float) -> float:
        ms = self._seek_time(ms)
        return await self._call(f"window.__webjudge.advanceTo({ms!r})", what=f"advance to {ms:.0f} ms")

    async def advance_and_wait(self, ms: float, wait_frames: int) -> None:
        """`advance_to(ms)`, then wait `wait_frames` real browser frames (see
        `screenshot_png`), in one protocol call."""
        if not wait_frames:
            await self.advance_to(ms)
            return
        ms = self._seek_time(ms)
        await self._call(f"(window.__webjudge.advanceTo({ms!r}), window.__webjudge.frames({int(wait_frames)}))",
                         what=f"advance to {ms:.0f} ms", await_promise=True)

    async def now(self) -> float:
        return await self._call("window.__webjudge.now()", "now")

    async def advance(self, ms: float) -> float:
        return await self.advance_to((await self.now()) + ms)

    async def settle(self, ms: float = 1000.0, step_ms: float = 1000 / 30) -> float:
        """Let pending timers, transitions and rAF loops run for `ms` of virtual time."""
        t0 = await self.now()
        t = t0
        while t < t0 + ms - 1e-6:   # `step`: a real frame after an animation finished, for its events
            target = self._seek_time(min(t0 + ms, t + step_ms))
            t = await self._call(f"window.__webjudge.step({target!r})", what=f"advance to {target:.0f} ms",
                                 await_promise=True)
        return t

    async def collect_errors(self) -> None:
        errors = await self._call("window.__webjudge.takeErrors()", "errors")
        for e in errors if isinstance(errors, list) else []:
            self.log.add("page_errors", str(e))
        await self._pull_events()


def _first_line(e: BaseException | str) -> str:
    text = str(e)
    return text.splitlines()[0] if text else type(e).__name__


def _not_text(data: bytes) -> str | None:
    """Why `data` (served as UTF-8 HTML) is not text, or None."""
    nul = data.find(b"\0")
    if nul >= 0:
        return f"NUL byte at offset {nul}"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"invalid UTF-8 at offset {e.start}"
    return None


def _unlisten(target, event: str, handler) -> None:
    try:
        target.remove_listener(event, handler)
    except Exception:
        pass


def _discard_coro(coro) -> None:
    if asyncio.iscoroutine(coro):
        coro.close()
