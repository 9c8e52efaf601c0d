"""Oracle on the shipped interactive tasks: each recorded task's own reference page must
score IFS = 1 offline (a task whose reference fails its own assertions is a broken task,
or the judge is wrong -- either way a bug to fix before the task ships)."""
from __future__ import annotations

from pathlib import Path

import pytest

from agents.judge_graph import judge_page
from judge.score import ScoreConfig
from judge.tasks import load_task

SHIPPED = sorted(p.parent for p in (Path(__file__).resolve().parents[2] / "tasks" / "interactive").glob("*/task.json"))


@pytest.mark.skipif(not SHIPPED, reason="no recorded interactive tasks in tasks/interactive")
@pytest.mark.parametrize("folder", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_reference_scores_full_ifs(run, browser, folder):
    task = load_task(folder)
    r = run(judge_page(task, task.reference_page_path.read_bytes(), browser=browser,
                       config=ScoreConfig(embedder="classic")))
    failed = [(s["index"], s["description"], s["verdict_source"], s["verdict_reason"], s["error"])
              for s in r["steps"] if not s["passed"]]
    assert r["ifs"] == 1.0, failed
    assert r["vfs"] > 0.95 and r["grounding"]["without_model"] == 1.0
