"""The layers of docs/CONTRACTS.md hold (read from the source, every import statement,
lazy ones inside functions included):

- `metrics` imports nothing of ours;
- `agents` imports from `judge` only its lower layer: `judge.errors`, `judge.tasks`,
  `judge.video`, `judge.browser` (and `judge.records` when it exists);
- the lower layer of `judge` imports nothing of ours but itself;
- `judge.errors` is a leaf;
- no module imports itself back through others (no cycles).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("judge", "agents", "metrics")
LOWER_JUDGE = ("judge.errors", "judge.files", "judge.tasks", "judge.video", "judge.browser", "judge.records")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for f in (ROOT / pkg).rglob("*.py"):
            parts = list(f.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = f
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The module of ours an imported name lives in (its longest known prefix)."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in MODULES:
            return ".".join(parts[:i])
    return None


def imports_of(module: str) -> set[str]:
    f = MODULES[module]
    pkg = module if f.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                base = ".".join(up + ([node.module] if node.module else []))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for n in names:
            if n.split(".")[0] in PACKAGES and (m := _resolve(n)) and m != module:
                found.add(m)
    return found


GRAPH = {m: imports_of(m) for m in MODULES}


def _under(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_metrics_imports_nothing_of_ours():
    bad = [(m, i) for m, deps in GRAPH.items() if m.startswith("metrics") for i in deps if not i.startswith("metrics")]
    assert not bad, bad


def test_agents_import_only_the_lower_layer_of_judge():
    bad = [(m, i) for m, deps in GRAPH.items() if m.startswith("agents")
           for i in deps if i.startswith("judge") and not _under(i, LOWER_JUDGE)]
    assert not bad, bad


def test_the_lower_layer_of_judge_imports_only_itself():
    bad = [(m, i) for m, deps in GRAPH.items() if _under(m, LOWER_JUDGE) and m != "judge"
           for i in deps if not _under(i, LOWER_JUDGE)]
    assert not bad, bad
    assert GRAPH["judge.errors"] == set()


def test_no_import_cycles():
    """Package `__init__` modules are left out: importing `judge.x` runs `judge/__init__`
    first whatever it imports, so an edge into a package is no cycle of ours."""
    graph = {m: {d for d in deps if MODULES[d].name != "__init__.py"} for m, deps in GRAPH.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(m, stack):
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d, stack)
        stack.pop()
        state[m] = 2
    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_the_checker_sees_lazy_and_relative_imports():
    # a check that cannot fail is no check: the graph holds edges we know are there
    assert "judge.record" in GRAPH["judge.authoring"]     # lazy, inside a function
    assert "agents.providers.cost" in GRAPH["agents.providers.base"]   # relative
    assert "judge.errors" in GRAPH["agents.judge_graph"]
