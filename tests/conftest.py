"""Shared fixtures: one event loop and one real Chromium for the whole session, the recorded
interactive-judge tasks, a clean provider environment. Test modules live in folders grouped
like the code (tests/metrics, tests/agents, tests/judge, tests/suite, tests/hostile,
tests/corpus); builders they share are in the tests/helpers package."""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.http_replay import KEY_ENVS  # noqa: E402
from tests.helpers.judge_pages import (  # noqa: E402
    GROCERY_ACTIONS,
    SETTINGS,
    SETTINGS_ACTIONS,
    VP,
    grocery_page,
)
from tests.helpers.paths import PAGES, SHARED  # noqa: E402,F401 (re-exported)
from tests.helpers.tasks import record_test_task  # noqa: E402

# Modules whose tests start Chromium other than through the `browser` fixture (the `judge`
# command in-process or as a subprocess, their own Playwright): all their tests are `browser`.
BROWSER_MODULES = {"test_bad_input", "test_corpus", "test_hostile", "test_hostile_faults", "test_hostile_interactive",
                   "test_judge_replay_cli", "test_judge_resume", "test_pairwise", "test_pipeline", "test_pipeline_resume",
                   "test_record", "test_report", "test_runs", "test_shipped_suite", "test_suite_pages",
                   "test_judge_actions", "test_judge_llm", "test_judge_pages", "test_judge_shipped",
                   "test_judge_shipped_ladder", "test_browser_determinism", "test_browser_sandbox",
                   "test_animation_ladder", "test_packaging", "test_libs_cli",
                   "test_executor_ray",  # its Ray actors start their own Chromium
                   "test_view_app"}  # test_view_app: `judge view` renders previews in its own Chromium
NO_CHROMIUM = "/bin/false"      # what a test without the marker gets as its Chromium


def pytest_collection_modifyitems(config, items):
    """`browser` marks every test that starts Chromium: those using the `browser` fixture and
    those of BROWSER_MODULES, so `pytest -m "not browser"` is the fast loop."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()) or item.module.__name__.rpartition(".")[2] in BROWSER_MODULES:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _chromium_only_for_browser_tests(request, monkeypatch):
    """A test without the `browser` marker that starts Chromium fails (its Chromium is
    `/bin/false`, subprocesses included): the marker cannot silently go missing."""
    if request.node.get_closest_marker("browser") is None:
        monkeypatch.setenv("WEBJUDGE_CHROMIUM", NO_CHROMIUM)
    yield


@pytest.fixture(scope="session")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def browser(loop):
    """The session's Chromium. Its frames are paced as `judge evaluate` paces them for the
    pages this machine renders at once: one per test process (`make test` runs two)."""
    from judge.browser.limits import unpaced
    from judge.browser.runtime import Browser

    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    b = loop.run_until_complete(Browser(paced=not unpaced(workers)).start())
    yield b
    loop.run_until_complete(b.close())


@pytest.fixture
def run(loop):
    """Run a coroutine on the session loop (the browser lives there)."""
    return loop.run_until_complete


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No provider keys or base URLs from the developer's shell; cache in tmp."""
    for var in KEY_ENVS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


@pytest.fixture(scope="session")
def tasks(browser, loop, tmp_path_factory):
    """The interactive-judge test tasks (tests/helpers/judge_pages.py) by name (recorded once per test session at 10 fps)."""
    root = tmp_path_factory.mktemp("judge_tasks")
    out = {}
    for name, html, actions in (("groceries", grocery_page(), GROCERY_ACTIONS), ("settings", SETTINGS, SETTINGS_ACTIONS)):
        out[name] = record_test_task(loop.run_until_complete, browser, root / name, html, actions, task_id=name,
                                     viewport=VP)
    return out
