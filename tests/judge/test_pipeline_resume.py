"""Kill `judge evaluate` with SIGKILL mid-run, re-run the same command: one row per task,
nothing lost, nothing judged twice, the torn line a killed writer leaves repaired.

`test_sigkill_at_random_points_loses_nothing` kills it several times at seeded random
points (the command's process group and Chromium's, so page workers, the metrics pool
and the browser all die at once) on a mixed animation + interactive suite; its assertion
messages carry the table of trials, kills, rows and results lost."""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

from judge.browser.sandbox import proc_alive, proc_descendants
from judge.runs import read_results
from tests.helpers.animation_suite import PAGES, make_suite
from tests.helpers.paths import ROOT

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


def test_a_resumed_run_never_mixes_machines(tmp_path, browser, run):
    """Rows a resumed run keeps were scored on another machine (here: another Chromium
    build, simulated through WEBJUDGE_NODE_FINGERPRINT, as the Ray refusal test does):
    refused before any write, naming results.jsonl, `node` and the task; `--rescore`
    re-scores those rows on this machine."""
    suite = make_suite(browser, run, tmp_path / "suite", {k: PAGES[k] for k in ("slide", "bars")})
    out = tmp_path / "run"
    env = {**os.environ, "WEBJUDGE_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    env.pop("WEBJUDGE_NODE_FINGERPRINT", None)
    cmd = [sys.executable, "-m", "judge.evaluate", str(suite), "--model", "reference", "--out", str(out),
           "--embedder", "classic", "--tracker", "opencv", "--no-report"]
    first = subprocess.run([*cmd, "--limit", "1"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    (row,), _ = read_results(out / "results.jsonl")
    assert row["task_id"] == "bars" and row["node"]["chromium"] == browser.version
    before = {f: (out / f).read_bytes() for f in ("results.jsonl", "run.json")}

    other = {**env, "WEBJUDGE_NODE_FINGERPRINT": json.dumps({"chromium": "0.0.0.0-other"})}
    refused = subprocess.run(cmd, cwd=tmp_path, env=other, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2, refused.stderr
    err = refused.stderr.strip().splitlines()
    assert len(err) == 1 and str(out / "results.jsonl") in err[0] and "`node`" in err[0], err
    assert "'0.0.0.0-other'" in err[0] and f"chromium {browser.version!r}" in err[0] and "bars" in err[0], err[0]
    assert "--rescore" in err[0]
    assert {f: (out / f).read_bytes() for f in before} == before   # nothing written

    again = subprocess.run([*cmd, "--rescore"], cwd=tmp_path, env=other, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "judged 2, already finished 0" in again.stdout, again.stdout
    rows, bad = read_results(out / "results.jsonl")
    latest = {r["task_id"]: r for r in rows}
    assert bad == 0 and len(rows) == 3 and sorted(latest) == ["bars", "slide"]
    assert {r["node"]["chromium"] for r in latest.values()} == {"0.0.0.0-other"}


# ---- several kills at random points -------------------------------------------------------
KILL_SEED = 2
KILLS = 6
INTERACTIVE = [ROOT / "tasks" / "interactive" / name for name in ("faq-accordion", "store-hover-menu")]  # shipped:
# 5 and 6 actions, ~6 s each to judge (the judge's own checkpoints resume a judgment cut by a kill)


def kill_everything(proc: subprocess.Popen) -> list[int]:
    """SIGKILL the command's process group and the group of every process under it
    (Playwright starts Chromium in a group of its own); returns the pids still alive 10 s
    later (none expected)."""
    tree = proc_descendants(proc.pid)
    groups = {proc.pid}
    for pid in tree:
        try:
            groups.add(os.getpgid(pid))
        except ProcessLookupError:
            pass
    groups.discard(os.getpgid(0))  # never this test's own group
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(30)
    deadline = time.monotonic() + 10
    while [p for p in tree if proc_alive(p)] and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in tree if proc_alive(p)]


def complete_lines(path) -> bytes:
    """results.jsonl up to its last newline (a torn last line excluded)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return b""
    return data[:data.rfind(b"\n") + 1]


def test_sigkill_at_random_points_loses_nothing(tmp_path, browser, run):
    suite = make_suite(browser, run, tmp_path / "suite", {**PAGES, **MORE})
    for task in INTERACTIVE:
        shutil.copytree(task, suite / task.name)
    ids = sorted([*PAGES, *MORE, *(task.name for task in INTERACTIVE)])
    n = len(ids)
    out = tmp_path / "runs" / "ref"
    results = out / "results.jsonl"
    env = {**os.environ, "WEBJUDGE_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "judge.evaluate", str(suite), "--model", "reference", "--out", str(out),
           "--workers", "2", "--embedder", "classic", "--tracker", "opencv", "--no-report"]
    rng = random.Random(KILL_SEED)
    table = []  # (trial, rows before, waited for rows, extra delay s, killed at s, rows after, results lost)
    kept = b""  # the complete lines so far: every later state must start with them, byte for byte
    done: set[str] = set()  # tasks with a row so far

    def report() -> str:
        head = "trial rows_before wait_rows delay_s killed_at_s rows_after lost"
        return "\n".join([head, *(" ".join(map(str, r)) for r in table)])

    for trial in range(1, KILLS + 1):
        before = len(read_results(results)[0])
        if before == n:
            break
        # kill at a random time after the next row or two (mid-task, mid-write, mid-judgment), or during
        # start-up; never wait for the last two rows, so that the kills land before the run ends
        target, delay = min(n - 2, before + rng.choice((0, 1, 1, 1, 2))), round(rng.uniform(0.0, 2.0), 2)
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while len(read_results(results)[0]) < target and proc.poll() is None:
            assert time.monotonic() - t0 < 180, f"no new row within 180 s\n{report()}"
            time.sleep(0.02)
        end = time.monotonic() + delay
        while time.monotonic() < end and proc.poll() is None:
            time.sleep(0.02)
        killed_at = round(time.monotonic() - t0, 2) if proc.poll() is None else None
        if killed_at is None:  # it finished first
            proc.wait(60)
        else:
            survivors = kill_everything(proc)
            assert survivors == [], f"processes survive the kill: {survivors}\n{report()}"

        rows, bad = read_results(results)
        now = complete_lines(results)
        task_ids = [r["task_id"] for r in rows]
        table.append((trial, before, target, delay, killed_at, len(rows), len(done - set(task_ids))))
        assert bad == 0, f"unreadable line inside results.jsonl after trial {trial}\n{report()}"
        assert done <= set(task_ids) and now.startswith(kept), f"rows written before changed or were lost\n{report()}"
        assert len(task_ids) == len(set(task_ids)), f"a task judged twice: {task_ids}\n{report()}"
        assert all(r["judge_error"] is None for r in rows), report()
        if out.joinpath("run.json").exists():
            json.loads(out.joinpath("run.json").read_text())  # written atomically: always whole
        kept, done = now, set(task_ids)
        if trial == 2:  # what a writer killed inside write() leaves: readers skip it, the next run cuts it
            with open(results, "ab") as f:
                f.write(b'{"task_id": "torn", "family": "anim')
            assert read_results(results) == (rows, 0)

    kills = sum(1 for r in table if r[4] is not None)
    before = len(read_results(results)[0])
    final = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, f"{final.stderr[-3000:]}\n{report()}"
    assert f"judged {n - before}, already finished {before}" in final.stdout, final.stdout

    rows, bad = read_results(results)
    task_ids = sorted(r["task_id"] for r in rows)
    lost = sorted(set(ids) - set(task_ids))  # every task must have its row by now
    table.append(("final", before, None, None, None, len(rows), len(lost)))
    assert bad == 0 and results.read_bytes().endswith(b"\n") and results.read_bytes().startswith(kept)
    assert lost == [], f"results lost: {lost}\n{report()}"
    assert task_ids == ids, f"not exactly one row per task: {task_ids}\n{report()}"
    assert all(r["judge_error"] is None and r["error"] is None for r in rows), report()
    assert kills >= 3, f"only {kills} kills landed (the run finished first)\n{report()}"

    meta = json.loads((out / "run.json").read_text())
    sessions = {h["session"] for h in meta["history"]}
    assert {r["session"] for r in rows} <= sessions, report()
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["tasks"], summary["scored"], summary["judge_errors"], summary["missing"]) == (n, n, 0, 0)
    assert (summary["judged_this_session"], summary["skipped_finished"]) == (n - before, before)

    again = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and f"judged 0, already finished {n}" in again.stdout, again.stdout
    assert results.read_bytes() == complete_lines(results) and len(read_results(results)[0]) == n
    print(f"\nSIGKILL trials ({kills} kills, {n} tasks, seed {KILL_SEED}):\n{report()}")
