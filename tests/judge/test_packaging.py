"""Every file the code reads from its own package directories ships in the wheel: each
non-Python file tracked under judge/, agents/ and metrics/ is named by pyproject's
package-data (an editable install hides a missing entry; a normal install breaks)."""
from __future__ import annotations

import fnmatch
import subprocess

import pytest
import tomllib

from tests.helpers.paths import ROOT


def test_non_python_package_files_are_package_data():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = cfg["tool"]["setuptools"].get("package-data", {})
    files = subprocess.run(["git", "ls-files", "judge", "agents", "metrics"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    if not files:  # not a git checkout (e.g. an sdist): nothing to compare against
        pytest.skip("not a git checkout")
    missing = []
    for f in files:
        if f.endswith(".py"):
            continue
        top, _, rest = f.partition("/")
        if not any(fnmatch.fnmatch(rest, pat) for pat in data.get(top, [])):
            missing.append(f)
    assert not missing, f"add to [tool.setuptools.package-data] in pyproject.toml: {missing}"
