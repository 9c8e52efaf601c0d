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
