"""Faults on the browser side, judged through `judge.score.score_page`:

- the Chromium process SIGKILLed mid-task: a judge error (`JudgeError`), never a page
  failure; the browser is restarted and the next task scores as usual;
- the Chromium process frozen (SIGSTOP) mid-task: the same (a browser that stops
  answering is infrastructure, not a hanging page);
- a renderer crash mid-task (DevTools `Page.crash`, as a Chromium bug would): a page
  failure, scored (`render.fatal`), and the next task works;
- every renderer runs under the memory cap; a closed browser leaves no process behind.

End to end through `judge.pipeline.evaluate` (what `judge evaluate` runs): the task whose
Chromium is SIGKILLed is retried on the restarted browser and scores as usual (animation
and interactive); with no retry left it is a judge-error row (no scores, no page error)
that the next run scores.
"""
from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from pathlib import Path

import pytest

from judge.browser.runtime import RENDERER_MEMORY_MB, Browser, PageError, PageSession
from judge.browser.sandbox import proc_alive, proc_cmdline, proc_descendants
from judge.score import JudgeError, score_page
from tests.helpers.hostile import REFERENCE, build_animation_task, score_config, scores

FAULT_BOUND_S = 45.0


def chromium_browser_pids() -> list[int]:
    """Chromium browser processes (not renderers/zygotes) under this test process:
    psutil when installed, else a /proc scan."""
    try:
        import psutil

        procs = [(p.pid, " ".join(p.cmdline())) for p in psutil.Process().children(recursive=True)]
    except ImportError:
        procs = [(p, " ".join(proc_cmdline(p))) for p in proc_descendants(os.getpid())]
    except Exception:  # a child vanished while listing
        procs = [(p, " ".join(proc_cmdline(p))) for p in proc_descendants(os.getpid())]
    return [pid for pid, cmd in procs if "chrom" in cmd.split(" ")[0] and "--type=" not in cmd]


@pytest.fixture(scope="module")
def fenv(loop, tmp_path_factory):
    run = loop.run_until_complete
    b = run(Browser(timeout_s=5.0, page_budget_s=15.0).start())
    root = tmp_path_factory.mktemp("faults")
    task = build_animation_task(root / "task", b, run, task_id="fault-anim")
    config = score_config(root / "cache")
    baseline = run(score_page(task, REFERENCE, browser=b, config=config))
    assert baseline["exec"] is True

    class Env:
        pass

    e = Env()
    e.browser, e.run, e.task, e.config, e.baseline = b, run, task, config, baseline
    yield e
    run(b.close())


def at_frame(monkeypatch, n: int, action) -> list:
    """Call `action(session)` just before the n-th screenshot of the next capture."""
    calls = []
    original = PageSession.screenshot_png

    async def patched(self, wait_frames: int = 1):
        calls.append(1)
        if len(calls) == n:
            await action(self)
        return await original(self, wait_frames)

    monkeypatch.setattr(PageSession, "screenshot_png", patched)
    return calls


def normal_scores_as_usual(fenv) -> None:
    row = fenv.run(score_page(fenv.task, REFERENCE, browser=fenv.browser, config=fenv.config))
    assert scores(row) == scores(fenv.baseline), row
    assert not row["render"]["fatal"]


def test_browser_killed_mid_task_is_a_judge_error_and_restarted(fenv, monkeypatch):
    b = fenv.browser
    old_pid, restarts = b.pid, b.restarts
    found = chromium_browser_pids()
    assert old_pid in found, f"browser pid {old_pid} not found by scanning: {found}"
    tree = [old_pid] + proc_descendants(old_pid)

    async def kill(session):
        os.kill(old_pid, signal.SIGKILL)
        await asyncio.sleep(0.05)

    at_frame(monkeypatch, 3, kill)
    t0 = time.perf_counter()
    with pytest.raises(JudgeError, match="browser died|browser stopped|Target page, context or browser"):
        fenv.run(score_page(fenv.task, REFERENCE, browser=b, config=fenv.config))
    wall = time.perf_counter() - t0
    assert wall < FAULT_BOUND_S, wall
    monkeypatch.undo()
    assert b.restarts == restarts + 1 and b.pid not in (None, old_pid) and b.alive()
    time.sleep(0.5)
    assert [p for p in tree if proc_alive(p)] == [], "processes of the killed browser survive"
    normal_scores_as_usual(fenv)


def test_browser_frozen_mid_task_is_a_judge_error_and_restarted(fenv, monkeypatch):
    b = fenv.browser
    old_pid, restarts = b.pid, b.restarts

    async def freeze(session):
        os.kill(old_pid, signal.SIGSTOP)

    at_frame(monkeypatch, 3, freeze)
    t0 = time.perf_counter()
    try:
        with pytest.raises(JudgeError, match="stopped answering|browser died"):
            fenv.run(score_page(fenv.task, REFERENCE, browser=b, config=fenv.config))
    finally:
        if proc_alive(old_pid):
            os.kill(old_pid, signal.SIGCONT)
    wall = time.perf_counter() - t0
    assert wall < FAULT_BOUND_S, wall
    monkeypatch.undo()
    assert b.restarts >= restarts + 1 and b.pid != old_pid and b.alive()
    normal_scores_as_usual(fenv)


