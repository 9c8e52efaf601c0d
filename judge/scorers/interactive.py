"""The interactive family: the LangGraph judge (`agents.judge_graph`) replays the task's
actions on the candidate and scores IFS / IFS-steps / VFS / Final; the report shows a
per-step table (action, verdict, grounding rung, before/after screenshots).

An interactive judgment holds one of the run's browser slots for its whole length (a
page stays open across its steps); the judge model, its cache and the cost meter come
from the scoring context.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from judge.html import h, image_src, read_jsonl
from judge.records import ScoreConfig
from judge.tasks import Task


class InteractiveScorer:
    family = "interactive"
    fields = (("ifs", "IFS", "num"), ("ifs_steps", "IFS-steps", "num"), ("vfs", "VFS", "num"), ("final", "Final", "num"))
    holds_browser = True
    uses_pool = False
    needs_judge_model = True
    code = ("judge.scorers.interactive", "agents", "judge.browser", "judge.video", "metrics")
    replays = True

    async def backends(self, config: ScoreConfig, pool=None) -> dict:
        """The embedder VFS uses (as the animation scorer's: the same name for the same config)."""
        from agents.judge_graph import _embedder

        return {"embedder": (await asyncio.to_thread(_embedder, config.embedder)).name}

    async def score(self, task: Task, html: bytes | None, ctx, artifacts: Path | None = None) -> dict:
        from agents.judge_graph import judge_page

        browser = await ctx.ensure_browser()
        return await judge_page(task, html, browser=browser, config=ctx.config, artifacts=artifacts,
                                model=ctx.judge_model, judge_cache=ctx.judge_cache, meter=ctx.meter,
                                score_key=ctx.key)

    def task_score(self, row: dict) -> float | None:
        """Final."""
        v = row.get("final")
        return float(v) if isinstance(v, (int, float)) else None

    def text(self, row: dict) -> str:
        return (f"{row['task_id']}: ifs={row['ifs']:.3f} ifs_steps={row['ifs_steps']:.3f} vfs={row['vfs']:.3f} "
                f"final={row['final']:.3f}" + (f" weak_steps={row['weak_steps']}" if row.get("weak_steps") else ""))

    def report_section(self, row: dict, artifacts: Path, base: Path, inline: bool) -> str:
        """Per-step table: action, verdict, grounding rung, before/after screenshots."""
        art = artifacts
        if (art / "steps.jsonl").is_file():
            steps = read_jsonl(art / "steps.jsonl")
        else:
            steps = [s for s in row.get("steps") or [] if isinstance(s, dict)]
        out = []
        initial = art / "initial.png"
        if initial.is_file():
            out.append(f'<tr><td>–</td><td class="l">initial state</td><td></td><td></td><td></td>'
                       f'<td><img alt="initial state" src="{image_src(initial, base, inline)}"></td><td></td></tr>')
        for i, st in enumerate(steps):
            k = st.get("index", st.get("step", i))
            imgs = []
            for side in ("before", "after"):
                p = step_image(art, st, k, side)
                imgs.append(f'<img alt="step {h(k)} {side}" src="{image_src(p, base, inline)}">' if p else "–")
            action = st.get("action")
            desc = st.get("description") or (action.get("description") if isinstance(action, dict) else action) or ""
            verdict = st.get("passed", st.get("verdict"))
            cls = "ok" if verdict in (True, "pass", "yes") else "bad" if verdict in (False, "fail", "no") else ""
            rest = {kk: v for kk, v in st.items() if kk not in _STEP_SHOWN and isinstance(v, (str, int, float, bool))}
            main = [kk for kk in _STEP_MAIN if kk in rest] or list(rest)[:4]
            kv = "<br>".join(f"{h(kk)}: {h(str(rest[kk])[:240])}" for kk in main)
            more = "<br>".join(f"{h(kk)}: {h(str(v)[:240])}" for kk, v in rest.items() if kk not in main)
            kv += f"<details><summary>more</summary>{more}</details>" if more else ""
            shown = {True: "pass", False: "fail", None: "–"}.get(verdict, verdict) \
                if isinstance(verdict, (bool, type(None))) else verdict
            out.append(f'<tr><td>{h(k)}</td><td class="l">{h(desc)}</td><td class="{cls}">{h(shown)}</td>'
                       f'<td>{h(st.get("rung") or "–")}</td><td>{imgs[0]}</td><td>{imgs[1]}</td><td class="kv">{kv}</td></tr>')
        if not out:
            return '<p class="muted">no step records</p>'
        return ('<table class="steps"><thead><tr><th>#</th><th class="l">action</th><th>passed</th><th>grounding</th>'
                f'<th class="l">before</th><th class="l">after</th><th class="l">details</th></tr></thead>'
                f'<tbody>{"".join(out)}</tbody></table>')


_STEP_SHOWN = ("index", "step", "description", "action", "verdict", "passed", "rung", "before", "after")
_STEP_MAIN = ("assertion", "verdict_source", "verdict_reason", "error", "element")  # shown; the rest folded


def step_image(art: Path, st: dict, k: Any, side: str) -> Path | None:
    """The step's screenshot: the path the judge recorded (relative to the artifacts
    folder), else `steps/step_<kk>_<side>.png` or `step_<k>_<side>.png`."""
    names = [st[side]] if isinstance(st.get(side), str) else []
    if isinstance(k, int):
        names += [f"steps/step_{k:02d}_{side}.png", f"step_{k}_{side}.png", f"step_{k:02d}_{side}.png"]
    for name in names:
        p = (art / name).resolve()
        if p.is_file() and p.is_relative_to(art.resolve()):
            return p
    return None


SCORER = InteractiveScorer()
