"""The interactive judge: a LangGraph `StateGraph` that replays a task's actions on a
candidate page and scores IFS / VFS / Final.

    load -> ground -> act -> settle -> observe -> verify -+-> ground (next action)
                                                          +-> score -> END

- `load`: open the page in a fresh sandboxed context (viewport = task resolution,
  virtual clock), let 1 s of virtual time run, screenshot the initial state.
- `ground`: the grounding ladder (`agents.grounding`); the rung that succeeded is logged.
- `act`: move the pointer to the target, record the *before* state, perform the action
  with real input events (`agents.actions.perform`). A scroll "to" somewhere goes in
  steps until the texts its assertion expects are in view (`_scroll_to`).
- `settle`: advance the virtual clock 1 s (+ the wait of a `wait` action); never sleep.
- `observe`: record the *after* state (screenshot, visible text, scroll, focus).
- `verify`: the verdict (`agents.verify`); the replay continues after a failure so later
  steps are reported (`ifs_steps`), while IFS stops at the first failure.
- `score`: IFS (`metrics.interactive`), VFS (`metrics.visual`), Final, backends.

**State** (`JudgeState`) holds only JSON-able data; screenshots and observations are
files in the work directory (the artifacts directory when given). The browser session
lives outside the state, in `JudgeRun`.

**Resume.** The graph runs under a checkpointer persisted in the run directory
(`checkpointer`: LangGraph's SQLite saver, one database per judgment directory;
`durability="sync"`, so every finished node is on disk before the next starts). A judgment is a LangGraph thread keyed by the
task, the page's sha256, the backends and `GRAPH_VERSION`. The browser cannot be
checkpointed, so every node that changes the page records what it did in `ops`
(`reveal` an element, `move` the pointer, `perform` action k at point (x, y), `settle`
N ms). After a crash the next run finds the thread unfinished, re-opens the page, loads
it, settles 1 s and re-applies `ops` in order -- under the virtual clock this recreates
the same page state -- then continues with the first unfinished node. Completed steps
are neither re-grounded nor re-judged; a finished judgment is returned as stored.

**Errors.** A `PageError` (hang, renderer crash, navigation away, load failure) is the
page's fault: the step fails, later steps are "not reached" and fail, all scored. A
`BrowserError` is retried by resuming (the browser is restarted if it died; other
judgments may share it) up to `BROWSER_RETRIES` times, then
raised as `judge.score.JudgeError`, as are judge-model and OCR failures: never scored.

One module (~600 lines): the graph's nodes, the run that owns the page between them and
the score node read and write the same state and work directory.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TypedDict

import numpy as np
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph

from agents import observe as ob
from agents.actions import Grounded, perform, travel
from agents.grounding import Grounder
from agents.visual_match import ReferenceFrames
from agents.verify import JudgeModel, expectations, find_text, rubric_score, verify_step
from metrics.interactive import grounding_stats, ifs_pair as ifs_of
from judge.browser.runtime import BrowserError, PageError, decode_png
from judge.browser.sandbox import page_folders
from judge.errors import JudgeError

GRAPH_VERSION = "3"  # 3: hit-testing, shadow roots, relations, candidates with evidence, in-view text, typed field
SETTLE_MS = 1000.0          # virtual time after load and after each action (as judge.record)
BROWSER_RETRIES = 2
DRAG_TICK_MS = 34.0         # virtual time between the moves of a drag
WHEEL_POLLS, WHEEL_POLL_S = 20, 0.025   # up to 0.5 s of real time for a wheel's scroll to land before "it did not move"
MAX_SCROLLS_TO = 8          # extra scrolls of a "scroll to X" action until X is in view
SCROLL_TO = re.compile(r"\b(to|until|till|towards)\b", re.I)
NODES = ("load", "ground", "act", "settle", "observe", "verify", "score")


class JudgeState(TypedDict, total=False):
    index: int                # the action being judged (0-based)
    ops: list[dict]           # page-changing operations so far, replayed on resume
    current: dict             # the step in progress: ground record, files, executed, error, timings
    steps: list[dict]         # finished step records
    exec: bool                # the page loaded
    page_failed: str | None   # the first page failure ("step 3 (act): renderer crashed")
    page_log: dict            # the sandbox log summary at the last finished step
    result: dict | None       # the score node's output


CHECKPOINTS = "checkpoints.sqlite"   # in the checkpoint directory: LangGraph's SQLite saver


@asynccontextmanager
async def checkpointer(directory: Path | str | None):
    """The judgment's checkpointer: LangGraph's `AsyncSqliteSaver` on `<directory>/checkpoints.sqlite`
    (each checkpoint committed before the next node starts; SQLite's journal makes a kill
    mid-write lose at most the unfinished node), or an `InMemorySaver` without a directory."""
    if directory is None:
        yield InMemorySaver()
        return
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    Path(directory).mkdir(parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(str(Path(directory) / CHECKPOINTS)) as saver:
        yield saver


_DEFAULT_CACHE = object()   # judge_cache not given: a ResponseCache when there is a judge model
_EMBEDDERS: dict[str, object] = {}


def _embedder(name: str):
    from metrics.embedders import get_embedder

    if name not in _EMBEDDERS:
        _EMBEDDERS[name] = get_embedder(name)
    return _EMBEDDERS[name]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class JudgeRun:
    """One judgment of one page on one task. `node_calls` counts node executions (also
    across a resume); `on_node(name, state)` is called before each node (tests use it
    to interrupt a run)."""

    def __init__(self, task, html: bytes | str | None, *, browser, config, artifacts: Path | None = None,
                 model=None, judge_cache=_DEFAULT_CACHE, meter=None, score_key: str | None = None,
                 trace: bool | None = None, checkpoint_dir: Path | None = None, on_node=None):
        from agents.cache import ResponseCache
        from agents.providers import get_model

        self.task, self.browser, self.config = task, browser, config
        self.html = html.encode("utf-8") if isinstance(html, str) else (html or b"")
        self.actions = task.spec.actions
        self.vp = (task.spec.viewport.width, task.spec.viewport.height)
        self.artifacts = Path(artifacts) if artifacts else None
        self.trace = bool(config.trace if trace is None else trace) and self.artifacts is not None
        ckdir = checkpoint_dir or (self.artifacts / ".judge" if self.artifacts else None)
        self.ckdir = Path(ckdir) if ckdir else None
        self._tmp = None if (self.artifacts or ckdir) else tempfile.TemporaryDirectory(prefix="webjudge-")
        self.work = self.artifacts or (Path(ckdir) / "work" if ckdir else Path(self._tmp.name))
        self._own_model = model is None and bool(config.judge_model)
        if self._own_model:   # one page judged on its own: resolved here, closed by run()
            model = get_model(config.judge_model)
        if judge_cache is _DEFAULT_CACHE:
            judge_cache = ResponseCache() if model is not None else None
        self.judge = JudgeModel(model, cache=judge_cache, meter=meter, timeout_s=config.llm_timeout_s,
                                attempts=config.llm_attempts) if model is not None else None
        self.frames = ReferenceFrames(task)
        self.on_node = on_node
        self.node_calls: Counter = Counter()
        self.resumes = 0
        self.session = None
        self._stack: AsyncExitStack | None = None
        self._group_open = False
        spec_sha = _sha(task.spec.model_dump_json().encode())
        key = f"{GRAPH_VERSION}|{task.id}|{spec_sha}|{_sha(self.html)}|{score_key or config.key()}|{self.judge and self.judge.spec}"
        self.thread_id = _sha(key.encode())[:24]

    # ---- the page (outside the graph state) ----------------------------------------------
    async def page(self, state: dict):
        """The live session; opened, loaded, settled and brought up to date with
        `state["ops"]` when there is none (first use, or after a resume)."""
        if self.session is not None:
            return self.session
        self._stack = AsyncExitStack()
        s = await self._stack.enter_async_context(
            self.browser.session(self.html, self.vp, page_folders(None, self.task.assets_path), tracing=self.trace))
        self.session = s
        await ob.install(s)
        await s.load()
        await s.settle(SETTLE_MS)
        ops = state.get("ops") or []
        if ops:
            self.resumes += 1
            await self._group(f"resume: re-apply {len(ops)} operations of steps 0-{state.get('index', 0) - 1}")
            for op in ops:
                await self._apply(op)
            await self._group_end()
        return s

    async def close_page(self) -> None:
        if self._stack is not None:
            stack, self._stack, self.session, self._group_open = self._stack, None, None, False
            try:
                await stack.aclose()
            except (PageError, BrowserError, Exception):
                pass

    async def _apply(self, op: dict) -> None:
        s = self.session
        if op["op"] == "reveal":
            await ob.reveal(s, op["path"])
        elif op["op"] == "move":
            await ob.guard(s, travel(s.page.mouse, op["x"], op["y"]) if op.get("travel") else s.page.mouse.move(op["x"], op["y"]),
                           "move")
        elif op["op"] == "perform":
            await self._perform(self.actions[op["index"]], op)
        elif op["op"] == "settle":
            await s.settle(op["ms"])
        elif op["op"] == "wheel":
            await ob.guard(s, s.page.mouse.move(op["x"], op["y"]), "move")
            await ob.guard(s, s.page.mouse.wheel(op["dx"], op["dy"]), "scroll")

    def _grounded(self, g: dict | None) -> Grounded | None:
        if not g or g.get("x") is None:
            return None
        loc = None
        if g.get("path"):   # an observer path; " >>> " enters a shadow root (Playwright's CSS pierces it)
            chunks = g["path"].split(" >>> ")
            loc = self.session.page.locator(chunks[0])
            for c in chunks[1:]:
                loc = loc.locator(c)
            loc = loc.first
        return Grounded(box=tuple(g["box"]) if g.get("box") else None, x=g["x"], y=g["y"], locator=loc)

    async def _perform(self, action, op: dict) -> str | None:
        """Perform; None on success, else the action's error. Hangs and crashes raise PageError."""
        s = self.session
        coro = perform(s.page, action, self._grounded(op.get("at")), self.vp, self._grounded(op.get("drop")),
                       tick=lambda: s.settle(DRAG_TICK_MS))
        if getattr(s, "guard", None) is not None:     # the runtime's guard: budget, hang handling
            try:
                await s.guard(coro, "action")
                return None
            except PageError as e:
                if ob.fatal(s, e):
                    raise
                return f"action failed: {str(e).removeprefix('action: ')}"
        try:
            await asyncio.wait_for(coro, s.timeout_s)
            return None
        except asyncio.TimeoutError:
            raise PageError(f"action: page did not respond within {s.timeout_s:.0f} s", kind="hang") from None
        except Exception as e:
            if s.log.crashed:
                raise PageError("action: renderer crashed", kind="crash") from None
            if not s.browser.connected():
                raise BrowserError(f"action: browser died ({e})") from None
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            if "has been closed" in msg:
                raise PageError(f"action: page closed ({msg})", kind="closed") from None
            return f"action failed: {msg}"

    async def _group(self, name: str) -> None:
        """Open a trace group (best effort: tracing never fails a judgment)."""
        if self.trace and self.session is not None and not self._group_open:
            try:
                await asyncio.wait_for(self.session.context.tracing.group(name), 10)
                self._group_open = True
            except Exception:
                pass

    async def _group_end(self) -> None:
        if self._group_open and self.session is not None:
            try:
                await asyncio.wait_for(self.session.context.tracing.group_end(), 10)
            except Exception:
                pass
        self._group_open = False

    async def _stop_trace(self) -> str | None:
        try:
            await self._group_end()
            await asyncio.wait_for(self.session.stop_tracing(self.artifacts / "trace.zip"), 60)
            return None
        except Exception as e:
            return f"trace not written: {type(e).__name__}: {e}"

    def _path(self, name: str) -> Path:
        p = self.work / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    # ---- running ---------------------------------------------------------------------------
    async def run(self) -> dict:
        async with checkpointer(self.ckdir) as saver:
            return await self._run(build_graph(self, saver))

    async def _run(self, graph) -> dict:
        cfg = {"configurable": {"thread_id": self.thread_id}, "recursion_limit": 6 * len(self.actions) + 20}
        t0 = time.perf_counter()
        try:
            for attempt in range(BROWSER_RETRIES + 1):
                snap = await graph.aget_state(cfg)
                if snap.values.get("result") is not None and not snap.next:
                    return {**snap.values["result"], "judge_run": {"reused": True, "thread": self.thread_id}}
                resumed = bool(snap.next)
                try:
                    out = await graph.ainvoke(None if resumed else {"index": 0}, cfg, durability="sync")
                except BrowserError as e:
                    await self.close_page()
                    if attempt == BROWSER_RETRIES:
                        raise JudgeError(f"browser failed {attempt + 1} times: {e}") from None
                    await self.browser.ensure()     # restarts it only if it died (other judgments share it)
                    continue
                trace_error = await self._stop_trace() if self.trace and self.session is not None else None
                return {**out["result"], "judge_run": {"reused": False, "thread": self.thread_id, "trace_error": trace_error,
                                                       "resumed_pages": self.resumes, "wall_s": round(time.perf_counter() - t0, 3),
                                                       "node_calls": dict(self.node_calls),
                                                       "step_seconds": [round(sum(st.get("timings", {}).values()), 4)
                                                                        for st in out.get("steps", [])]}}
        finally:
            await self.close_page()
            if self._tmp is not None:
                self._tmp.cleanup()
            if self._own_model and hasattr(self.judge.model, "aclose"):
                await self.judge.model.aclose()
        raise JudgeError("unreachable")  # pragma: no cover