def kill_browser_at_frame(monkeypatch, browser: Browser, n: int) -> list[int]:
    """SIGKILL the Chromium browser process just before the n-th screenshot (once);
    returns the killed pid(s)."""
    killed = []

    async def kill(session):
        killed.append(browser.pid)
        os.kill(browser.pid, signal.SIGKILL)
        await asyncio.sleep(0.05)

    at_frame(monkeypatch, n, kill)
    return killed


def evaluate_rows(fenv, browser, task_root: Path, out: Path, **opts) -> dict:
    from agents.cache import ResponseCache
    from judge.pipeline import EvalOptions, evaluate
    from judge.runs import RunDir, read_results
    from judge.tasks import load_tasks

    options = EvalOptions(model="reference", score=fenv.config, command=["test"], **opts)
    res = fenv.run(evaluate(load_tasks([task_root]), RunDir(out), options, browser=browser, progress=None,
                            cache=ResponseCache(out.parent / "llm")))
    rows, bad = read_results(out / "results.jsonl")
    assert bad == 0 and res.judged
    return {"judged": res.judged, "rows": rows}


def test_browser_killed_mid_task_through_evaluate_is_retried_not_a_page_failure(fenv, monkeypatch, tmp_path):
    b = fenv.browser
    restarts = b.restarts
    killed = kill_browser_at_frame(monkeypatch, b, 3)
    [row] = evaluate_rows(fenv, b, fenv.task.root, tmp_path / "retried", judge_retries=1)["rows"]
    monkeypatch.undo()
    assert killed and b.restarts == restarts + 1 and b.alive()
    assert row["judge_error"] is None and row["attempts"] == 2, row
    assert row["error"] is None and row["error_kind"] is None and not row["render"]["fatal"], row
    assert scores(row) == scores(fenv.baseline)

    # no retry left: a judge-error row (not scored, not the page's fault); the next run scores it
    killed = kill_browser_at_frame(monkeypatch, b, 3)
    [row] = evaluate_rows(fenv, b, fenv.task.root, tmp_path / "no-retry", judge_retries=0)["rows"]
    monkeypatch.undo()
    assert killed and b.alive()
    assert re.search("browser died|browser stopped|Target page, context or browser", row["judge_error"] or ""), row
    assert row["exec"] is None and row["appearance"] is None and row["error"] is None and row["attempts"] == 1, row
    again = evaluate_rows(fenv, b, fenv.task.root, tmp_path / "no-retry", judge_retries=0)
    assert again["judged"] == [fenv.task.id] and len(again["rows"]) == 2
    assert again["rows"][-1]["judge_error"] is None and scores(again["rows"][-1]) == scores(fenv.baseline)


def test_browser_killed_mid_interactive_task_through_evaluate_is_retried(fenv, browser, monkeypatch, tmp_path):
    task_root = Path(__file__).resolve().parents[2] / "tasks" / "interactive" / "faq-accordion"
    restarts = browser.restarts
    killed = kill_browser_at_frame(monkeypatch, browser, 3)  # initial, step 0 before, step 0 after
    [row] = evaluate_rows(fenv, browser, task_root, tmp_path / "r", judge_retries=1)["rows"]
    monkeypatch.undo()
    assert killed and browser.restarts >= restarts + 1 and browser.alive()
    assert row["judge_error"] is None and row["error"] is None and row["error_kind"] is None, row
    assert row["ifs"] == 1.0 and row["exec"] is True, [(s["passed"], s.get("error")) for s in row["steps"]]
    # the judge resumed on the new browser from its checkpoints, or the pipeline retried the task
    assert row["judge_run"]["resumed_pages"] >= 1 or row["attempts"] == 2, row["judge_run"]


def test_renderer_crash_mid_task_is_a_scored_page_failure(fenv, monkeypatch):
    async def crash(session):
        try:
            await asyncio.wait_for(session.cdp.send("Page.crash"), 2)
        except Exception:
            pass

    at_frame(monkeypatch, 3, crash)
    row = fenv.run(score_page(fenv.task, REFERENCE, browser=fenv.browser, config=fenv.config))
    monkeypatch.undo()
    assert "renderer crashed" in (row["render"]["fatal"] or ""), row["render"]
    assert row["exec"] is False
    normal_scores_as_usual(fenv)


def test_renderers_run_under_the_memory_cap(fenv):
    b = fenv.browser

    async def go():
        async with b.session("<p>x</p>") as s:
            await s.load()
            renderers = [p for p in proc_descendants(b.pid) if "--type=renderer" in " ".join(proc_cmdline(p))]
            limits = {}
            for p in renderers:
                for line in Path(f"/proc/{p}/limits").read_text().splitlines():
                    if line.startswith("Max data size"):
                        limits[p] = line.split()[3]
            return limits

    limits = fenv.run(go())
    assert limits and all(v == str(RENDERER_MEMORY_MB << 20) for v in limits.values()), limits


def test_closing_a_browser_leaves_no_process(loop):
    b = loop.run_until_complete(Browser(timeout_s=5.0).start())
    tree = [b.pid] + proc_descendants(b.pid)
    assert len(tree) > 2

    async def go():
        async with b.session("<script>setTimeout(() => { for (;;) {} }, 5)</script>", timeout_s=2) as s:
            await s.load()
            with pytest.raises(PageError, match="did not respond"):
                await s.advance_to(10)
        await b.close()

    loop.run_until_complete(go())
    time.sleep(0.5)
    assert [p for p in tree if proc_alive(p)] == []
