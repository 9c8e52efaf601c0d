"""`judge evaluate --executor ray` on a real Ray cluster of three nodes on this machine
(`ray.cluster_utils.Cluster`: a head without CPUs and two 1-CPU worker nodes, each with
its own raylet and worker processes), started once for the module: rows equal a local
run's (joined by address and through Ray Client, `ray://`), a node killed mid-run and the
driver SIGKILLed lose and duplicate nothing, Ctrl-C ends a run cleanly (exit 130), a task
over the time limit is cancelled as a judge error, and a node whose Chromium differs (its
fingerprint set through `WEBJUDGE_NODE_FINGERPRINT` when it starts) is refused.

The suite: two animation clips (320x240, 1 s) recorded here and the shipped
`tasks/interactive/store-hover-menu`. No mocks: real Ray, Chromium and metrics."""
from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import ray
from ray.cluster_utils import Cluster

from agents.cache import ResponseCache
from judge.executors import NodeMismatch
from judge.pipeline import EvalOptions, evaluate
from judge.progress import Progress
from judge.runs import RunDir, read_results
from judge.score import ScoreConfig
from judge.tasks import TaskSpec, Viewport, load_tasks, save_spec
from judge.scorers import get_scorer

ROOT = Path(__file__).resolve().parents[2]
SIZE = Viewport(width=320, height=240)
PAGES = {
    "slide": """<!doctype html><style>body{margin:0;background:#fff}
      .b{position:absolute;left:20px;top:80px;width:60px;height:60px;background:#d33;border-radius:8px;
      animation:mv 1s ease-in-out infinite alternate}
      @keyframes mv{to{transform:translateX(200px) rotate(180deg)}}</style><div class=b></div>""",
    "bars": """<!doctype html><style>body{margin:0;background:#fff;font-family:DejaVu Sans}
      .r{position:absolute;bottom:30px;width:50px;background:#36c;animation:g .9s ease-out both}
      @keyframes g{from{height:0;background:#9cf}to{height:150px;background:#137}}</style>
      <div class=r style="left:40px"></div><div class=r style="left:130px;animation-delay:.2s"></div>
      <div class=r style="left:220px;animation-delay:.4s"></div><p style="margin:8px">Bars</p>""",
}
SHIPPED = "store-hover-menu"
TASK_IDS = sorted([*PAGES, SHIPPED])
# what may differ between two runs of the same page: when and how long, where, the session
RUN_FIELDS = {"session", "wall_s", "finished", "node", "attempts"}
MB = 1 << 20


@contextmanager
def _env(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def cluster(cache):
    """Head (no CPUs: actors go to the workers) + two 1-CPU nodes; node failures are noticed
    within ~2 s (health checks every 0.5 s). The head serves Ray client with gRPC's fork
    support off, as the README tells users to: with it on, the per-client server Ray forks
    sometimes dies at start (10 of 80 connections under load, benchmarks/ray_client_connect.py)."""
    client_port = _free_port()
    with _env(WEBJUDGE_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT), GRPC_ENABLE_FORK_SUPPORT="false"):
        c = Cluster(initialize_head=True, head_node_args={
            "num_cpus": 0, "include_dashboard": False, "object_store_memory": 80 * MB,
            "ray_client_server_port": client_port,     # for --ray-address ray://HOST:PORT
            "_system_config": {"health_check_period_ms": 500, "health_check_failure_threshold": 3,
                               "health_check_initial_delay_ms": 0}})
        for _ in range(2):
            c.add_node(num_cpus=1, object_store_memory=80 * MB)
        c.wait_for_nodes()
    c.client_address = f"ray://127.0.0.1:{client_port}"
    yield c
    if ray.is_initialized():
        ray.shutdown()
    c.shutdown()


@pytest.fixture(scope="module")
def suite(tmp_path_factory, browser, loop):
    from judge.record import render_page

    root = tmp_path_factory.mktemp("suite")
    for task_id, html in PAGES.items():
        folder = root / task_id
        folder.mkdir()
        (folder / "reference.html").write_text(html)
        res = loop.run_until_complete(render_page(browser, html, viewport=SIZE, fps=30, n_frames=30,
                                                  video_path=folder / "video.mp4", keep_frames=False))
        assert res.fatal is None
        save_spec(TaskSpec(id=task_id, family="animation", viewport=SIZE, fps=30, duration_s=1.0, video="video.mp4",
                           reference_page="reference.html"), folder)
    shutil.copytree(ROOT / "tasks" / "interactive" / SHIPPED, root / SHIPPED)
    return root


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    return tmp_path_factory.mktemp("features")


