"""Executors: where the pages of `judge evaluate` are scored (`--executor local|ray`).

    async with make_executor(opts, ctx, scorer) as ex:
        await ex.start()                       # only when some task has work
        outcome = await ex.score(task, html, run.artifacts_dir(task.id))

Contract (every executor):
- `score(task, html, artifacts)` returns an `Outcome`: the scorer's row (the family's
  fields, as `judge.score.score_page` returns it) or a `judge_error` (infrastructure: a
  worker or node died, a timeout, a scorer crash; never the page's fault), the number of
  scorer calls, and `node` (where it was scored: host, Ray node id or None, Chromium
  version, fonts fingerprint). It retries judge errors `judge_retries` times and bounds a
  call by `task_timeout_s`. It never writes a row: the pipeline (`judge.pipeline`) builds
  every row and the run store (`judge.runs`) writes it. Artifacts land in `artifacts`,
  written by this process (the driver).
- `slots`: how many tasks the pipeline may hand it at once; `chromium`: the version the
  rows are rendered with (after `start`); `nodes()`: the nodes used in this session.
- `reference`: the fingerprint this session scores with (after `start`); the pipeline
  compares it with the `node` of the rows a resumed run keeps (`row_mismatch`), so a run
  never mixes machines across sessions either.
- `start()` raises `NodeMismatch` (exit 2, naming the node) when the machines it would
  score on differ in Chromium build or font set (a row must not depend on which node
  judged it), `UsageError` when the executor cannot be used (Ray not installed).

`local` (`judge.executors.local`): the run's one Chromium and metrics pool in this
process. `ray` (`judge.executors.ray`): a pool of Ray actors, each with its own Chromium
(`judge.executors.ray_actor`).

`node_fingerprint(chromium)`: what decides a score on a machine besides our code: the
Chromium version string, a digest of the fonts fontconfig offers (`fc-list`), and the
BLAS kernels the metrics run on (`judge.context.pin_blas_threads`: one thread, so the
core count does not matter, but other kernels may round differently). The
environment variable `WEBJUDGE_NODE_FINGERPRINT` (a JSON object, e.g.
`{"chromium": "1.2.3"}`) overrides measured fields: it exists to test the refusal of a
mismatched node and must not be set otherwise.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from judge.errors import InputError

EXECUTORS = ("local", "ray")
FINGERPRINT_ENV = "WEBJUDGE_NODE_FINGERPRINT"
COMPARED = ("chromium", "fonts", "blas")   # fields two nodes of one run must share


class NodeMismatch(InputError):
    """A node whose Chromium build, font set, backends or code differ from the run's."""


@dataclass
class Outcome:
    """What scoring one task gave: `row` (scored) or `judge_error` (not scored)."""

    row: dict | None
    judge_error: str | None
    attempts: int
    node: dict | None = None
    notes: list[str] = field(default_factory=list)


class Executor:
    """Base of the executors (see the module docstring)."""

    name = "?"
    slots = 1
    chromium: str | None = None

    async def start(self) -> None:
        raise NotImplementedError

    async def score(self, task, html: bytes | None, artifacts: Path) -> Outcome:
        raise NotImplementedError

    def nodes(self) -> list[dict]:
        return []

    @property
    def reference(self) -> dict | None:
        """The fingerprint this session's rows are scored with (after `start`)."""
        return None

    def describe(self) -> dict:
        """run.json `config.executor`."""
        return {"name": self.name}

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> "Executor":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


def make_executor(opts, ctx, scorer) -> Executor:
    """The executor `opts.executor` names, over the run's scoring context."""
    if opts.executor == "local":
        from judge.executors.local import LocalExecutor

        return LocalExecutor(ctx, scorer, workers=opts.workers or 1, task_timeout_s=opts.task_timeout_s,
                             judge_retries=opts.judge_retries)
    if opts.executor == "ray":
        from judge.errors import UsageError
        from judge.score import score_page

        if scorer is not score_page:
            raise UsageError("--executor ray: only the standard scorer (score_page) runs on Ray actors")
        from judge.executors.ray import RayExecutor

        return RayExecutor(ctx, workers=opts.workers, address=opts.ray_address, task_timeout_s=opts.task_timeout_s,
                           judge_retries=opts.judge_retries)
    from judge.errors import UsageError

    raise UsageError(f"--executor: unknown executor {opts.executor!r} (known: {', '.join(EXECUTORS)})")


@functools.lru_cache(maxsize=1)
def fonts_fingerprint() -> str:
    """sha256[:16] of the fonts fontconfig offers here (file, family, style, version), as
    Chromium finds them; of the font files' names and sizes when `fc-list` is missing."""
    try:
        out = subprocess.run(["fc-list", "--format", "%{file}\t%{family}\t%{style}\t%{fontversion}\n"],
                             capture_output=True, timeout=30, check=True).stdout
        lines = sorted(set(out.decode("utf-8", "replace").splitlines()))
    except (OSError, subprocess.SubprocessError):
        lines = []
        for base in ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts"):
            root = Path(base).expanduser()
            if root.is_dir():
                lines += sorted(f"{p}\t{p.stat().st_size}" for p in root.rglob("*") if p.is_file())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def node_fingerprint(chromium: str | None, node_id: str | None = None) -> dict:
    """This machine as a row records it: host, Ray node id (None locally), Chromium
    version, fonts digest and BLAS kernels (`judge.context.pin_blas_threads`; overridable
    by `WEBJUDGE_NODE_FINGERPRINT`, for tests)."""
    from judge.context import blas_kernels

    fp = {"host": socket.gethostname(), "id": node_id, "chromium": chromium, "fonts": fonts_fingerprint(),
          "blas": blas_kernels()}
    override = os.environ.get(FINGERPRINT_ENV)
    if override:
        fp.update({k: v for k, v in json.loads(override).items() if k in COMPARED})
    return fp


def node_name(fp: dict) -> str:
    """How an error names a node: `host (ip, Ray node 1a2b3c4d)`."""
    bits = [b for b in (fp.get("ip"), f"Ray node {fp['id'][:8]}" if fp.get("id") else None) if b]
    return f"{fp.get('host', '?')} ({', '.join(bits)})" if bits else str(fp.get("host", "?"))


def differences(reference: dict, fp: dict, whose: str, keys=COMPARED) -> list[str]:
    """The `keys` on which `fp` differs from `reference`, as `chromium '1.2' (WHOSE: '1.3')`."""
    return [f"{k} {fp.get(k)!r} ({whose}: {reference.get(k)!r})" for k in keys if fp.get(k) != reference.get(k)]


def row_mismatch(reference: dict, node: dict) -> list[str]:
    """How a finished row's `node` differs from this session's `reference` on the compared
    fields it records (an older row without `blas` is compared on the others)."""
    return differences(reference, node, "this session's", [k for k in COMPARED if k in node])


def mismatch(reference: dict, fp: dict) -> str | None:
    """Why `fp` may not score rows beside `reference`'s (None when it may)."""
    diff = differences(reference, fp, "the run's")
    if not diff:
        return None
    return (f"node {node_name(fp)} differs from node {node_name(reference)}: " + "; ".join(diff) +
            ": a run never mixes browser builds or font sets (install the same Chromium and fonts on every node, "
            "e.g. `make setup` from the same commit or one container image, or leave that node out)")