# ---- nodes: each takes the run (browser, files, backends) and the state, returns an update ----
def _fail(state: dict, where: str, e: Exception) -> dict:
    i = state.get("index", 0)
    msg = f"step {i} ({where}): {e}"
    return {"page_failed": msg, "current": {**state.get("current", {}), "index": i, "error": msg}}


async def load_node(run: JudgeRun, state: dict) -> dict:
    base = {"index": 0, "ops": [], "steps": [], "current": {}, "page_failed": None}
    if not run.html.strip():
        return {**base, "exec": False, "page_failed": "load: no page (empty HTML)"}
    try:
        s = await run.page({})
        run._path("initial.png").write_bytes(await s.screenshot_png())
    except PageError as e:
        return {**base, "exec": False, "page_failed": f"load: {e}"}
    return {**base, "exec": True}


async def ground_node(run: JudgeRun, state: dict) -> dict:
    i, action = state["index"], run.actions[state["index"]]
    cur = {"index": i, "timings": {}}
    if state.get("page_failed"):
        return {"current": cur}
    t0 = time.perf_counter()
    try:
        s = await run.page(state)
        await run._group(f"step {i}: {action.type} {action.description[:60]!r}")
        g = await Grounder(s, run.vp, frames=run.frames, judge=run.judge, moved_focus=_moved_focus(run, i)).ground(i, action)
    except PageError as e:
        return _fail({**state, "current": cur}, "ground", e)
    cur.update(ground=g, error=g["error"])
    cur["timings"]["ground"] = round(time.perf_counter() - t0, 4)
    return {"current": cur, "ops": state["ops"] + g["ops"]}


