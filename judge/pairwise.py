"""`judge pairwise`: a judge model compares two candidate pages against the reference.

    judge pairwise --prefs FILE [--prefs-format auto|a2c|generic] --run [NAME=]RUN ...
                   --tasks TASKS_DIR --judge-model provider/model
                   [--dimensions overall,motion,appearance] [--frames 8] [--max-side 768]
                   [--out FILE] [--limit N] [--max-cost USD] [--base-url URL]

Comparisons are the (task, model pair) units of the preference file (`judge.prefs`;
a = alphabetically first model) whose two models both have a page
``pages/<task_id>/index.html`` in one of the ``--run`` directories and whose task is under
``--tasks``; the rest are skipped and counted. The model of a run's page is ``NAME`` from
``--run NAME=RUN``, else the ``model`` of the task's row in results.jsonl, else run.json's
``model``. ``--limit N`` keeps the first N comparisons (sorted by task, a, b).

Evidence (`agents.pairwise` builds the prompt). Animation: N = ``--frames`` instants
``t_k = i_k / fps`` with ``i_k`` evenly spaced over the task's frames (first and last
included, as the run filmstrips); the reference at those instants comes from the task's
video, each candidate is rendered under the virtual clock in one shared Browser, stepping
every frame as ``render_page`` does (rAF and timers see the same clock) but taking
screenshots only at the chosen instants. A page that fails part-way shows white after the
failure; the row's ``notes`` say so. Interactive: the reference checkpoints
(``checkpoints/initial.png`` and each action's checkpoint) for which both runs have the
matching screenshot (``artifacts/<task_id>/initial.png``, ``.../steps/step_<NN>_after.png``),
at most N, evenly chosen; without them the comparison is skipped with a note. Images are
downscaled so their longer side is at most ``--max-side`` pixels.

Each comparison is asked per dimension in both orders (``ab``: a is Candidate 1; ``ba``:
b is Candidate 1). Rows (docs/CONTRACTS.md) are appended to ``--out`` (default:
``pairwise.jsonl`` in the first run directory), one ``write`` per line: task_id, a, b,
dimension, order, verdict (the winning field a/b, or tie; null on failure), judge_model,
raw (the reply), plus answer (1/2/tie as shown), error, error_kind (parse | refusal |
provider), notes, frames, prompt_version, prompt_sha256, cached, cost_usd.

Calls go through the response cache (`agents.cache`; ``$WEBJUDGE_CACHE_DIR``) and a
``CostMeter`` (``--max-cost``). Re-running resumes: a (task, a, b, dimension, order,
judge_model) with a verdict is skipped; rows without one (failures) for units being judged
again are dropped first (the file is rewritten atomically) so every unit keeps one row.
One process per output file. Exit: 0 done; 1 provider failures (error rows, retried on
the next run), render failures or the budget ran out; 2 bad input or a rejected API key.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from agents import pairwise as prompt
from agents.cache import ResponseCache, cached_complete, prompt_sha256
from agents.pairwise import Evidence, EvidenceBuilder
from agents.providers import AuthError, GenerationConfig, ProviderError, UnknownModel, get_model
from agents.providers.cost import BudgetExceeded, CostMeter
from judge.browser.runtime import Browser, BrowserError
from judge.errors import InputError, reporting
from judge.files import atomic_write
from judge.prefs import FORMATS, load_prefs
from judge.tasks import Task, load_tasks
from judge.video import VideoError

DEFAULT_DIMENSIONS = ("overall", "motion", "appearance")
MAX_FRAMES = 32          # 3 x 32 images stays under Anthropic's 100-image limit
IN_FLIGHT = 4            # comparisons whose judge calls run while the next one is rendered


class PairwiseInputError(InputError, ValueError):
    """Bad input: printed as one line, exit code 2."""


@dataclass(frozen=True)
class Comparison:
    task_id: str
    a: str
    b: str


def parse_run_spec(spec: str) -> tuple[str, Path]:
    """``[NAME=]RUN`` as in `judge.prefs.load_runs` (NAME= only when no '/' precedes '=')."""
    if "=" in spec and "/" not in spec.split("=", 1)[0]:
        name, _, path = spec.partition("=")
        return name, Path(path)
    return "", Path(spec)


def load_run_pages(specs: list[str]) -> dict[tuple[str, str], Path]:
    """Candidate pages keyed by (model, task_id) from run directories (see module docstring)."""
    pages: dict[tuple[str, str], Path] = {}
    for spec in specs:
        name, run = parse_run_spec(spec)
        if not (run / "pages").is_dir():
            raise PairwiseInputError(f"{run / 'pages'}: run pages not found (--run)")
        meta, row_model = {}, {}
        try:
            if (run / "run.json").is_file():
                meta = json.loads((run / "run.json").read_text(encoding="utf-8"))
            if (run / "results.jsonl").is_file():  # the last row per task wins; a torn last line is ignored
                text = (run / "results.jsonl").read_text(encoding="utf-8")
                lines = text.splitlines() if text.endswith("\n") else text.splitlines()[:-1]
                for line in filter(str.strip, lines):
                    r = json.loads(line)
                    if r.get("task_id") and r.get("model"):
                        row_model[str(r["task_id"])] = str(r["model"])
        except (json.JSONDecodeError, AttributeError) as e:
            raise PairwiseInputError(f"{run}: run.json or results.jsonl is not valid JSON ({e})") from None
        for page in sorted((run / "pages").glob("*/index.html")):
            task = page.parent.name
            model = name or row_model.get(task) or meta.get("model")
            if not model:
                raise PairwiseInputError(f"{run}: model: no model name for the run (give --run NAME={run})")
            if (model, task) in pages:
                raise PairwiseInputError(f"{page}: model {model!r} task {task!r} also in {pages[(model, task)]}")
            pages[(str(model), task)] = page
    return pages


# ---------------------------------------------------------------- output rows

def unit_key(row: dict) -> tuple:
    """(task, a, b, dimension, order, judge_model) with a < b (order flipped with them)."""
    a, b, order = str(row["a"]), str(row["b"]), str(row["order"])
    if a > b:
        a, b, order = b, a, ("ba" if order == "ab" else "ab")
    return (str(row["task_id"]), a, b, str(row["dimension"]), order, str(row["judge_model"]))


def read_rows(path: Path) -> tuple[list[dict], bool]:
    """Rows of an output file and whether a torn (unterminated, invalid) last line was dropped."""
    if not path.is_file():
        return [], False
    text = path.read_text(encoding="utf-8")
    lines, rows = text.split("\n"), []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
            unit_key(rows[-1])
        except json.JSONDecodeError:
            if n == len(lines):  # the last line has no newline: an interrupted write
                return rows, True
            raise PairwiseInputError(f"{path}: row {n}: invalid JSON (not a pairwise.jsonl file?)") from None
        except (KeyError, TypeError):
            raise PairwiseInputError(f"{path}: row {n}: not a pairwise row (task_id, a, b, dimension, order, "
                                     "judge_model)") from None
    return rows, False


def prepare_output(path: Path, planned: set[tuple]) -> set[tuple]:
    """Units already judged; drops failure rows of `planned` units (atomic rewrite)."""
    rows, torn = read_rows(path)
    keep = [r for r in rows if r.get("verdict") is not None or unit_key(r) not in planned]
    if torn or len(keep) != len(rows):
        atomic_write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in keep))
    return {unit_key(r) for r in keep if r.get("verdict") is not None}


class RowWriter:
    """Append-only JSONL: each row is one `os.write` on an O_APPEND descriptor."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, row: dict) -> None:
        data = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
        while data:
            data = data[os.write(self.fd, data):]

    def close(self) -> None:
        os.close(self.fd)