def _opts(features, **kw):
    kw.setdefault("score", ScoreConfig(embedder="classic", tracker="opencv", cache_dir=features))
    return EvalOptions(model="reference", command=["test"], **kw)


def _ray_opts(features, cluster, **kw):
    return _opts(features, executor="ray", ray_address=cluster.address, **kw)


def _evaluate(run, suite, out, opts, **kw):
    kw.setdefault("progress", None)
    return run(evaluate(load_tasks([suite]), RunDir(out), opts, cache=ResponseCache(out.parent / "llm"), **kw))


def _rows(out):
    rows, bad = read_results(Path(out) / "results.jsonl")
    assert bad == 0
    return rows


@pytest.fixture(scope="module")
def local_run(suite, features, tmp_path_factory, browser, loop):
    out = tmp_path_factory.mktemp("local") / "reference"
    _evaluate(loop.run_until_complete, suite, out, _opts(features), browser=browser)
    return out


def _untimed(value):
    """`value` without measured durations (`wall_s`, `*_seconds`) at any depth."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k != "wall_s" and not k.endswith("seconds")}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _comparable(row: dict) -> dict:
    return _untimed({k: v for k, v in row.items() if k not in RUN_FIELDS})


def test_a_ray_run_gives_the_rows_of_a_local_run(suite, local_run, cluster, features, tmp_path, run):
    out = tmp_path / "ray"
    lines = io.StringIO()
    res = _evaluate(run, suite, out, _ray_opts(features, cluster, workers=2), progress=Progress(3, lines, tty=False))
    assert sorted(res.judged) == TASK_IDS and res.executor == "ray"
    local, remote = {r["task_id"]: r for r in _rows(local_run)}, {r["task_id"]: r for r in _rows(out)}
    assert sorted(remote) == TASK_IDS and len(_rows(out)) == 3
    for task_id in TASK_IDS:
        a, b = local[task_id], remote[task_id]
        assert b["judge_error"] is None and b["attempts"] == 1
        for f, _, _ in get_scorer(a["family"]).fields:   # the scores, field by field
            assert b[f] == a[f], (task_id, f)
        assert _comparable(b) == _comparable(a), task_id
        assert b["node"]["id"] and b["node"]["chromium"] == a["node"]["chromium"] \
            and b["node"]["fonts"] == a["node"]["fonts"] and a["node"]["id"] is None
    # both worker nodes were used, and the progress lines and the result name them
    used = {r["node"]["id"] for r in remote.values()}
    workers = {n.node_id for n in cluster.worker_nodes}
    assert used == workers and {n["id"] for n in res.nodes} == workers and sum(n["tasks"] for n in res.nodes) == 3
    assert all(f"/{node[:8]}" in lines.getvalue() for node in used)
    # artifacts came back and were written by the driver
    art = out / "artifacts"
    assert (art / "slide" / "filmstrip.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (art / SHIPPED / "steps.jsonl").is_file() and list((art / SHIPPED / "steps").glob("step_*_after.png"))
    meta = json.loads((out / "run.json").read_text())
    assert meta["config"]["executor"] == {"name": "ray", "address": cluster.address, "actors": 2}
    assert meta["versions"]["chromium"] == remote[SHIPPED]["node"]["chromium"] and meta["history"][-1]["nodes"]
    assert meta["score_key"] == json.loads((local_run / "run.json").read_text())["score_key"]
    again = _evaluate(run, suite, out, _ray_opts(features, cluster, workers=2))
    assert again.judged == [] and sorted(again.skipped) == TASK_IDS


def test_a_ray_client_run_gives_the_rows_of_a_local_run(suite, local_run, cluster, features, tmp_path, run):
    """`--ray-address ray://HOST:PORT`: the driver joins through the head's Ray Client server
    (as from a laptop outside the cluster) and gets the local run's rows."""
    address = cluster.client_address
    out = tmp_path / "client"
    res = _evaluate(run, suite, out, _opts(features, executor="ray", ray_address=address, workers=2, limit=2))
    animations = sorted(PAGES)
    assert sorted(res.judged) == animations and res.executor == "ray"
    local, remote = {r["task_id"]: r for r in _rows(local_run)}, {r["task_id"]: r for r in _rows(out)}
    assert sorted(remote) == animations
    for task_id in animations:
        assert remote[task_id]["judge_error"] is None and _comparable(remote[task_id]) == _comparable(local[task_id])
        assert remote[task_id]["node"]["id"] in {n.node_id for n in cluster.worker_nodes}
    assert (out / "artifacts" / "slide" / "filmstrip.png").is_file()
    assert json.loads((out / "run.json").read_text())["config"]["executor"]["address"] == address
    assert not ray.is_initialized()     # the client connection was closed with the run