def _moved_focus(run: JudgeRun, i: int) -> str | None:
    """The editable field the previous step moved the focus to (an editor it opened), if any."""
    if i == 0:
        return None
    obs = [run.work / f".obs/step_{i - 1:02d}_{k}.json" for k in ("before", "after")]
    if not all(p.exists() for p in obs):
        return None
    fb, fa = (json.loads(p.read_text()).get("focus") or {} for p in obs)
    return fa.get("path") if fa.get("editable") and fa.get("path") != fb.get("path") else None


async def act_node(run: JudgeRun, state: dict) -> dict:
    cur, i = dict(state["current"]), state["index"]
    if state.get("page_failed"):
        return {}
    t0, g, ops = time.perf_counter(), cur["ground"], []
    action = run.actions[i]
    try:
        s = await run.page(state)
        if g.get("x") is not None and action.type != "hover":   # the pointer arrives first, as in the
            g = cur["ground"] = dict(g)                              # recording: "before" shows its hover
            for _ in range(3):
                # a user's pointer travels: several moves on the way (menus that tell a mouse from
                # a touch by consecutive moves, SmartMenus, open only then)
                await ob.guard(s, travel(s.page.mouse, g["x"], g["y"]), "move")
                ops.append({"op": "move", "x": g["x"], "y": g["y"], "travel": True})
                cp = await ob.click_point(s, g["path"]) if g.get("path") and g.get("rung") != "visual" else None
                if not cp or abs(cp["x"] - g["x"]) + abs(cp["y"] - g["y"]) < 2:
                    break
                g.update(x=round(cp["x"], 2), y=round(cp["y"], 2), box=cp["box"])   # leaving a hover moved it
        point = (g["x"], g["y"]) if g.get("x") is not None else None
        run._path(f"steps/step_{i:02d}_before.png").write_bytes(await s.screenshot_png())
        run._path(f".obs/step_{i:02d}_before.json").write_text(json.dumps(await ob.page_state(s, point)))
        cur["executed"] = False
        if g.get("rung"):
            if action.type == "scroll" and SCROLL_TO.search(action.description) and \
                    any(present for _, present in expectations(action.assertion or "")):
                err = await _scroll_to(run, s, action, point, ops)
            else:
                op = {"op": "perform", "index": i, "at": g if point else None, "drop": g.get("drop")}
                ops.append(op)
                err = await run._perform(action, op)
            cur["executed"], cur["error"] = err is None, err
    except PageError as e:
        return {**_fail({**state, "current": cur}, "act", e), "ops": state["ops"] + ops}
    cur["timings"]["act"] = round(time.perf_counter() - t0, 4)
    return {"current": cur, "ops": state["ops"] + ops}