# ---------------------------------------------------------------- the run

@dataclass
class Judging:
    model: object
    cache: ResponseCache
    meter: CostMeter
    writer: RowWriter
    config: GenerationConfig = field(default_factory=lambda: GenerationConfig(temperature=0.0))
    counts: Counter = field(default_factory=Counter)


async def judge_unit(j: Judging, comp: Comparison, dim: str, order: str, ev: Evidence) -> None:
    """Ask one (dimension, order) question and append its row (nothing on budget exhaustion)."""
    first, second = (comp.a, comp.b) if order == "ab" else (comp.b, comp.a)
    messages = prompt.build_messages(dim, ev.labels, ev.reference, ev.candidates[first], ev.candidates[second],
                                     ev.kind)
    row = {"task_id": comp.task_id, "a": comp.a, "b": comp.b, "dimension": dim, "order": order, "verdict": None,
           "judge_model": j.model.spec, "raw": None, "answer": None, "error": None, "error_kind": None,
           "notes": ev.notes, "frames": len(ev.labels), "prompt_version": prompt.PROMPT_VERSION,
           "prompt_sha256": prompt_sha256(messages), "cached": False, "cost_usd": None}
    try:
        c = await cached_complete(j.model, messages, j.config, j.cache, j.meter)
    except BudgetExceeded:
        j.counts["budget"] += 1
        return
    except (AuthError, UnknownModel):
        raise
    except ProviderError as e:
        row.update(error=f"{type(e).__name__} after {e.attempts} attempt(s): {e}", error_kind="provider")
        j.counts["provider"] += 1
        j.writer.write(row)
        return
    row.update(raw=c.text, cached=c.cached, cost_usd=c.cost_usd)
    if c.filtered:
        row.update(error=f"the judge declined ({c.stop_reason}: {c.raw_stop_reason})", error_kind="refusal")
    else:
        answer, err = prompt.parse_verdict(c.text)
        row.update(answer=answer, verdict=prompt.to_field(answer, order), error=err, error_kind=err and "parse")
    j.counts[row["error_kind"] or "verdict"] += 1
    j.writer.write(row)