def test_a_task_over_the_time_limit_is_cancelled_as_a_judge_error(suite, cluster, features, tmp_path, run):
    out = tmp_path / "slow"
    opts = _ray_opts(features, cluster, workers=1, task_timeout_s=0.3, limit=1)
    res = _evaluate(run, suite, out, opts)
    [row] = _rows(out)
    assert res.judged == ["bars"] and row["attempts"] == 2 and row["error"] is None
    assert row["judge_error"].startswith("scoring took longer than 0.3 s (cancelled on node ")
    assert row["exec"] is None and row["appearance"] is None          # not scored, not the page's fault
    again = _evaluate(run, suite, out, _ray_opts(features, cluster, workers=1, limit=1))   # retried next run
    assert again.judged == ["bars"] and _rows(out)[-1]["judge_error"] is None and _rows(out)[-1]["exec"] is True


def test_ray_missing_is_a_usage_error(suite, tmp_path, monkeypatch, capsys):
    from judge.evaluate import main

    monkeypatch.setitem(sys.modules, "ray", None)   # `import ray` raises ImportError, as without the extra
    assert main([str(suite), "--model", "reference", "--out", str(tmp_path / "r"), "--executor", "ray"]) == 2
    assert "Ray is not installed: pip install 'webjudge[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def _complete_rows(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)   # a background shell may hand it down ignored


def _driver(suite: Path, out: Path, cluster, cache: Path, model: str = "reference"):
    """(env, argv) of `judge evaluate SUITE --executor ray` on the module's cluster, as its own process."""
    env = {**os.environ, "WEBJUDGE_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    return env, [sys.executable, "-m", "judge.evaluate", str(suite), "--model", model, "--out", str(out), "--embedder", "classic", "--tracker", "opencv", "--no-report",
                 "--executor", "ray", "--ray-address", cluster.address, "--workers", "2"]


# pages whose load keeps the CPU busy for a second or more of real time (a plain loop: the
# virtual clock does not slow it): the Ctrl-C below is sent while every task is still scoring
SLOW_PAGE = "<!doctype html><body><p>slow</p><script>let x = 0; for (let i = 0; i < 2e9; i++) x += i;</script></body>"


def test_ctrl_c_ends_a_run_cleanly(suite, cluster, cache, tmp_path):
    out, pages = tmp_path / "interrupted", tmp_path / "slow-pages"
    for tid in TASK_IDS:
        (pages / tid).mkdir(parents=True)
        (pages / tid / "index.html").write_text(SLOW_PAGE)
    env, cmd = _driver(suite, out, cluster, cache, model=f"replay:{pages}")
    # Ctrl-C once the actors are up and scoring (run.json is written after they started)
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, start_new_session=True, preexec_fn=_default_sigint,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "run.json").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the actors did not start"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130 and "judge: interrupted" in err, err[-2000:]
    assert _complete_rows(out / "results.jsonl") < 3, "the Ctrl-C came too late to interrupt anything"
    assert json.loads((out / "run.json").read_text())["history"][-1]["finished"]   # closed cleanly


