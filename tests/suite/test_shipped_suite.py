"""The shipped suite in tasks/: it validates, and it has the coverage the project promises."""
from __future__ import annotations

from judge.cli import main
from judge.tasks import load_tasks
from tests.helpers.paths import ROOT


def test_shipped_suite_validates(capsys):
    assert main(["tasks", "validate", str(ROOT / "tasks"), "--strict"]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().out


def test_shipped_suite_size_and_recording():
    tasks = load_tasks([ROOT / "tasks"])
    anim = [t for t in tasks if t.family == "animation"]
    inter = [t for t in tasks if t.family == "interactive"]
    assert len(anim) >= 12 and len(inter) >= 6
    for t in tasks:
        assert t.spec.metadata.get("recorded_by") == "judge tasks record", t.id
        assert t.reference_page_path and t.reference_page_path.is_file()
    for t in inter:
        assert 4 <= len(t.spec.actions) <= 12
        assert all(a.checkpoint and (t.root / a.checkpoint).is_file() for a in t.spec.actions), t.id
        assert t.initial_checkpoint_path is not None
