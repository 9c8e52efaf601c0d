"""Shared fixtures: one event loop and one real Chromium for the whole session."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PAGES = Path(__file__).with_name("pages")
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def browser(loop):
    from judge.browser.runtime import Browser

    b = loop.run_until_complete(Browser().start())
    yield b
    loop.run_until_complete(b.close())


@pytest.fixture
def run(loop):
    """Run a coroutine on the session loop (the browser lives there)."""
    return loop.run_until_complete


def record_test_task(run, browser, root: Path, html: str, actions: list[dict], *, task_id: str, viewport,
                     fps: float = 10):
    """Record an interactive task from `html` and action dicts (the reference page is written
    to `root/src/reference.html`, the task to `root/task`) and load it."""
    from judge.record import record_interactive
    from judge.tasks import Action, load_task

    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "reference.html").write_text(html)
    run(record_interactive(browser, root / "src" / "reference.html", [Action.model_validate(a) for a in actions],
                           root / "task", task_id=task_id, viewport=viewport, fps=fps))
    return load_task(root / "task")