def test_the_driver_sigkilled_mid_run_resumes(suite, cluster, cache, tmp_path):
    out = tmp_path / "killed"
    env, cmd = _driver(suite, out, cluster, cache)
    first = subprocess.Popen(cmd, cwd=tmp_path, env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _complete_rows(out / "results.jsonl") < 1:
        assert first.poll() is None, "judge evaluate ended before it could be killed"
        assert time.monotonic() < deadline, "no row within 120 s"
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(30)
    killed = _rows(out)
    assert 1 <= len(killed) < 3
    second = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert second.returncode == 0, second.stderr[-2000:]
    assert f"judged {3 - len(killed)}, already finished {len(killed)}" in second.stdout
    assert "executor: ray" in second.stdout
    rows = _rows(out)
    assert sorted(r["task_id"] for r in rows) == TASK_IDS                 # one row each: none lost, none twice
    assert rows[:len(killed)] == killed and all(r["judge_error"] is None for r in rows)


def test_a_node_with_another_chromium_is_refused(suite, cluster, cache, features, tmp_path, run):
    with _env(WEBJUDGE_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT),
              WEBJUDGE_NODE_FINGERPRINT=json.dumps({"chromium": "999.0.0.1"})):
        odd = cluster.add_node(num_cpus=1, object_store_memory=80 * MB)
    try:
        cluster.wait_for_nodes()
        out = tmp_path / "mixed"
        with pytest.raises(NodeMismatch) as e:
            _evaluate(run, suite, out, _ray_opts(features, cluster, workers=3))
        msg = str(e.value)
        assert f"Ray node {odd.node_id[:8]}" in msg and "'999.0.0.1'" in msg and "chromium" in msg
        assert _rows(out) == []                                          # refused before any row
    finally:
        cluster.remove_node(odd)


def _wider_suite(suite: Path, root: Path) -> list[str]:
    """The module's suite plus a second copy of each clip (`bars-2`, `slide-2`): five tasks
    for two actors, so both are still busy after the first row and the node killed then
    always has a task in flight. (With three, the two clips end together and the node
    killed could be the one left idle.)"""
    shutil.copytree(suite, root)
    for task_id in PAGES:
        copy = root / f"{task_id}-2"
        shutil.copytree(root / task_id, copy)
        spec = json.loads((copy / "task.json").read_text())
        (copy / "task.json").write_text(json.dumps({**spec, "id": f"{task_id}-2"}))
    return sorted([*TASK_IDS, *(f"{t}-2" for t in PAGES)])


def test_a_node_killed_mid_run_loses_and_duplicates_nothing(suite, cluster, cache, features, tmp_path, run, monkeypatch):
    # one task per actor here, so that after the first row both actors are busy and the node killed
    # has a task in flight (with two per actor the next task may sit on the other node)
    monkeypatch.setattr("judge.executors.ray.PER_ACTOR", 1)
    task_ids = _wider_suite(suite, tmp_path / "suite")
    suite = tmp_path / "suite"
    out = tmp_path / "node-killed"
    results = out / "results.jsonl"
    killed: list[str] = []

    async def kill_a_busy_node():
        while _complete_rows(results) < 1:
            await asyncio.sleep(0.02)
        # five tasks, two actors: after the first row both are busy, so either node dies mid-task;
        # not the node whose raylet this driver joined (all share one IP here): that would kill the driver
        driver = ray.get_runtime_context().get_node_id()
        node = next(n for n in cluster.worker_nodes if n.node_id != driver)
        cluster.remove_node(node, allow_graceful=False)   # SIGKILL of its raylet and workers
        killed.append(node.node_id)

    async def both():
        opts = _ray_opts(features, cluster, workers=2)
        killer = asyncio.ensure_future(kill_a_busy_node())
        try:
            return await evaluate(load_tasks([suite]), RunDir(out), opts, cache=ResponseCache(tmp_path / "llm"),
                                  progress=None)
        finally:
            killer.cancel()

    try:
        res = run(both())
        assert killed, "the run ended before a node could be killed"
        rows = _rows(out)
        assert sorted(r["task_id"] for r in rows) == task_ids and sorted(res.judged) == task_ids
        assert all(r["judge_error"] is None for r in rows)                # retried, never a page failure
        retried = [r for r in rows if r["attempts"] > 1]
        assert retried and all(r["node"]["id"] != killed[0] for r in retried), \
            [(r["task_id"], r["attempts"], r["node"]["id"][:8]) for r in rows]
        again = _evaluate(run, suite, out, _ray_opts(features, cluster, workers=2))
        assert again.judged == [] and sorted(again.skipped) == task_ids
    finally:
        with _env(WEBJUDGE_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT)):   # the module's cluster as it was
            if len(cluster.worker_nodes) < 2:
                cluster.add_node(num_cpus=1, object_store_memory=80 * MB)
