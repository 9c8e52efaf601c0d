"""The typed core (`judge.records`), the scorer registry (`judge.scorers`) and the scoring
context (`judge.context`), without a browser."""
from __future__ import annotations

import asyncio
import json
import os
import typing

import pytest

from judge.context import ScoringContext
from judge.records import (
    RECORD_VERSION,
    Provenance,
    RowError,
    ScoreConfig,
    TaskResult,
    dump_meta,
    dump_row,
    load_meta,
    load_row,
)
from judge.runs import RunDir, RunError, read_results
from judge.scorers import FAMILIES, UnknownFamily, get_scorer, task_score
from judge.summaries import COLUMNS, HEADLINE
from judge.tasks import TaskSpec


def test_a_row_is_validated_and_versioned_when_written_and_read(tmp_path):
    row = {"task_id": "t", "family": "animation", "exec": True, "appearance": 0.5, "error_kind": None,
           "provenance": {"scorer": "a", "task": "b", "prompt": None}}
    line = dump_row(row)
    assert json.loads(line)["version"] == RECORD_VERSION and "version" not in row   # the caller's dict untouched
    assert load_row(line) == {**row, "version": RECORD_VERSION}
    for bad in ({**row, "error_kind": "oops"}, {**row, "attempts": "many"}, {**row, "provenance": {"scorer": "a"}},
                {**row, "steps": [{"passed": True}]}):
        with pytest.raises(RowError):
            dump_row(bad)
    path = tmp_path / "results.jsonl"
    path.write_bytes(line + json.dumps({**row, "error_kind": "oops"}).encode() + b"\n" + b'{"no": "task"}\n')
    rows, bad = read_results(path)
    assert [r["task_id"] for r in rows] == ["t"] and bad == 2        # invalid rows are skipped and counted


def test_rows_written_before_versions_still_read():
    assert load_row(b'{"task_id": "old", "family": "interactive", "ifs": 1.0}')["task_id"] == "old"
    assert TaskResult.model_validate({"task_id": "old"}).version == 0


def test_run_json_is_validated(tmp_path):
    text = dump_meta({"name": "r", "model": "reference", "tasks": ["a"], "history": []})
    assert json.loads(text)["version"] == RECORD_VERSION and load_meta(text)["tasks"] == ["a"]
    with pytest.raises(RowError, match="tasks"):
        load_meta(json.dumps({"tasks": "a"}))
    (tmp_path / "run.json").write_text('{"tasks": 3}')
    with pytest.raises(RunError, match="run.json.*tasks"):
        RunDir(tmp_path).read_meta()


def test_provenance_names_the_parts_that_differ():
    a = Provenance(scorer="s", task="t", prompt=None)
    assert a.differences(Provenance(scorer="s", task="t2", prompt="p")) == ["task", "prompt"]
    assert a.differences(a) == []


def test_the_scoring_identity_is_one_digest_of_the_resolved_setup():
    c = ScoreConfig(embedder="auto", tracker="auto")
    resolved = {"embedder": "classic-v1", "tracker": "opencv-lk-v1"}
    assert c.key(resolved) != c.key() and c.key(resolved) == ScoreConfig(embedder="classic").key(resolved)
    assert c.identity(resolved)["embedder"] == "classic-v1"
    with pytest.raises(Exception):
        c.embedder = "dreamsim"       # frozen: a run's configuration cannot change under it


def test_every_task_family_has_a_scorer_and_the_tables_come_from_them():
    families = typing.get_args(TaskSpec.model_fields["family"].annotation)
    assert set(families) == set(FAMILIES)
    for f in FAMILIES:
        s = get_scorer(f)
        assert s.family == f and HEADLINE[f] == tuple(c[0] for c in s.fields)
        assert all(c in COLUMNS for c in s.fields)
    with pytest.raises(UnknownFamily):
        get_scorer("audio")
    assert task_score({"task_id": "a", "family": "animation", "appearance": 0.4, "temporal": None}) == 0.4
    assert task_score({"task_id": "a", "family": "interactive", "final": 0.7}) == 0.7
    assert task_score({"task_id": "a", "family": "interactive", "final": 0.7, "judge_error": "x"}) is None


def test_the_context_resolves_the_judge_model_once_and_closes_it(monkeypatch):
    closed = []

    async def go():
        config = ScoreConfig(embedder="classic", judge_model="openai/gpt-4o")
        async with ScoringContext(config, families={"interactive"}, judge_cache=None) as ctx:
            model = ctx.judge_model
            assert model.spec == "openai/gpt-4o" and ctx.backends["embedder"].startswith("classic")
            assert ctx.identity["judge_model"] == "openai/gpt-4o" and ctx.key == config.key(ctx.backends)
            monkeypatch.setattr(type(model), "aclose", lambda self: _record(closed, self))
        return model

    model = asyncio.run(go())
    assert closed == [model]


async def _record(closed, model):
    closed.append(model)


def test_no_judge_model_for_families_that_do_not_call_one():
    async def go():
        async with ScoringContext(ScoreConfig(embedder="classic", tracker="opencv", judge_model="openai/gpt-4o"),
                                  families={"animation"}) as ctx:
            return ctx.judge_model, ctx.pool
    assert asyncio.run(go()) == (None, None)


PROBE = """
import asyncio, json
from judge.context import ScoringContext
from judge.records import ScoreConfig

def threads():
    import torch
    from threadpoolctl import threadpool_info
    return torch.get_num_threads(), sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})

async def go():
    async with ScoringContext(ScoreConfig(embedder="classic", tracker="opencv"), families={"animation"},
                              workers=2) as ctx:
        worker = await asyncio.get_running_loop().run_in_executor(ctx.pool, threads)
        return {"driver": threads(), "worker": worker}

if __name__ == "__main__":
    print(json.dumps(asyncio.run(go())))
"""


def test_every_scoring_process_runs_blas_and_torch_with_one_thread(tmp_path):
    """A score must not depend on the machine's core count (`judge.context`): the driver and
    each metrics worker run BLAS and torch (DreamSim, CoTracker3) with one thread, torch
    imported after the context opened as the learned backends import it. In a fresh
    interpreter: pinning is process-wide."""
    pytest.importorskip("torch")
    import subprocess
    import sys

    from tests.helpers.paths import ROOT

    (tmp_path / "probe.py").write_text(PROBE)   # a file: the spawned workers import its `threads`
    out = subprocess.run([sys.executable, str(tmp_path / "probe.py")], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "", "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"driver": [1, [1]], "worker": [1, [1]]}, got
