"""The interactive judge on real pages in real Chromium: oracle, broken variants, ladder.

Tasks are built here with the real recorder (`judge.record.record_interactive`) from small
reference pages; candidate pages are programmatic variants of them. Other judge tests
import the builders and the `tasks` fixture from this module.
"""
from __future__ import annotations

import pytest

from tests.helpers.judge_pages import (  # noqa: F401
    BLANK,
    DEAD_FOR_ACTION,
    GROCERY_ACTIONS,
    GROCERY_ICONS,
    GROCERY_JS,
    GROCERY_RELAYOUT,
    GROCERY_RENAMED,
    OFFLINE,
    SETTINGS,
    SETTINGS_ACTIONS,
    SETTINGS_SHIFT,
    STYLE,
    VP,
    grocery_page,
    judge,
    verdicts,
)


# ---- oracle ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["groceries", "settings"])
def test_reference_page_scores_full_marks(run, browser, tasks, name, tmp_path):
    task = tasks[name]
    r = judge(run, browser, task, (task.root / "reference.html").read_bytes(), tmp_path)
    assert r["exec"] and r["error"] is None
    assert r["ifs"] == 1.0 and r["ifs_steps"] == 1.0, verdicts(r)
    assert all(s["executed"] for s in r["steps"])
    # checkpoints are paired by action index: the reference's own states match each one
    labels = [c["label"] for c in r["vfs_components"]["checkpoints"]]
    assert labels == ["initial"] + [f"step_{i}" for i, a in enumerate(task.spec.actions) if a.visual_check]
    for c in r["vfs_components"]["checkpoints"]:
        assert c["reached"] and c["ocr"] > 0.97 and c["emb"] > 0.99, c
    assert r["vfs"] > 0.98 and r["final"] == pytest.approx(0.7 + 0.3 * r["vfs"])
    assert r["vfs_components"]["hfs_used"] is False and r["backends"]["judge_model"] is None
    assert r["grounding"]["without_model"] == 1.0 and r["grounding"]["model_calls"] == 0
    assert (tmp_path / "steps.jsonl").read_text().count("\n") == len(task.spec.actions)
    assert (tmp_path / "steps" / "step_00_before.png").exists() and (tmp_path / "initial.png").exists()


def test_settings_covers_each_action_kind(run, browser, tasks):
    r = judge(run, browser, tasks["settings"], (tasks["settings"].root / "reference.html").read_bytes())
    by = {s["type"]: s for s in r["steps"]}
    assert by["press"]["rung"] == "focused" and by["press"]["verdict_source"] == "rule:quoted-text"
    assert by["scroll"]["verdict_source"] == "rule:scroll-direction" and by["scroll"]["passed"]
    assert "window" not in by["scroll"]["verdict_reason"] and "+200 px down" in by["scroll"]["verdict_reason"]
    assert by["wait"]["rung"] == "none" and by["wait"]["passed"]
    assert by["hover"]["passed"] and by["dblclick"]["passed"] and by["select"]["passed"]


def test_target_moved_by_a_hover_layout_shift_is_re_aimed(run, browser, tasks):
    r = judge(run, browser, tasks["settings"], SETTINGS_SHIFT)
    assert r["ifs"] == 1.0, verdicts(r)


# ---- broken variants --------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_behaviour_removed_at_action_k_gives_prefix_score(run, browser, tasks, k):
    """The handler behind action k (1-based) removed -> ifs = (k-1)/n exactly; later steps
    still judged (ifs_steps counts them)."""
    task = tasks["groceries"]
    n = len(task.spec.actions)
    r = judge(run, browser, task, grocery_page(dead=frozenset({DEAD_FOR_ACTION[k - 1]})))
    assert r["ifs"] == pytest.approx((k - 1) / n), verdicts(r)
    assert not r["steps"][k - 1]["passed"]
    assert r["steps"][k - 1]["executed"] or k == 1   # grounded and performed: the page did not react
    assert all(s["executed"] for s in r["steps"][k:]), verdicts(r)     # the replay went on
    assert r["ifs_steps"] > r["ifs"] or k == n
    assert r["error"] is None   # not a page failure: the page just did not behave


def test_later_steps_reported_after_a_failure(run, browser, tasks):
    task = tasks["groceries"]
    r = judge(run, browser, task, grocery_page(dead=frozenset({"tab"})))
    assert [s["passed"] for s in r["steps"]] == [True, True, False, True, True]
    assert r["ifs"] == pytest.approx(2 / 5) and r["ifs_steps"] == pytest.approx(4 / 5)
    assert r["steps"][2]["verdict_source"] == "rule:quoted-text"


def test_renamed_and_restructured_dom_still_grounded(run, browser, tasks):
    r = judge(run, browser, tasks["groceries"], GROCERY_RENAMED)
    assert r["ifs"] == 1.0, verdicts(r)
    rungs = [s["rung"] for s in r["steps"]]
    assert rungs[1] == "hints:text" and rungs[3] == "description", rungs   # no <button>, no #stars


def test_different_dom_and_layout_same_behaviour_scores_full_ifs(run, browser, tasks):
    r = judge(run, browser, tasks["groceries"], GROCERY_RELAYOUT)
    assert r["ifs"] == 1.0, verdicts(r)
    assert r["vfs"] < 0.95     # it does not look the same


def test_visual_rung_finds_a_text_less_icon(run, browser, tasks):
    r = judge(run, browser, tasks["groceries"], GROCERY_ICONS)
    star = r["steps"][3]
    assert star["rung"] == "visual" and star["passed"], verdicts(r)
    assert r["ifs"] == 1.0


def test_page_that_does_nothing_scores_zero(run, browser, tasks):
    task = tasks["groceries"]
    r = judge(run, browser, task, BLANK)
    assert r["exec"] and r["ifs"] == 0.0 and r["ifs_steps"] == 0.0, verdicts(r)
    assert r["steps"][0]["rung"] is None and "no plausible element" in r["steps"][0]["error"]
    assert r["final"] == pytest.approx(0.3 * r["vfs"]) and r["vfs"] < 0.6


def test_static_copy_without_scripts_only_types_and_scrolls(run, browser, tasks):
    """Typing into a plain field and scrolling work without scripts; nothing else does."""
    r = judge(run, browser, tasks["groceries"], grocery_page(scripts=False))
    assert [s["passed"] for s in r["steps"]] == [True, False, False, False, True], verdicts(r)
    assert r["ifs"] == pytest.approx(1 / 5)


def test_no_code_is_scored_not_raised(run, browser, tasks):
    r = judge(run, browser, tasks["groceries"], b"")
    assert r["exec"] is False and r["ifs"] == 0 and r["vfs"] == 0 and r["final"] == 0
    assert all(s["verdict_source"] == "rule:not-reached" for s in r["steps"])


def test_scroll_passes_only_in_the_asked_direction(run, browser, tasks):
    task = tasks["groceries"].model_copy(deep=True)
    up = task.spec.actions[4].model_copy(update={"direction": "up", "description": "Scroll up the page"})
    task.spec.actions[4] = up
    r = judge(run, browser, task, grocery_page())
    assert r["steps"][4]["passed"] is False and r["steps"][4]["verdict_source"] == "rule:scroll-direction"
    assert r["steps"][4]["executed"] and "px up" in r["steps"][4]["verdict_reason"]
