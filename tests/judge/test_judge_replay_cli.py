"""`judge replay TASK --page PAGE --out DIR`: artifacts, step table, trace groups, resume."""
from __future__ import annotations

import json
import zipfile

import pytest

from judge.errors import UsageError
from tests.helpers.judge_pages import grocery_page


def main(argv: list[str]) -> int:
    """`judge ...` with only the commands under test wired (as judge.cli wires them)."""
    import argparse

    from judge import replay, score

    parser = argparse.ArgumentParser(prog="judge")
    sub = parser.add_subparsers(dest="command", required=True)
    replay.add_parser(sub)
    score.add_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_replay_writes_artifacts_and_prints_a_step_table(tasks, tmp_path, capsys):  # noqa: F811
    page = tmp_path / "page.html"
    page.write_text(grocery_page(dead=frozenset({"tab"})))
    out = tmp_path / "out"
    args = ["replay", str(tasks["groceries"].root), "--page", str(page), "--out", str(out), "--embedder", "classic"]
    assert main(args) == 0
    table = capsys.readouterr().out
    assert "hints:role" in table and "FAIL" in table and "rule:quoted-text" in table
    assert "ifs=0.400  ifs_steps=0.800" in table and "ocr=tesseract" in table
    lines = [json.loads(x) for x in (out / "steps.jsonl").read_text().splitlines()]
    assert [s["passed"] for s in lines] == [True, True, False, True, True]
    assert {"rung", "element", "verdict_source", "timings", "error", "tried"} <= set(lines[0])
    assert set(lines[0]["timings"]) == {"ground", "act", "settle", "observe", "verify"}
    for k in range(5):
        assert (out / "steps" / f"step_{k:02d}_before.png").is_file() and (out / "steps" / f"step_{k:02d}_after.png").is_file()
    result = json.loads((out / "result.json").read_text())
    assert result["ifs"] == 0.4 and result["backends"]["embedder"] == "classic-v1"
    with zipfile.ZipFile(out / "trace.zip") as z:
        trace = z.read("trace.trace").decode()
    titles = [t for t in ("step 0: type", "step 1: click", "step 2: click", "step 3: click", "step 4: scroll") if t in trace]
    assert len(titles) == 5
    # the same command again: the finished judgment is reused (no browser work), same table
    assert main(args) == 0
    assert "ifs=0.400" in capsys.readouterr().out
    # --fresh judges again
    assert main(args + ["--fresh", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["judge_run"]["reused"] is False


def test_replay_rejects_bad_input(tasks, tmp_path):  # noqa: F811
    with pytest.raises(UsageError, match="page not found"):      # judge.cli prints it and exits 2
        main(["replay", str(tasks["groceries"].root), "--page", str(tmp_path / "missing.html"), "--out",
              str(tmp_path / "o")])


def test_judge_score_uses_the_interactive_judge(tasks, tmp_path, capsys):  # noqa: F811
    page = tmp_path / "page.html"
    page.write_text(grocery_page(dead=frozenset({"star"})))
    assert main(["score", str(tasks["groceries"].root), str(page), "--embedder", "classic", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["task_id"] == "groceries" and row["family"] == "interactive" and row["page_sha256"]
    assert row["ifs"] == 0.6 and row["ifs_steps"] == 0.8 and row["exec"] is True
    assert row["final"] == pytest.approx(0.7 * row["ifs"] + 0.3 * row["vfs"])