async def _reap(pending: set) -> set:
    """Wait for at least one judge call; re-raise the first run-level error (auth, unknown model)
    after retrieving every finished call's exception."""
    finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    errors = [f.exception() for f in finished if not f.cancelled() and f.exception() is not None]
    if errors:
        for f in pending:
            f.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        raise errors[0]
    return pending


def plan(args, prefs, tasks: dict[str, Task], pages: dict) -> tuple[list[tuple[Comparison, dict]], Counter]:
    """Judgeable comparisons (with their pages) and skip reasons."""
    skipped: Counter = Counter()
    out = []
    for comp in sorted({Comparison(r.task_id, r.a, r.b) for r in prefs.ratings}, key=lambda c: (c.task_id, c.a, c.b)):
        missing = [m for m in (comp.a, comp.b) if (m, comp.task_id) not in pages]
        if comp.task_id not in tasks:
            skipped[f"task {comp.task_id!r} not under --tasks"] += 1
        elif missing:
            skipped[f"no page for model {missing[0]!r}"] += 1
        else:
            out.append((comp, {m: pages[(m, comp.task_id)] for m in (comp.a, comp.b)}))
    return out[:args.limit] if args.limit is not None else out, skipped


async def pairwise(args: argparse.Namespace, *, browser: Browser | None = None, model=None) -> tuple[int, dict]:
    """Run `judge pairwise` (see module docstring); returns (exit code, summary).
    `browser` / `model` let a caller share a Browser or pass a resolved model."""
    dims = [d.strip() for d in args.dimensions.split(",") if d.strip()]
    bad = [d for d in dims if d not in prompt.RUBRICS]
    if not dims or bad:
        raise PairwiseInputError(f"--dimensions: unknown {bad or 'empty'} (known: {', '.join(prompt.RUBRICS)})")
    if not 1 <= args.frames <= MAX_FRAMES:
        raise PairwiseInputError(f"--frames: must be between 1 and {MAX_FRAMES}")
    prefs = load_prefs(args.prefs, args.prefs_format)
    tasks = {t.id: t for t in load_tasks([args.tasks])}
    pages = load_run_pages(args.run)
    out = Path(args.out) if args.out else parse_run_spec(args.run[0])[1] / "pairwise.jsonl"
    todo, skipped = plan(args, prefs, tasks, pages)
    if not todo:
        raise PairwiseInputError(f"{args.prefs}: no comparison can be judged ({dict(skipped) or 'empty'})")
    model = model or get_model(args.judge_model, base_url=args.base_url)
    spec = model.spec
    planned = {(c.task_id, c.a, c.b, d, o, spec) for c, _ in todo for d in dims for o in ("ab", "ba")}
    out.parent.mkdir(parents=True, exist_ok=True)
    done = prepare_output(out, planned)
    own = browser is None
    browser = browser or await Browser().start()
    j = Judging(model, ResponseCache(), CostMeter(args.max_cost), RowWriter(out))
    builder = EvidenceBuilder(browser, args.frames, args.max_side)
    pending: set[asyncio.Future] = set()
    try:
        for comp, cpages in todo:
            units = [(d, o) for d in dims for o in ("ab", "ba") if (comp.task_id, comp.a, comp.b, d, o, spec) not in done]
            j.counts["resumed"] += 2 * len(dims) - len(units)
            if j.counts["budget"]:
                j.counts["not_asked"] += len(units)
                continue
            if not units:
                continue
            builder.forget(comp.task_id)
            try:
                ev = await builder.build(tasks[comp.task_id], cpages)
            except BrowserError as e:
                await browser.restart()
                j.counts["render_error"] += 1
                print(f"judge pairwise: render failure on {comp}: {e}", file=sys.stderr)
                continue
            except VideoError as e:
                ev = f"reference video unreadable ({e})"
            if isinstance(ev, str):
                skipped[ev] += 1
                continue
            j.counts["compared"] += 1
            pending |= {asyncio.ensure_future(judge_unit(j, comp, d, o, ev)) for d, o in units}
            while len(pending) > IN_FLIGHT * 2 * len(dims):
                pending = await _reap(pending)
        while pending:
            pending = await _reap(pending)
    finally:
        for f in pending:
            f.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        j.writer.close()
        await model.aclose()
        if own:
            await browser.close()
    summary = summarize([r for r in read_rows(out)[0] if unit_key(r) in planned], dims)
    summary.update(out=str(out), judge_model=spec, comparisons=len(todo), skipped=dict(skipped),
                   counts=dict(j.counts), cost=j.meter.summary())
    failed = j.counts["provider"] + j.counts["render_error"] + j.counts["budget"]
    return (1 if failed else 0), summary


