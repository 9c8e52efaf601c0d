"""The library API in `judge/__init__.py`, used as a library user would: load the shipped
tasks, score a page, run an evaluation and read it back -- the same rows the CLI writes."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import judge
from judge.errors import InputError
from judge.tasks import TaskError

ROOT = Path(__file__).resolve().parents[2]
TASK = ROOT / "tasks" / "interactive" / "faq-accordion"


def test_importing_judge_loads_nothing_heavy():
    import subprocess
    import sys

    code = "import sys, judge; print(sorted(m for m in ('judge.pipeline', 'agents.judge_graph', 'torch', 'playwright') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_load_tasks_and_a_bad_folder():
    tasks = judge.load_tasks(ROOT / "tasks")
    assert {"faq-accordion", "slide-in"} <= {t.id for t in tasks}
    with pytest.raises(TaskError) as e:
        judge.load_task(ROOT / "tasks" / "no-such-task")
    assert isinstance(e.value, InputError) and e.value.exit_code == 2


@pytest.mark.browser
def test_score_evaluate_and_read_run_agree(tmp_path):
    task = judge.load_task(TASK)
    row = judge.score_one(task, (TASK / "reference.html").read_bytes(), embedder="classic")
    assert row["ifs"] == 1.0 and row["backends"]["embedder"].startswith("classic")
    shutil.copytree(TASK, tmp_path / "tasks" / "faq-accordion")
    summary = judge.run_evaluation(tmp_path / "tasks", model="reference", out=tmp_path / "run", embedder="classic", no_report=True)
    assert summary["scored"] == 1 and summary["overall"]["ifs"] == 1.0
    run = judge.read_run(tmp_path / "run")
    assert run["latest"]["faq-accordion"]["ifs"] == row["ifs"] and run["model"] == "reference"
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["scored"] == 1
    with pytest.raises(InputError):       # the command's error is raised, not printed
        judge.run_evaluation(tmp_path / "tasks", model="nosuch/model", out=tmp_path / "other")
