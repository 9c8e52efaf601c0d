"""Kill `judge evaluate` with SIGKILL mid-run, re-run the same command: one row per task,
nothing lost, nothing judged twice, the torn line a killed writer leaves repaired."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from judge.runs import read_results
from tests.conftest import ROOT
from tests.test_pipeline import PAGES, make_suite

MORE = {
    "pulse": """<!doctype html><style>body{margin:0;background:#fff}.d{position:absolute;left:120px;top:80px;
      width:80px;height:80px;border-radius:50%;background:#e80;animation:p .5s ease-in-out infinite alternate}
      @keyframes p{to{transform:scale(1.6) translateY(20px)}}</style><div class=d></div>""",
    "drop": """<!doctype html><style>body{margin:0;background:#eef}.s{position:absolute;left:140px;top:0;width:40px;
      height:40px;background:#333;animation:d 1s cubic-bezier(.5,0,1,1) both}
      @keyframes d{to{transform:translateY(190px) rotate(90deg)}}</style><div class=s></div>""",
}


def _complete_rows(path):
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    return data.count(b"\n")


def test_sigkill_mid_run_then_rerun_judges_only_the_missing_tasks(tmp_path, browser, run):
    suite = make_suite(browser, run, tmp_path / "suite", {**PAGES, **MORE})
    n = len(PAGES) + len(MORE)
    out = tmp_path / "runs" / "ref"
    env = {**os.environ, "WEBJUDGE_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "judge.evaluate", str(suite), "--model", "reference", "--out", str(out),
           "--embedder", "classic", "--tracker", "opencv", "--no-report"]
    first = subprocess.Popen(cmd, cwd=tmp_path, env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = out / "results.jsonl"
    deadline = time.monotonic() + 180
    while _complete_rows(results) < 1:
        assert first.poll() is None, "judge evaluate ended before it could be killed"
        assert time.monotonic() < deadline, "no result row within 180 s"
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # the whole group: Python, Playwright's driver, Chromium
    first.wait(30)
    killed_rows, bad = read_results(results)
    assert 1 <= len(killed_rows) < n and bad == 0
    with open(results, "ab") as f:  # what a writer killed inside write() leaves behind
        f.write(b'{"task_id": "torn", "family": "anim')

    second = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    assert f"judged {n - len(killed_rows)}, already finished {len(killed_rows)}" in second.stdout
    assert "removed a torn last line" in second.stdout

    rows, bad = read_results(results)
    assert bad == 0 and results.read_bytes().endswith(b"\n")
    assert len(rows) == n and sorted(r["task_id"] for r in rows) == sorted([*PAGES, *MORE])
    first_ids = {r["task_id"] for r in killed_rows}
    first_session = {r["session"] for r in killed_rows}
    assert len(first_session) == 1
    resumed = [r for r in rows if r["session"] not in first_session]
    assert {r["task_id"] for r in resumed} == set(rows_ids := {r["task_id"] for r in rows}) - first_ids
    assert rows_ids == set(PAGES) | set(MORE)
    assert all(r["judge_error"] is None and r["exec"] for r in rows)

    meta = json.loads((out / "run.json").read_text())
    assert [h["session"] for h in meta["history"]][0] in first_session and len(meta["history"]) == 2
    assert meta["history"][1]["judged"] == n - len(killed_rows)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scored"] == n and summary["judge_errors"] == 0 and summary["missing"] == 0

    third = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0 and f"judged 0, already finished {n}" in third.stdout
    assert len(read_results(results)[0]) == n