def summarize(rows: list[dict], dims: list[str]) -> dict:
    """Per dimension: verdict counts, failures, share of decisive verdicts for the model
    shown first, and swap consistency (units with valid verdicts in both orders that agree)."""
    per: dict = {}
    for dim in dims:
        rs = [r for r in rows if r["dimension"] == dim]
        by_unit: dict = defaultdict(dict)    # (task, a, b, judge) -> order -> verdict, a < b
        for r in rs:
            k = unit_key(r)
            if r.get("verdict") is not None:
                v = str(r["verdict"]).lower()
                by_unit[k[:3] + k[5:]][k[4]] = v if v == "tie" or k[1] == r["a"] else {"a": "b", "b": "a"}[v]
        decisive = [(o, v) for u in by_unit.values() for o, v in u.items() if v != "tie"]
        both = [u for u in by_unit.values() if len(u) == 2]
        per[dim] = {"rows": len(rs), "verdicts": sum(map(len, by_unit.values())),
                    "ties": sum(v == "tie" for u in by_unit.values() for v in u.values()),
                    "failed": sum(r.get("verdict") is None for r in rs),
                    "first_shown_rate": (sum((o == "ab") == (v == "a") for o, v in decisive) / len(decisive)
                                         if decisive else None),
                    "swap_units": len(both),
                    "swap_consistency": sum(u["ab"] == u["ba"] for u in both) / len(both) if both else None}
    return {"dimensions": per}


