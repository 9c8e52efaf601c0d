"""Scoring one candidate page against one task: `score_page` and the `judge score` command.

The candidate runs under the same conditions as the reference (viewport, fps, number
of frames, virtual clock, sandbox). The task's family scorer (`judge.scorers`) does the
work: animation tasks get Exec / appearance / temporal, interactive tasks are judged by
the LangGraph agent for IFS / VFS / Final. Every row says which backends produced it.

Errors are split as scores need them: a page that fails (crash, hang, no code) is
scored (exec false, zeros); a judge failure (Chromium died, a judge model is down)
raises `JudgeError` and is never scored as the page's fault.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
from pathlib import Path

from judge.browser.mirror import MODES as LIBRARY_MODES
from judge.browser.mirror import default_mode, library_scope
from judge.browser.runtime import Browser, BrowserError
from judge.context import ScoringContext
from judge.errors import JudgeError
from judge.records import SCORER_VERSION, ScoreConfig
from judge.scorers import get_scorer
from judge.tasks import Task, load_task

__all__ = ["JudgeError", "SCORER_VERSION", "ScoreConfig", "score_page", "score_in_own_browser", "format_row"]


async def score_page(task: Task, html: bytes | str | None, *, browser: Browser | None = None,
                     config: ScoreConfig | None = None, artifacts: Path | None = None,
                     context: ScoringContext | None = None) -> dict:
    """Score `html` (None or empty: no code was produced) on `task`. Returns the result row
    (contract in docs/CONTRACTS.md, minus the run fields). Raises `JudgeError`.

    `context`: the run's `ScoringContext` (browser, pool, judge model, ...). Without one,
    a context for this page alone is made around `browser` and `config`."""
    if isinstance(html, str):
        html = html.encode("utf-8")
    if context is None:
        async with ScoringContext(config, families={task.family}, browser=browser) as ctx:
            return await score_page(task, html, context=ctx, artifacts=artifacts)
    row = {"task_id": task.id, "family": task.family,
           "page_sha256": hashlib.sha256(html).hexdigest() if html else None, "scorer_version": SCORER_VERSION}
    with library_scope(context.config.libraries) as libs:   # the page's CDN libraries (judge.browser.mirror)
        row.update(await get_scorer(task.family).score(task, html, context, artifacts))
    row.update(libs.row_fields())
    return row


# ---- judge score --------------------------------------------------------------------
def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("score", help="score one candidate page against one task")
    p.add_argument("task", type=Path, help="task folder (with task.json)")
    p.add_argument("page", type=Path, help="candidate HTML file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_backend_args(p)
    p.add_argument("--artifacts", type=Path, default=None, help="write filmstrips / step screenshots here")
    p.set_defaults(func=run)
    return p


def add_backend_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--embedder", default=os.environ.get("WEBJUDGE_EMBEDDER", "auto"),
                   choices=["auto", "classic", "dreamsim"], help="frame embedder (default: dreamsim if its weights are available, else classic)")
    p.add_argument("--tracker", default=os.environ.get("WEBJUDGE_TRACKER", "auto"),
                   choices=["auto", "opencv", "cotracker"], help="point tracker (default: cotracker if available, else opencv)")
    p.add_argument("--time-base", default="absolute", choices=["absolute", "resampled"])
    p.add_argument("--scale", default="shared", choices=["shared", "own"])
    p.add_argument("--judge-model", default=None, help="provider/model for grounding, assertions and the visual rubric")
    p.add_argument("--libraries", default=default_mode(), choices=LIBRARY_MODES,
                   help="CDN libraries and web fonts the page requests: mirror (default; pinned versions served "
                        "offline), nearest (also the nearest mirrored version of the same major), off (all blocked)")


def config_from_args(args) -> ScoreConfig:
    return ScoreConfig(embedder=args.embedder, tracker=args.tracker, time_base=args.time_base,
                       scale=args.scale, judge_model=args.judge_model, trace=bool(getattr(args, "trace", False)),
                       libraries=getattr(args, "libraries", None) or default_mode())



def score_in_own_browser(task: Task, html: bytes, config: ScoreConfig, artifacts: Path | None = None) -> dict:
    """`score_page` in a Chromium of its own (the one-page CLI commands). A browser that
    cannot start or dies is a `JudgeError` (not the page's fault)."""
    async def go():
        async with Browser() as b:
            return await score_page(task, html, browser=b, config=config, artifacts=artifacts)

    try:
        return asyncio.run(go())
    except BrowserError as e:
        raise JudgeError(str(e)) from None


def run(args) -> int:
    from judge.errors import UsageError
    from judge.libs import page_block
    from judge.validate import require_valid

    task = load_task(args.task)
    if not args.page.is_file():
        raise UsageError(f"{args.page}: page not found")
    require_valid(task.root)  # a broken video or checkpoint fails fast, naming the field
    html = args.page.read_bytes()

    row = score_in_own_browser(task, html, config_from_args(args), args.artifacts)   # JudgeError: exit 3
    if args.json:
        print(json.dumps(row, indent=2, default=str))
    else:
        print(format_row(row))
        for line in page_block(row):   # libraries served, requests blocked, page errors
            print(line)
        for note in row.get("backend_notes", []):
            print(f"  note: {note}")
    return 0


def format_row(row: dict) -> str:
    """One line: the family's scores, then the backends."""
    backends = ", ".join(f"{k}={v}" for k, v in (row.get("backends") or {}).items() if v)
    return f"{get_scorer(row['family']).text(row)}  [{backends}]"
