"""Resuming an interrupted judgment from the checkpointer in the run directory: completed
steps are not re-judged, the browser state is rebuilt by re-applying the recorded
operations, and the result is identical to an uninterrupted run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agents.judge_graph import JudgeRun, judge_page
from judge.browser.runtime import BrowserError
from judge.score import JudgeError
from tests.helpers.judge_pages import OFFLINE, grocery_page

ROOT = Path(__file__).resolve().parents[2]
HTML = grocery_page(dead=frozenset({"tab"}))     # fails at step 2, passes 3 and 4: a mixed run


class Kill(Exception):
    pass


def killer(node: str, index: int | None):
    def on_node(name, state):
        if name == node and (index is None or state.get("index") == index):
            raise Kill(f"killed before {node} of step {index}")
    return on_node


def stable(r: dict) -> dict:
    """Everything but run bookkeeping (timings, node counts)."""
    return {k: r[k] for k in ("ifs", "ifs_steps", "vfs", "final", "exec", "error", "steps", "vfs_components",
                              "backends", "grounding", "page_errors")}


@pytest.fixture(scope="module")
def uninterrupted(loop, browser, tasks, tmp_path_factory):  # noqa: F811
    r = loop.run_until_complete(judge_page(tasks["groceries"], HTML, browser=browser, config=OFFLINE,
                       checkpoint_dir=tmp_path_factory.mktemp("full")))
    assert [s["passed"] for s in r["steps"]] == [True, True, False, True, True]
    return r


@pytest.mark.parametrize("node,index,left", [
    ("ground", 3, {"load": 0, "ground": 2, "act": 2, "settle": 2, "observe": 2, "verify": 2, "score": 1}),
    ("observe", 2, {"load": 0, "ground": 2, "act": 2, "settle": 2, "observe": 3, "verify": 3, "score": 1}),
    ("score", None, {"load": 0, "ground": 0, "act": 0, "settle": 0, "observe": 0, "verify": 0, "score": 1}),
])
def test_interrupted_run_resumes_without_rejudging(run, browser, tasks, tmp_path, uninterrupted, node, index, left):  # noqa: F811
    task = tasks["groceries"]
    first = JudgeRun(task, HTML, browser=browser, config=OFFLINE, checkpoint_dir=tmp_path, on_node=killer(node, index))
    with pytest.raises(Kill):
        run(first.run())
    second = JudgeRun(task, HTML, browser=browser, config=OFFLINE, checkpoint_dir=tmp_path)
    r = run(second.run())
    assert {k: second.node_calls.get(k, 0) for k in left} == left
    total = first.node_calls + second.node_calls
    assert total["verify"] == 5 and total["load"] == 1            # every step judged exactly once
    assert second.resumes == (1 if node != "score" else 0)        # the page was rebuilt from the ops log
    assert stable(r) == stable(uninterrupted)
    # a finished judgment is returned as stored
    third = JudgeRun(task, HTML, browser=browser, config=OFFLINE, checkpoint_dir=tmp_path)
    again = run(third.run())
    assert again["judge_run"]["reused"] and not third.node_calls and stable(again) == stable(uninterrupted)


def test_killed_process_resumes(run, browser, tasks, tmp_path, uninterrupted):  # noqa: F811
    """A real kill (os._exit in another process) after step 2 was judged."""
    task = tasks["groceries"]
    page = tmp_path / "page.html"
    page.write_text(HTML)
    script = f"""
import asyncio, os, sys
sys.path.insert(0, {str(ROOT)!r})
from agents.judge_graph import judge_page
from judge.browser.runtime import Browser
from judge.score import ScoreConfig
from judge.tasks import load_task
def die(name, state):
    if name == "ground" and state.get("index") == 3:
        os._exit(9)
async def main():
    async with Browser() as b:
        await judge_page(load_task({str(task.root)!r}), open({str(page)!r}, "rb").read(), browser=b,
                         config=ScoreConfig(embedder="classic"), checkpoint_dir={str(tmp_path / 'ck')!r}, on_node=die)
