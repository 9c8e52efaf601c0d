"""webjudge's public API for library users (the CLI is `judge`, see the README).

    import judge
    tasks = judge.load_tasks("tasks/")                       # validated Task objects
    row = judge.score_one(tasks[0], open("page.html", "rb").read())   # one page, one task: the row
    summary = judge.run_evaluation("tasks/", model="reference", out="runs/ref")   # `judge evaluate`
    run = judge.read_run("runs/ref")                          # meta, latest rows, summary

Errors are `judge.errors` classes (`InputError` for bad input, `JudgeError` when the judge
or its infrastructure failed). Names resolve lazily: importing `judge` loads nothing heavy,
and the lower layers (`judge.errors`, `judge.tasks`, ...) never pull in the upper ones.
(The names differ from the command modules `judge.score` and `judge.evaluate`: importing a
submodule rebinds its name on the package.)
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["load_task", "load_tasks", "read_run", "run_evaluation", "score_one"]


def load_task(folder: str | Path):
    """One task folder as a `judge.tasks.Task` (raises `TaskError` naming the field)."""
    from judge.tasks import load_task as _load

    return _load(folder)


def load_tasks(*roots: str | Path) -> list:
    """Every task under the given folders (task folders or folders of them), validated."""
    from judge.tasks import load_tasks as _load

    return _load(list(roots))


def score_one(task, html: bytes | str, *, artifacts: str | Path | None = None, **config: Any) -> dict:
    """Score one candidate page on one task in a browser of its own; returns the row
    `judge score --json` prints. `config`: `judge.score.ScoreConfig` fields (`embedder`,
    `tracker`, `time_base`, `scale`, `judge_model`, `cache_dir`)."""
    from judge.score import ScoreConfig, score_in_own_browser

    if isinstance(task, (str, Path)):
        task = load_task(task)
    data = html.encode("utf-8") if isinstance(html, str) else html
    return score_in_own_browser(task, data, ScoreConfig(**config), Path(artifacts) if artifacts else None)


def run_evaluation(tasks: str | Path, *, model: str, out: str | Path, **options: Any) -> dict:
    """`judge evaluate TASKS --model MODEL --out OUT [--option value ...]`, in this process;
    returns the run's summary (`summary.json`). Options are the command's flags with `_` for
    `-` (`workers=2`, `judge_model="openai/gpt-4o"`, `limit=5`, `rescore=True`). Raises the
    command's error (`InputError`, ...) instead of printing it."""
    from judge.cli import build_parser

    argv = ["evaluate", str(tasks), "--model", model, "--out", str(out)]
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value not in (None, False):
            argv += [flag, str(value)]
    args = build_parser().parse_args(argv)
    args.command_line = ["judge", *argv]
    args.func(args)
    return read_run(out)["summary"]


def read_run(path: str | Path) -> dict:
    """A run directory read back: `meta` (run.json), `rows`, `latest` (last row per task),
    `task_ids`, `summary`, `name`, `model`."""
    from judge.report import load_run

    return load_run(path)
