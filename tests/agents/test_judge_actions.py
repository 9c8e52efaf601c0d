"""More action kinds and failure modes: description-only tasks (IWR-Bench style, no hints),
drag and drop, and page failures (navigation away, a hung script) that are the page's
fault: scored, never raised."""
from __future__ import annotations

import pytest

from agents.judge_graph import judge_page
from judge.browser.runtime import Browser
from judge.tasks import descriptions_only
from tests.helpers.judge_pages import OFFLINE, VP, grocery_page, verdicts
from tests.helpers.tasks import record_test_task

BOARD = """<!doctype html><html><head><style>body{font:16px sans-serif;margin:20px;display:flex;gap:40px}
.col{width:200px;min-height:300px;background:#eef;padding:10px} .card{background:#fff;border:1px solid #99a;padding:8px;margin:6px 0}
</style></head><body>
<div class="col" id="todo"><h3>To do</h3><div class="card" id="tea">Tea</div><div class="card">Milk</div></div>
<div class="col" id="done"><h3>Done</h3></div>
<script>
let drag = null;
document.querySelectorAll('.card').forEach(c => c.addEventListener('pointerdown', () => { drag = c; }));
document.addEventListener('pointerup', (e) => { if (!drag) return;
  const col = document.elementsFromPoint(e.clientX, e.clientY).find(x => x.classList.contains('col'));
  if (col) col.appendChild(drag); drag = null; });
</script></body></html>"""
BOARD_ACTIONS = [{"type": "drag", "description": "Drag the 'Tea' card to the 'Done' column",
                  "target": {"text": "Tea", "selector": "#tea"}, "to_target": {"text": "Done", "selector": "#done"},
                  "assertion": 'The "Done" column lists "Tea"', "visual_check": True}]


@pytest.fixture(scope="module")
def board(browser, loop, tmp_path_factory):
    return record_test_task(loop.run_until_complete, browser, tmp_path_factory.mktemp("board"), BOARD,
                            BOARD_ACTIONS, task_id="board", viewport=VP)


without_hints = descriptions_only     # the task as IWR-Bench would give it


def test_description_only_task(run, browser, tasks):  # noqa: F811
    r = run(judge_page(without_hints(tasks["groceries"]), grocery_page(), browser=browser, config=OFFLINE))
    assert r["ifs"] == 1.0, verdicts(r)
    assert [s["rung"] for s in r["steps"]] == ["description"] * 4 + ["window"]


def test_description_only_broken_page(run, browser, tasks):  # noqa: F811
    r = run(judge_page(without_hints(tasks["groceries"]), grocery_page(dead=frozenset({"star"})), browser=browser,
                       config=OFFLINE))
    assert r["ifs"] == pytest.approx(3 / 5) and r["ifs_steps"] == pytest.approx(4 / 5), verdicts(r)


@pytest.mark.parametrize("hints", [True, False])
def test_drag_and_drop(run, browser, board, hints):
    task = board if hints else without_hints(board)
    r = run(judge_page(task, BOARD, browser=browser, config=OFFLINE))
    assert r["ifs"] == 1.0 and r["steps"][0]["verdict_source"] == "rule:quoted-text", verdicts(r)
    broken = BOARD.replace("if (col) col.appendChild(drag);", "")
    r = run(judge_page(task, broken, browser=browser, config=OFFLINE))
    assert r["ifs"] == 0.0 and r["steps"][0]["executed"] and r["steps"][0]["verdict_source"] == "rule:unchanged"


def test_navigation_away_is_a_scored_page_failure(run, browser, tasks):  # noqa: F811
    task = tasks["groceries"]
    page = grocery_page().replace("document.getElementById('panel').textContent=txt;",
                                  "location.href='https://evil.example/phish';")
    r = run(judge_page(task, page, browser=browser, config=OFFLINE))
    assert r["error"].startswith("step 2 (observe): the page navigated away")
    assert [s["passed"] for s in r["steps"]] == [True, True, False, False, False]
    assert [s["verdict_source"] for s in r["steps"][3:]] == ["rule:not-reached"] * 2
    assert r["ifs"] == pytest.approx(2 / 5) and r["ifs_steps"] == pytest.approx(2 / 5)
    cps = {c["label"]: c for c in r["vfs_components"]["checkpoints"]}
    assert cps["initial"]["reached"] and not cps["step_2"]["reached"] and not cps["step_4"]["reached"]
    assert cps["step_4"]["ocr"] == 0 and cps["step_4"]["emb"] == 0 and cps["step_4"]["vfs"] == 0
    assert r["vfs"] == pytest.approx(cps["initial"]["vfs"] / 3)
    assert r["page_errors"]["navigations"]


def test_hung_page_is_a_scored_page_failure(run, tasks):  # noqa: F811
    b = run(Browser(timeout_s=3).start())
    try:
        page = grocery_page().replace("document.getElementById('panel').textContent=txt;", "while(true){}")
        r = run(judge_page(tasks["groceries"], page, browser=b, config=OFFLINE))
    finally:
        run(b.close())
    assert r["error"] and "step 2" in r["error"] and "did not respond" in r["error"], r["error"]
    assert [s["passed"] for s in r["steps"]] == [True, True, False, False, False]
    assert r["ifs"] == pytest.approx(2 / 5) and r["exec"]
