"""Limits, launch flags and errors of the browser runtime (no Playwright objects here).

Environment overrides: `WEBJUDGE_JS_HEAP_MB`, `WEBJUDGE_RENDERER_MEMORY_MB`,
`WEBJUDGE_MAX_PAGE_MB`, `WEBJUDGE_PAGE_BUDGET_S`, `WEBJUDGE_FRAME_BUDGET_S`; the binary is
`$WEBJUDGE_CHROMIUM` or Debian's `chromium` (`chromium_path`).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from judge.errors import JudgeError, PageFailure

CLOCK_JS = (Path(__file__).with_name("clock.js")).read_text(encoding="utf-8")


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


JS_HEAP_MB = int(_env_float("WEBJUDGE_JS_HEAP_MB", 1024))              # V8 old space per renderer
RENDERER_MEMORY_MB = int(_env_float("WEBJUDGE_RENDERER_MEMORY_MB", 4096))  # RLIMIT_DATA per renderer
MAX_PAGE_BYTES = int(_env_float("WEBJUDGE_MAX_PAGE_MB", 16) * (1 << 20))  # larger candidate pages are refused
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-threaded-animation",
    # Defence in depth behind request routing: nothing resolves, every connection goes
    # to the judge's egress sink (a proxy that forwards nothing: sandbox.EgressSink; the
    # port below is replaced at launch), WebRTC may not open its own UDP sockets.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:1", "--proxy-bypass-list=<-loopback>",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-features=Translate,MediaRouter,OptimizationHints,DialMediaRouteProvider",
    "--deny-permission-prompts", "--disable-notifications", "--mute-audio",
    "--font-render-hinting=none", "--hide-scrollbars", "--disable-smooth-scrolling",
    f"--js-flags=--max-old-space-size={JS_HEAP_MB}",
]
# Frames when the judge asks (seek, capture), not paced to a 60 Hz display. Only where each
# page at once has a spare core (`unpaced`): a paced capture waits up to one display tick per
# frame (--workers 1 on this 2-core machine: 17.2 tasks/min unpaced, 15.1 paced), but unpaced
# Chromium makes frames as fast as the CPU allows while anything animates (1.3-1.5 cores for
# one open animated page), which takes the cores other pages' renders and metrics need
# (--workers 2: 22.9 tasks/min unpaced, 24.0 paced). The pixels are the same either way
# (tests/judge/test_browser_determinism.py renders both ways).
UNPACED_ARG = "--disable-frame-rate-limit"


def unpaced(pages_at_once: int, cpus: int | None = None) -> bool:
    """Whether Chromium may make frames unpaced: when every page rendering at once on the
    machine has a second core to itself (`cpus`: default this machine's)."""
    return 2 * max(1, pages_at_once) <= (cpus or os.cpu_count() or 1)


def launch_args(paced: bool) -> list[str]:
    """Chromium's command-line flags: `LAUNCH_ARGS`, plus `UNPACED_ARG` unless `paced`."""
    return LAUNCH_ARGS + ([] if paced else [UNPACED_ARG])


# Playwright's defaults we do not want: its --disable-popup-blocking would let a page open
# windows without a user gesture (a window.open flood); Chromium's popup blocker stays on.
IGNORED_DEFAULT_ARGS = ["--enable-automation", "--disable-popup-blocking"]
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_PAGE_BUDGET_S = _env_float("WEBJUDGE_PAGE_BUDGET_S", 120.0)
FRAME_BUDGET_S = _env_float("WEBJUDGE_FRAME_BUDGET_S", 1.0)  # a long capture gets at least this per frame


class BrowserError(JudgeError):
    """Infrastructure failure (Chromium missing, crashed or unresponsive). Not the page's fault."""


class PageError(PageFailure):
    """The page under test failed: renderer crash, script hang, load failure, navigation away
    (`kind` says which: see `judge.errors.PageFailure`)."""


def chromium_path() -> str:
    """The Chromium binary: $WEBJUDGE_CHROMIUM, else chromium on PATH."""
    for cand in (os.environ.get("WEBJUDGE_CHROMIUM"), shutil.which("chromium"),
                 shutil.which("chromium-browser"), "/usr/bin/chromium"):
        if cand and Path(cand).exists():
            return cand
    raise BrowserError("Chromium not found: install Debian's chromium (apt-get install -y chromium) "
                       "or set WEBJUDGE_CHROMIUM to its path")
