"""`judge doctor`: what this machine can run, and exactly what to install or set.

Each check returns (name, ok, detail, fix). Learned backends and model keys are
optional (the offline defaults always work), so they are reported as available or
not with the reason, and never make the command fail; missing essentials do.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ESSENTIAL = {"chromium", "fonts", "video codecs", "python packages"}


def _check_chromium():
    from judge.browser.runtime import Browser, BrowserError, chromium_path

    try:
        path = chromium_path()
    except BrowserError as e:
        return False, str(e), "apt-get install -y chromium  (or set WEBJUDGE_CHROMIUM=/path/to/chromium)"
    try:
        version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception as e:
        version = f"version unknown ({e})"

    async def smoke():
        async with Browser(path) as b:
            async with b.session("<p id=p>ok</p>", (320, 240)) as s:
                await s.load()
                return await s.evaluate("() => document.getElementById('p').textContent")

    try:
        ok = asyncio.run(smoke()) == "ok"
    except Exception as e:
        return False, f"{path}: {version}; a test page did not render: {e}", "reinstall chromium; check that /dev/shm is writable"
    return ok, f"{path}: {version}; renders a sandboxed page", ""


def _check_fonts():
    try:
        out = subprocess.run(["fc-list"], capture_output=True, text=True, timeout=30).stdout
    except FileNotFoundError:
        return False, "fc-list not found (fontconfig missing)", "apt-get install -y fontconfig fonts-dejavu-core fonts-liberation"
    fams = [f for f in ("DejaVu Sans", "Liberation Sans") if f in out]
    missing = [f for f in ("DejaVu Sans", "Liberation Sans") if f not in out]
    return not missing, f"found: {', '.join(fams) or 'none'}", ("apt-get install -y fonts-dejavu-core fonts-liberation" if missing else "")


def _check_tesseract():
    exe = shutil.which("tesseract")
    if not exe:
        return False, "tesseract not found (VFS text similarity is then unavailable)", "apt-get install -y tesseract-ocr"
    v = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.splitlines()
    return True, f"{exe}: {v[0] if v else 'tesseract'}", ""


def _check_codecs():
    try:
        import av
        import numpy as np

        from judge.video import read_frames, write_video
    except Exception as e:
        return False, f"PyAV not importable: {e}", "pip install av"
    import tempfile

    missing = [c for c in ("libx264rgb", "h264", "vp9") if c not in av.codecs_available]
    with tempfile.TemporaryDirectory() as d:
        f = (np.arange(2 * 16 * 16 * 3) % 251).astype(np.uint8).reshape(2, 16, 16, 3)
        try:
            ok = bool((read_frames(write_video(Path(d) / "t.mp4", f, 30)) == f).all())
        except Exception as e:
            return False, f"lossless round trip failed: {e}", "pip install --force-reinstall av"
    detail = f"PyAV {av.__version__}; lossless round trip {'ok' if ok else 'NOT bit-exact'}"
    if missing:
        detail += f"; missing decoders: {', '.join(missing)}"
    return ok and not missing, detail, ("pip install --force-reinstall av" if missing or not ok else "")


def _check_packages():
    missing = []
    for mod in ("playwright", "pydantic", "numpy", "cv2", "skimage", "langgraph", "openai", "anthropic", "google.genai"):
        try:
            __import__(mod)
        except Exception:
            missing.append(mod)
    return not missing, ("all importable" if not missing else f"not importable: {', '.join(missing)}"), \
        ("pip install -e .  (from the webjudge checkout)" if missing else "")


def _backend_rows():
    rows = []
    try:
        from metrics.embedders import embedder_status
        from metrics.trackers import tracker_status

        for kind, status in (("embedder", embedder_status), ("tracker", tracker_status)):
            for name, ok, reason in status():
                rows.append((f"{kind}: {name}", ok, reason, ""))
    except Exception as e:  # the metrics package itself failed to import
        rows.append(("metric backends", False, f"metrics package failed to import: {e}", "pip install -e ."))
    return rows


def _key_rows():
    rows = []
    for provider, envs in (("openai", ["OPENAI_API_KEY"]), ("anthropic", ["ANTHROPIC_API_KEY"]),
                           ("google", ["GOOGLE_API_KEY", "GEMINI_API_KEY"])):
        have = [e for e in envs if os.environ.get(e)]
        rows.append((f"key: {provider}", bool(have),
                     f"{have[0]} is set" if have else f"{' or '.join(envs)} not set (only needed for {provider}/... models)",
                     "" if have else f"export {envs[0]}=..."))
    return rows


def checks() -> list[tuple[str, bool, str, str]]:
    rows = []
    for name, fn in (("chromium", _check_chromium), ("fonts", _check_fonts), ("tesseract", _check_tesseract),
                     ("video codecs", _check_codecs), ("python packages", _check_packages)):
        try:
            ok, detail, fix = fn()
        except Exception as e:
            ok, detail, fix = False, f"check failed: {e}", ""
        rows.append((name, ok, detail, fix))
    return rows + _backend_rows() + _key_rows()


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("doctor", help="check Chromium, fonts, Tesseract, codecs, backends and keys")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    rows = checks()
    if args.json:
        print(json.dumps([{"check": n, "ok": ok, "detail": d, "fix": f} for n, ok, d, f in rows], indent=2))
    else:
        width = max(len(r[0]) for r in rows)
        for name, ok, detail, fix in rows:
            mark = "ok " if ok else ("-- " if name.split(":")[0] in ("embedder", "tracker", "key") else "NO ")
            print(f"{mark} {name:<{width}}  {detail}")
            if fix and not ok:
                print(f"    {'':<{width}}  fix: {fix}")
    failed = [n for n, ok, _, _ in rows if not ok and n in ESSENTIAL]
    if failed:
        print(f"\nmissing essentials: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0