async def _scroll_to(run: JudgeRun, s, action, point, ops: list) -> str | None:
    """"Scroll down to the pricing section": a user scrolls in the asked direction until
    what the assertion names is in view, then stops. Wheel steps of at most half a
    viewport (each an op, replayed on resume), at least one, until every text the
    assertion expects is in view; at most the action's own distance, or up to
    `MAX_SCROLLS_TO` steps beyond it while such a text is on the page but out of view;
    never past the end of the scroll range."""
    from agents.actions import scroll_delta

    wanted = [q for q, present in expectations(action.assertion or "") if present]
    dx, dy = scroll_delta(action, run.vp)
    span = abs(dy) if dy else abs(dx)
    step = min(span, 0.5 * (run.vp[1] if dy else run.vp[0]))
    n = max(1, int(-(-span // step))) if step else 1
    x, y = point if point else (run.vp[0] / 2, run.vp[1] / 2)
    sx, sy = (dx / span * step, dy / span * step) if span else (dx, dy)
    for i in range(n + MAX_SCROLLS_TO):
        st = await ob.page_state(s, (x, y))
        if i > 0 and all(find_text(st["text"], q) for q in wanted):
            return None
        if i >= n and not any(find_text(st["text"], q, anywhere=True) for q in wanted):
            return None
        was = await ob.scroll_positions(s, (x, y))
        for op in ({"op": "wheel", "x": x, "y": y, "dx": round(sx, 2), "dy": round(sy, 2)}, {"op": "settle", "ms": 34.0}):
            ops.append(op)        # the wheel's scroll lands with the next frame: let one pass before measuring
            await run._apply(op)
        for _ in range(WHEEL_POLLS):   # the compositor scrolls on its own (real) time: wait for it to land
            if await ob.scroll_positions(s, (x, y)) != was:
                break
            await asyncio.sleep(WHEEL_POLL_S)
        moved = await ob.page_state(s, (x, y))
        if moved["scroll"] == st["scroll"] and [c[1:3] for c in moved["chain"]] == [c[1:3] for c in st["chain"]]:
            return None
    return None


async def settle_node(run: JudgeRun, state: dict) -> dict:
    if state.get("page_failed"):
        return {}
    action, t0 = run.actions[state["index"]], time.perf_counter()
    ms = SETTLE_MS + ((action.amount or 1.0) * 1000.0 if action.type == "wait" else 0.0)
    try:
        await (await run.page(state)).settle(ms)
    except PageError as e:
        return {**_fail(state, "settle", e), "ops": state["ops"] + [{"op": "settle", "ms": ms}]}
    cur = dict(state["current"])
    cur["timings"] = {**cur["timings"], "settle": round(time.perf_counter() - t0, 4)}
    return {"current": cur, "ops": state["ops"] + [{"op": "settle", "ms": ms}]}


async def observe_node(run: JudgeRun, state: dict) -> dict:
    if state.get("page_failed"):
        return {}
    cur, i, t0 = dict(state["current"]), state["index"], time.perf_counter()
    g = cur.get("ground") or {}
    try:
        s = await run.page(state)
        before = json.loads(run._path(f".obs/step_{i:02d}_before.json").read_text())
        point = (g["x"], g["y"]) if g.get("x") is not None else None
        run._path(f"steps/step_{i:02d}_after.png").write_bytes(await s.screenshot_png())
        after = await ob.page_state(s, point, [c[0] for c in before.get("chain", [])])
        if run.actions[i].type == "type" and g.get("path"):    # the grounded field's value: typing must land there
            after["target_value"] = await ob.field_value(s, g["path"])
        if any(op.get("op") == "reveal" for op in g.get("ops") or []):
            after["revealed"] = True    # the judge scrolled to reach the target: text out of view still counts
        run._path(f".obs/step_{i:02d}_after.json").write_text(json.dumps(after))
        away = [u for u in s.log.navigations if u.split("#")[0] != s.url]   # a #fragment is not "away"
        if away:
            await s.drain()     # popups and requests the page caused on its way out reach the log first
            raise PageError(f"the page navigated away ({away[0][:120]})", kind="navigated")
    except PageError as e:
        return _fail(state, "observe", e)
    cur["observed"] = True
    cur["timings"] = {**cur["timings"], "observe": round(time.perf_counter() - t0, 4)}
    return {"current": cur}


def _img(path: Path) -> np.ndarray | None:
    return decode_png(path.read_bytes()) if path.exists() else None


async def verify_node(run: JudgeRun, state: dict) -> dict:
    from metrics.visual import ocr

    cur, i, t0 = dict(state["current"]), state["index"], time.perf_counter()
    action, g = run.actions[i], cur.get("ground") or {}
    observed = cur.get("observed", False)
    files = {k: run.work / f"steps/step_{i:02d}_{k}.png" for k in ("before", "after")}
    obs = {k: json.loads(p.read_text()) if observed and (p := run.work / f".obs/step_{i:02d}_{k}.json").exists()
           else None for k in ("before", "after")}
    ref = run.task.checkpoint_path(i)
    pngs = lambda: (files["before"].read_bytes(), files["after"].read_bytes(),  # noqa: E731
                    ref.read_bytes() if ref and ref.exists() else None)
    ocr_after = (lambda: ocr(files["after"].read_bytes())) if observed else None
    v = await verify_step(action, executed=bool(cur.get("executed")) and observed, error=cur.get("error"),
                          before=obs["before"], after=obs["after"], img_b=_img(files["before"]) if observed else None,
                          img_a=_img(files["after"]) if observed else None, box=g.get("box"), judge=run.judge,
                          pngs=pngs, ocr_after=ocr_after, target_path=g.get("path"))
    step = {"index": i, "type": action.type, "description": action.description, "assertion": action.assertion,
            "rung": g.get("rung"), "element": g.get("element"), "path": g.get("path"), "x": g.get("x"),
            "y": g.get("y"), "confidence": g.get("confidence"), "tried": g.get("tried", []),
            "candidates": g.get("candidates", []), "decision": g.get("decision"),
            "model_calls": g.get("model_calls", 0), "executed": bool(cur.get("executed")) and observed,
            "passed": v.passed, "verdict_source": v.source, "verdict_reason": v.reason, "weak": bool(v.passed and v.weak),
            "error": cur.get("error"),
            "reached": observed, "before": str(files["before"].relative_to(run.work)) if observed else None,
            "after": str(files["after"].relative_to(run.work)) if observed else None,
            "timings": {**cur.get("timings", {}), "verify": round(time.perf_counter() - t0, 4)}}
    steps = state["steps"] + [step]
    _write_steps(run, steps)
    await run._group_end()
    log = _log_summary(run.session.log) if run.session is not None else state.get("page_log", {})
    return {"steps": steps, "index": i + 1, "current": {}, "page_log": log}


def _log_summary(log) -> dict:
    return {"crashed": bool(log.crashed), **{k: list(getattr(log, k)[:20]) for k in ("page_errors", "navigations", "dialogs", "popups")},
            **{f"{k}_count": len(getattr(log, k)) for k in ("console_errors", "blocked")}}


async def score_node(run: JudgeRun, state: dict) -> dict:
    """IFS over all actions (unreached ones fail), VFS over the initial state and the
    flagged steps (by action index), Final, backends and the page-error summary."""
    from metrics.interactive import final_score, summarize_steps
    from metrics.visual import OCRUnavailable, aggregate, score_pair, tesseract_version, unreached

    if state.get("page_failed") and run.session is not None:
        # the page failed mid-step: what it caused on the way (popups, requests) reaches the
        # log before the summary is taken, not only when the session closes after it
        with contextlib.suppress(Exception):
            await run.session.drain()
    steps = summarize_steps(state.get("steps", []), run.actions, state.get("page_failed"))
    passed = [s["passed"] for s in steps]
    embedder = _embedder(run.config.embedder)
    pairs = [("initial", None, run.task.initial_checkpoint_path, "initial.png" if state.get("exec") else None)]
    pairs += [(f"step_{i}", i, run.task.checkpoint_path(i), steps[i]["after"])
              for i, a in enumerate(run.actions) if a.visual_check]
    missing = [label for label, _, ref, _ in pairs if ref is None or not ref.exists()]

    async def one(label, i, ref, cand):
        if cand is None:
            return unreached(label, i, run.judge is not None)
        ref_png, cand_png = ref.read_bytes(), (run.work / cand).read_bytes()
        rub = await rubric_score(run.judge, ref_png, cand_png, label) if run.judge else None
        return await asyncio.to_thread(score_pair, label, i, ref_png, cand_png, decode_png(ref_png),
                                       decode_png(cand_png), embedder, rub)
    try:   # checkpoints in parallel: OCR is a subprocess, the rubric a network call
        scores = list(await asyncio.gather(*(one(*p) for p in pairs if p[0] not in missing)))
        ocr_name = tesseract_version()
    except OCRUnavailable as e:
        raise JudgeError(str(e)) from None
    vfs = aggregate(scores, missing)
    ifs_v, ifs_s = ifs_of(passed)
    final = final_score(ifs_v, vfs.vfs) if vfs.vfs is not None else ifs_v
    model = run.judge.spec if run.judge else None
    result = {
        "ifs": ifs_v, "ifs_steps": ifs_s, "vfs": vfs.vfs, "final": final, "exec": bool(state.get("exec")),
        "error": state.get("page_failed"),
        "steps": [{k: s.get(k) for k in ("index", "type", "description", "rung", "element", "executed", "passed",
                                          "verdict_source", "verdict_reason", "weak", "decision", "error")}
                  | {"n_candidates": len({c["path"] for c in s.get("candidates") or []})} for s in steps],
        "weak_steps": sum(bool(s.get("weak")) for s in steps),
        "vfs_components": {**vfs.to_dict(), "final_formula": "0.7*ifs + 0.3*vfs" if vfs.vfs is not None
                           else "ifs (no reference checkpoint for VFS)"},
        "backends": {"grounding": "ladder" + (f"+{model}" if model else ""),
                     "verifier": "rules" + (f"+{model}" if model else ""), "ocr": ocr_name,
                     "embedder": getattr(embedder, "name", run.config.embedder), "judge_model": model},
        "grounding": grounding_stats(steps),
        "judge_usage": run.judge.usage() if run.judge else None,
        "page_errors": {"fatal": state.get("page_failed"),
                        **(_log_summary(run.session.log) if run.session is not None else state.get("page_log", {}))},
    }
    _write_steps(run, steps)
    if run.artifacts is not None:
        run._path("result.json").write_text(json.dumps(result, indent=2))
    return {"result": result}


def _write_steps(run: JudgeRun, steps: list[dict]) -> None:
    if run.artifacts is not None:
        run._path("steps.jsonl").write_text("".join(json.dumps(s) + "\n" for s in steps))


def route(run: JudgeRun):
    def next_node(state: dict) -> str:
        return "score" if state.get("page_failed") or state.get("index", 0) >= len(run.actions) else "ground"
    return next_node


def build_graph(run: JudgeRun, checkpointer):
    """The compiled graph; node functions are wrapped to count executions and call `on_node`."""
    fns = {"load": load_node, "ground": ground_node, "act": act_node, "settle": settle_node,
           "observe": observe_node, "verify": verify_node, "score": score_node}

    def wrap(name, fn):
        async def node(state: JudgeState) -> dict:
            run.node_calls[name] += 1
            if run.on_node is not None:
                run.on_node(name, state)
            return await fn(run, state)
        return node

    g = StateGraph(JudgeState)
    for name, fn in fns.items():
        g.add_node(name, wrap(name, fn))
    g.add_edge(START, "load")
    g.add_conditional_edges("load", route(run), ["ground", "score"])
    for a, b in zip(NODES[1:5], NODES[2:6]):
        g.add_edge(a, b)
    g.add_conditional_edges("verify", route(run), ["ground", "score"])
    g.add_edge("score", END)
    return g.compile(checkpointer=checkpointer)


async def judge_page(task, html, *, browser, config, artifacts: Path | None = None, **kwargs) -> dict:
    """Judge `html` on interactive `task` (see the module docstring). Returns `ifs`,
    `ifs_steps`, `vfs`, `final`, `exec`, `steps`, `vfs_components`, `backends`,
    `page_errors`, `error`, `grounding`, `judge_usage`, `judge_run`; writes screenshots,
    `steps.jsonl` (and `trace.zip` with `trace=True`) into `artifacts` when given.
    Keyword arguments: `model` (a provider model object for the judge roles, overriding
    `config.judge_model`; resolved and closed here when not given), `judge_cache` (its
    `ResponseCache`; None: none), `meter` (the run's `CostMeter`), `score_key` (the run's
    scoring identity, part of the LangGraph thread key), `trace` (default `config.trace`),
    `checkpoint_dir`, `on_node`. Raises `JudgeError`."""
    return await JudgeRun(task, html, browser=browser, config=config, artifacts=artifacts, **kwargs).run()
