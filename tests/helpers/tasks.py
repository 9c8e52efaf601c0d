"""Recording small interactive tasks in a test (the real recorder, `judge.record.record_interactive`)."""
from __future__ import annotations

from pathlib import Path


def record_test_task(run, browser, root: Path, html: str, actions: list[dict], *, task_id: str, viewport,
                     fps: float = 10):
    """Record an interactive task from `html` and action dicts (the reference page is written
    to `root/src/reference.html`, the task to `root/task`) and load it."""
    from judge.record import record_interactive
    from judge.tasks import Action, load_task

    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "reference.html").write_text(html)
    run(record_interactive(browser, root / "src" / "reference.html", [Action.model_validate(a) for a in actions],
                           root / "task", task_id=task_id, viewport=viewport, fps=fps))
    return load_task(root / "task")