asyncio.run(main())
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 9, proc.stderr[-2000:]
    second = JudgeRun(task, HTML, browser=browser, config=OFFLINE, checkpoint_dir=tmp_path / "ck")
    r = run(second.run())
    assert second.node_calls["verify"] == 2 and second.node_calls["load"] == 0 and second.resumes == 1
    assert stable(r) == stable(uninterrupted)


def test_browser_failure_is_retried_by_resuming(run, browser, tasks, tmp_path, uninterrupted):  # noqa: F811
    calls = {"n": 0}

    def flaky(name, state):
        if name == "act" and state.get("index") == 1 and calls["n"] == 0:
            calls["n"] += 1
            raise BrowserError("simulated: Chromium died")

    jr = JudgeRun(tasks["groceries"], HTML, browser=browser, config=OFFLINE, checkpoint_dir=tmp_path, on_node=flaky)
    r = run(jr.run())
    assert jr.resumes == 1 and jr.node_calls["verify"] == 5 and jr.node_calls["act"] == 6
    assert stable(r) == stable(uninterrupted)


def test_persistent_browser_failure_is_a_judge_error(run, browser, tasks, tmp_path):  # noqa: F811
    def dead(name, state):
        if name == "ground":
            raise BrowserError("simulated: Chromium keeps dying")

    with pytest.raises(JudgeError, match="browser failed 3 times"):
        run(JudgeRun(tasks["groceries"], HTML, browser=browser, config=OFFLINE, checkpoint_dir=tmp_path,
                     on_node=dead).run())


GRAPH_CHILD = """
import asyncio, os, signal, sys
from typing import TypedDict
from langgraph.graph import END, START, StateGraph
from agents.judge_graph import checkpointer

class S(TypedDict, total=False):
    n: int

def step(s):
    if s["n"] == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)     # killed mid-run, as a machine would
    return {"n": s["n"] + 1}

async def main():
    g = StateGraph(S)
    g.add_node("step", step)
    g.add_edge(START, "step")
    g.add_conditional_edges("step", lambda s: END if s["n"] >= 5 else "step", ["step", END])
    cfg = {"configurable": {"thread_id": "t"}}
    async with checkpointer(sys.argv[1]) as saver:
        graph = g.compile(checkpointer=saver)
        snap = await graph.aget_state(cfg)
        print("resumed at", snap.values.get("n"), flush=True)
        out = await graph.ainvoke(None if snap.next else {"n": 0}, cfg, durability="sync")
        print("done", out["n"], flush=True)

asyncio.run(main())
"""


def test_checkpointer_survives_a_sigkill(tmp_path):
    """LangGraph's SQLite saver (`agents.judge_graph.checkpointer`): a process SIGKILLed in
    the middle of a graph resumes, in a new process, from its last finished node."""
    def child(kill_at):
        return subprocess.run([sys.executable, "-c", GRAPH_CHILD, str(tmp_path), str(kill_at)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    first = child(3)
    assert first.returncode == -9 and "resumed at None" in first.stdout, first.stderr
    assert (tmp_path / "checkpoints.sqlite").is_file()
    second = child(-1)
    assert second.returncode == 0 and "resumed at 3" in second.stdout and "done 5" in second.stdout, second.stderr


def test_checkpoints_live_in_the_artifacts_dir(run, browser, tasks, tmp_path):  # noqa: F811
    r = run(judge_page(tasks["groceries"], HTML, browser=browser, config=OFFLINE, artifacts=tmp_path))
    assert (tmp_path / ".judge" / "checkpoints.sqlite").is_file() and r["judge_run"]["reused"] is False
    r2 = run(judge_page(tasks["groceries"], HTML, browser=browser, config=OFFLINE, artifacts=tmp_path))
    assert r2["judge_run"]["reused"] is True and stable(r2) == stable(r)
    # another page is another judgment
    r3 = run(judge_page(tasks["groceries"], grocery_page(), browser=browser, config=OFFLINE, artifacts=tmp_path))
    assert r3["judge_run"]["reused"] is False and r3["ifs"] == 1.0
    assert os.path.exists(tmp_path / "steps.jsonl")