def render_summary(s: dict) -> str:
    f = lambda x: "—" if x is None else f"{x:.2f}"  # noqa: E731
    lines = [f"judge pairwise: {s['judge_model']} on {s['counts'].get('compared', 0)} of {s['comparisons']} "
             f"comparisons (others already judged or skipped) -> {s['out']}"]
    lines += [f"  skipped {n}: {why}" for why, n in s["skipped"].items()]
    lines.append(f"{'dimension':<12}{'rows':>6}{'verdicts':>9}{'ties':>6}{'failed':>7}{'1st-shown':>10}"
                 f"{'swap units':>11}{'swap-consistent':>16}")
    for d, x in s["dimensions"].items():
        lines.append(f"{d:<12}{x['rows']:>6}{x['verdicts']:>9}{x['ties']:>6}{x['failed']:>7}"
                     f"{f(x['first_shown_rate']):>10}{x['swap_units']:>11}{f(x['swap_consistency']):>16}")
    c, k = s["cost"], s["counts"]
    lines.append(f"this run: {k.get('verdict', 0)} verdicts, {k.get('parse', 0)} unparseable, "
                 f"{k.get('refusal', 0)} refusals, {k.get('resumed', 0)} already judged; cost ${c['spent_usd']:.4f} "
                 f"({c['calls']} calls, {c['cached_calls']} cached, ${c['saved_usd']:.4f} saved"
                 f"{', ' + str(c['unpriced_calls']) + ' unpriced' if c['unpriced_calls'] else ''})")
    if k.get("provider"):
        lines.append(f"error: {k['provider']} judge calls failed at the provider (error rows; re-run to retry)")
    if k.get("render_error"):
        lines.append(f"error: {k['render_error']} comparisons could not be rendered (browser failure)")
    if k.get("budget"):
        lines.append(f"error: --max-cost ${c['max_cost_usd']} used up: {k['budget'] + k.get('not_asked', 0)} "
                     "questions not asked (re-run with a larger budget to resume)")
    return "\n".join(lines)


def _make_model(args):
    """The judge model (a seam for tests)."""
    return get_model(args.judge_model, base_url=args.base_url)


def run(args: argparse.Namespace) -> int:
    # bad prefs / tasks / models: exit 2 through the boundary (`reporting` below)
    try:
        code, summary = asyncio.run(pairwise(args, model=_make_model(args)))
    except (AuthError, BrowserError) as e:   # the run stops part-way: "aborted" (exit 2, as documented)
        print(f"judge pairwise: aborted: {e}", file=sys.stderr)
        return 2
    print(render_summary(summary), flush=True)
    return code


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("pairwise", help="judge-model pairwise verdicts on the comparisons of a prefs file",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--prefs", required=True, help="preference file (CSV or JSONL; Animation2Code or generic)")
    p.add_argument("--prefs-format", choices=FORMATS, default="auto")
    p.add_argument("--run", action="extend", nargs="+", required=True, metavar="[NAME=]RUN",
                   help="run directory with pages/<task_id>/index.html, optionally named (repeatable)")
    p.add_argument("--tasks", type=Path, required=True, help="folder of tasks (searched recursively)")
    p.add_argument("--judge-model", required=True, metavar="provider/model")
    p.add_argument("--dimensions", default=",".join(DEFAULT_DIMENSIONS),
                   help=f"comma-separated, from {', '.join(prompt.RUBRICS)} (default: all)")
    p.add_argument("--frames", type=int, default=8, help=f"instants per video, 1..{MAX_FRAMES} (default 8)")
    p.add_argument("--max-side", type=int, default=768, help="downscale images to this longer side (default 768)")
    p.add_argument("--out", type=Path, default=None, help="output JSONL (default: FIRST_RUN/pairwise.jsonl)")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="judge only the first N comparisons")
    p.add_argument("--max-cost", type=float, default=None, metavar="USD", help="stop new calls past this spend")
    p.add_argument("--base-url", default=None, help="OpenAI-compatible server URL (e.g. a local vLLM)")
    p.set_defaults(func=reporting("judge pairwise")(run))
    return p
