"""Where things are: the repository, the shared design folder, test pages, shipped tasks."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
PAGES = ROOT / "tests" / "pages"
TASKS = ROOT / "tasks"
SHIPPED_INTERACTIVE = TASKS / "interactive"
