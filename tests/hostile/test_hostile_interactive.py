"""Hostile pages on an interactive task, judged through `judge.score.score_page` (which
runs `agents.judge_graph.judge_page`, offline: the grounding ladder and rule checks).

A small counter task is recorded with `judge.record.record_interactive`; hostile pages
either misbehave when the judge clicks (with a real user gesture: popups can open, then
are closed) or are corpus pages. Each must end with a row that records the failure,
within `BOUND_S`, with zero requests at the canary, and the reference page judged next
with the same browser must score exactly as before."""
from __future__ import annotations

import asyncio
import time

import pytest

from judge.browser.runtime import Browser
from judge.record import record_interactive
from judge.score import score_page
from judge.tasks import Action, Viewport, load_task
from tests.helpers.canary import Canary
from tests.helpers.hostile import (
    HOSTILE,
    HOSTILE_BUDGET_S,
    HOSTILE_TIMEOUT_S,
    page_text,
    record_timing,
    score_config,
)

judge_graph = pytest.importorskip("agents.judge_graph")

BOUND_S = 60.0
COUNTER = """<!doctype html><html><body style="font-family:DejaVu Sans;margin:30px">
<h1>Counter</h1><p id=v>Count: 0</p>
<button id=inc onclick="CLICK;document.getElementById('v').textContent='Count: '+(++n)">Add one</button>
<script>let n=0</script></body></html>"""
ACTIONS = [{"type": "click", "description": "Click 'Add one'", "target": {"role": "button", "name": "Add one", "selector": "#inc"},
            "assertion": "The page shows \"Count: 1\"", "visual_check": True}]
KEYS = ("exec", "ifs", "ifs_steps", "vfs", "final")

ON_CLICK = {
    "click_hang": "while(true){}",
    "click_popups_and_leave": "for(let i=0;i<50;i++)window.open('https://evil.example/p'+i);"
                              "fetch('{{CANARY}}/click').catch(()=>{});alert('bye');location.href='https://evil.example/away'",
    "click_replaces_document": "location.href='about:blank'",
}
CORPUS = ["clock_tamper", "egress_fetch_xhr", "loop_in_timer"]


@pytest.fixture(scope="module")
def ienv(loop, tmp_path_factory):
    run = loop.run_until_complete
    b = run(Browser(timeout_s=HOSTILE_TIMEOUT_S, page_budget_s=HOSTILE_BUDGET_S).start())
    root = tmp_path_factory.mktemp("hostile-interactive")
    ref = root / "reference.html"
    ref.write_text(COUNTER.replace("CLICK;", ""))
    run(record_interactive(b, ref, [Action.model_validate(a) for a in ACTIONS], root / "task",
                           task_id="hostile-inter", viewport=Viewport(width=480, height=320)))
    task = load_task(root / "task")
    config = score_config(root / "cache")
    baseline = run(score_page(task, ref.read_text(), browser=b, config=config))
    assert baseline["final"] == 1.0 and not baseline.get("error"), baseline

    class Env:
        pass

    e = Env()
    e.browser, e.run, e.task, e.config, e.baseline, e.reference = b, run, task, config, baseline, ref.read_text()
    yield e
    run(b.close())


@pytest.fixture(scope="module")
def canary():
    with Canary() as c:
        yield c


def judge(ienv, canary, name: str, html: str) -> dict:
    t0 = time.perf_counter()
    row = ienv.run(asyncio.wait_for(score_page(ienv.task, html, browser=ienv.browser, config=ienv.config), BOUND_S + 30))
    wall = time.perf_counter() - t0
    record_timing(f"interactive:{name}", wall)
    assert wall < BOUND_S, f"{name}: {wall:.1f} s"
    assert row["task_id"] == ienv.task.id
    normal = ienv.run(score_page(ienv.task, ienv.reference, browser=ienv.browser, config=ienv.config))
    assert {k: normal.get(k) for k in KEYS} == {k: ienv.baseline.get(k) for k in KEYS}, f"after {name}: {normal}"
    assert canary.hits == [], canary.hits
    return row


def recorded(row: dict) -> str:
    log = row.get("page_errors") or {}
    return " | ".join(str(x) for x in (row.get("error"), log.get("fatal"), log.get("page_errors"), log.get("navigations"),
                                         log.get("popups"), log.get("dialogs"), log.get("blocked_count")) if x)


@pytest.mark.parametrize("name", list(ON_CLICK))
def test_hostile_click_handlers(ienv, canary, name):
    html = COUNTER.replace("CLICK", ON_CLICK[name].replace("{{CANARY}}", canary.url))
    row = judge(ienv, canary, name, html)
    assert row["ifs"] == 0.0 and row.get("error"), row
    what = recorded(row)
    if name == "click_hang":
        assert "did not respond" in what, what
    elif name == "click_popups_and_leave":
        log = row["page_errors"]
        assert log["popups"] and log["navigations"] and (log.get("blocked_count") or 0) > 0, log
    else:
        assert "navigated away" in what, what


@pytest.mark.parametrize("stem", CORPUS)
def test_corpus_pages_on_an_interactive_task(ienv, canary, stem):
    row = judge(ienv, canary, stem, page_text(HOSTILE / f"{stem}.html", canary))
    assert recorded(row), row
