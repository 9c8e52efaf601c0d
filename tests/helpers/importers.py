"""Builders of importer inputs: small videos and Animation2Code sample folders."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from judge.video import write_video

W, H, FPS, N = 96, 64, 10, 10


def video(path: Path, n=N, fps=FPS, w=W, h=H, seed=0) -> Path:
    rng = np.random.default_rng(seed)
    write_video(path, [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for _ in range(n)], fps)
    return path


def sample(folder: Path, *, html='<div class="spinner"></div>', css=".spinner{animation:spin 1s linear infinite}",
           js=None, title="Spinner", manifest=None, n=N) -> Path:
    (folder / "src").mkdir(parents=True)
    url = f"https://codepen.io/someone/pen/{folder.name}"
    (folder / "metadata.json").write_text(json.dumps({"title": title, "url": url}))
    (folder / "src" / "index.html").write_text(html)
    if css is not None:
        (folder / "src" / "style.css").write_text(css)
    if js is not None:
        (folder / "src" / "script.js").write_text(js)
    if n:
        video(folder / "animation.mp4", n=n, seed=len(folder.name))
    if manifest is not None:
        (folder / "_record_manifest.json").write_text(json.dumps(manifest))
    return folder


