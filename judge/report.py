"""`judge report RUN [RUN…]`: a leaderboard across runs and an HTML report per run.

- `load_run(path)`: run.json, the last row per task, and `judge.runs.summarize` over the
  run's task list (Exec %, appearance, temporal, Static % — lower is better —, IFS,
  IFS-steps, VFS, Final, with counts; generation failures scored, judge errors and
  missing tasks counted apart).
- `leaderboard(runs)`: one row per run, ranked by `score` (per task mean(appearance,
  temporal) for animation, Final for interactive; see `judge.runs.task_score`);
  `format_table` (terminal) and `markdown_table` print it.
- `write_html(run)`: `RUN/report.html`, self-contained (opens from disk, fetches nothing):
  images referenced relative to the run directory, or inlined as data URIs with
  `inline=True` (`--inline`); plots are inline SVG. Per task: scores, the family
  scorer's section (`judge.scorers`: the reference and candidate filmstrips for an
  animation; the initial state and per-step before/after screenshots with verdicts and
  grounding rungs for an interactive task), links to `trace.zip` and the generated page.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from judge.html import h, image_src, png_size  # noqa: F401 (png_size re-exported: tests use it)
from judge.runs import (COLUMNS, RunDir, RunError, atomic_write, latest as latest_rows, read_results, summarize,
                        task_score)
from judge.scorers import FAMILIES, get_scorer


def load_run(path: Path | str) -> dict:
    """A run directory read back: meta (run.json), latest rows, summary over its task list."""
    run = RunDir(path)
    if not run.results_path.is_file() and not run.meta_path.is_file():
        raise FileNotFoundError(f"{run.path}: not a run directory (no results.jsonl or run.json)")
    meta = run.read_meta() or {}
    rows, bad = read_results(run.results_path)
    latest = latest_rows(rows)
    ids = meta.get("tasks") or list(latest)
    return {"run": run, "meta": meta, "rows": rows, "latest": latest, "task_ids": ids,
            "summary": summarize(latest, ids), "unreadable_lines": bad,
            "name": meta.get("name") or run.path.name, "model": meta.get("model") or
            next((r.get("model") for r in rows if r.get("model")), "?")}


# ---- tables --------------------------------------------------------------------------------
def _cell(v: Any, kind: str = "num") -> str:
    if v is None:
        return "–"
    return f"{v:.1f}" if kind == "pct" else f"{v:.3f}"


def _used_columns(metric_dicts: list[dict]) -> list[tuple[str, str, str]]:
    return [c for c in COLUMNS if any(d.get(c[0]) is not None for d in metric_dicts)]


def summary_rows(summary: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-family summary table (plus an `all` row)."""
    fams = summary["families"]
    cols = _used_columns(list(fams.values())) or COLUMNS[:4]
    header = ["family", "tasks", "scored", *[c[1] for c in cols], "score", "gen. fail", "judge err"]
    body = []
    for name, f in [*fams.items(), ("all", {**summary["overall"], "tasks": summary["tasks"],
                                             "scored": summary["scored"], "judge_errors": summary["judge_errors"],
                                             "generation_failures": len(summary["generation_failures"])})]:
        body.append([name, str(f["tasks"]), str(f["scored"]), *[_cell(f.get(c[0]), c[2]) for c in cols],
                     _cell(f.get("score")), str(f.get("generation_failures", 0)), str(f.get("judge_errors", 0))])
    return header, body


def leaderboard(runs: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Header and rows, one per run, best score first."""
    ranked = sorted(runs, key=lambda r: -(r["summary"]["overall"]["score"] if r["summary"]["overall"]["score"]
                                          is not None else -math.inf))
    cols = _used_columns([r["summary"]["overall"] for r in runs]) or COLUMNS[:4]
    header = ["#", "run", "model", "tasks", "scored", "score", *[c[1] for c in cols], "gen. fail", "judge err",
              "missing"]
    body = []
    for i, r in enumerate(ranked, 1):
        s, o = r["summary"], r["summary"]["overall"]
        body.append([str(i), r["name"], r["model"], str(s["tasks"]), str(s["scored"]), _cell(o["score"]),
                     *[_cell(o.get(c[0]), c[2]) for c in cols], str(len(s["generation_failures"])),
                     str(s["judge_errors"]), str(s["missing"])])
    return header, body


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(x) for x in col) for col in zip(header, *rows)]
    fmt = lambda cells: "  ".join(c.ljust(w) if i in (0, 1, 2) and not c.replace(".", "").isdigit() else c.rjust(w)
                                  for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([fmt(header), "  ".join("-" * w for w in widths), *map(fmt, rows)])


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    esc = lambda c: c.replace("|", "\\|")
    lines = ["| " + " | ".join(map(esc, header)) + " |",
             "|" + "|".join("---" if i < 3 else "---:" for i in range(len(header))) + "|"]
    return "\n".join(lines + ["| " + " | ".join(map(esc, r)) + " |" for r in rows]) + "\n"


def format_summary(summary: dict, limit: int = 20) -> str:
    """The end-of-run summary: the family table, then failures listed by task."""
    out = [format_table(*summary_rows(summary))]
    for title, items, key in (("generation failures (scored 0)", summary["generation_failures"], "error"),
                              ("judge errors (not scored; retried by the next run)", summary["judge_error_list"],
                               "judge_error")):
        if items:
            out.append(f"{title}: {len(items)}")
            out += [f"  {it['task_id']}: {str(it[key])[:200]}" for it in items[:limit]]
            if len(items) > limit:
                out.append(f"  … {len(items) - limit} more in summary.json")
    if summary["missing_list"]:
        out.append(f"not run: {len(summary['missing_list'])} ({', '.join(summary['missing_list'][:limit])})")
    out += weak_note(summary)
    blocked = summary.get("blocked_request_tasks") or []
    if blocked:   # hook (judge.libs): pages whose requests were blocked (rows: blocked_requests)
        out.append(f"tasks with blocked requests: {len(blocked)} ({', '.join(blocked[:limit])}"
                   + (", …" if len(blocked) > limit else "") + ")")
    return "\n".join(out)


def weak_note(summary: dict) -> list[str]:
    """One line per family whose passed steps include weak evidence (pixels changed only)."""
    return [f"{fam}: {f['weak_steps']} passed step(s) rest only on weak evidence (something visible changed; "
            f"no rule could check the assertion itself)" for fam, f in summary["families"].items() if f.get("weak_steps")]


# ---- HTML ---------------------------------------------------------------------------------
_h = h


def _table_html(header: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{_h(c)}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{_h(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def histogram_svg(values: list[float], label: str, bins: int = 10, w: int = 260, h: int = 120) -> str:
    """An inline SVG histogram of values in [0, 1]."""
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, max(0, int(float(v) * bins)))] += 1
    top, bw, ph = max(counts) or 1, (w - 30) / bins, h - 34
    bars = "".join(
        f'<rect x="{25 + i * bw + 1:.1f}" y="{10 + ph * (1 - c / top):.1f}" width="{bw - 2:.1f}" '
        f'height="{ph * c / top:.1f}" fill="#5b6ee1"><title>{i / bins:.1f}–{(i + 1) / bins:.1f}: {c}</title></rect>'
        for i, c in enumerate(counts))
    axis = (f'<line x1="25" y1="{10 + ph}" x2="{w - 5}" y2="{10 + ph}" stroke="#999"/>'
            f'<text x="25" y="{h - 10}" font-size="10">0</text><text x="{w - 12}" y="{h - 10}" font-size="10">1</text>'
            f'<text x="2" y="18" font-size="10">{top}</text>')
    mean = sum(values) / len(values)
    return (f'<figure class="plot"><svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
            f'aria-label="{_h(label)} distribution">{bars}{axis}</svg><figcaption>{_h(label)}: n={len(values)}, '
            f'mean {mean:.3f}</figcaption></figure>')


def _plots(rows: list[dict]) -> str:
    figs = []
    for fld, header in [("score", "score"), *[(c[0], c[1]) for c in COLUMNS if c[2] == "num"]]:
        vals = [task_score(r) if fld == "score" else r.get(fld) for r in rows if not r.get("judge_error")]
        vals = [float(v) for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if vals:
            figs.append(histogram_svg(vals, header))
    return f'<div class="plots">{"".join(figs)}</div>' if figs else ""


def _task_html(run: RunDir, tid: str, row: dict | None, inline: bool) -> str:
    if row is None:
        return f'<section class="task missing" data-task="{_h(tid)}"><h3>{_h(tid)}</h3><p class="muted">not run</p></section>'
    cls = "judge-error" if row.get("judge_error") else "failed" if row.get("error") else ""
    cols = [c for c in COLUMNS if c[0] in row]
    scores = _table_html(["score", *[c[1].replace(" %", "") for c in cols]],
                         [[_cell(task_score(row)), *[_h(row[c[0]]) if isinstance(row[c[0]], bool) or row[c[0]] is None
                                                     else _cell(row[c[0]]) for c in cols]]], "scores")
    notes = []
    if row.get("judge_error"):
        notes.append(f'<p class="warn">judge error (not scored; retried by the next run): {_h(row["judge_error"])}</p>')
    if row.get("error"):
        notes.append(f'<p class="bad">{_h(row.get("error_kind") or "error")} failure: {_h(row["error"])}</p>')
    links = []
    if run.page_path(tid).is_file():
        links.append(f'<a href="{_h(run.page_path(tid).relative_to(run.path).as_posix())}">generated page</a>')
    trace = run.artifacts_dir(tid) / "trace.zip"
    if trace.is_file():
        links.append(f'<a href="{_h(trace.relative_to(run.path).as_posix())}">trace.zip</a> '
                     f'<span class="muted">(<code>playwright show-trace {_h(trace)}</code>)</span>')
    from judge.libs import page_block   # libraries served, requests blocked, page errors
    notes += [f'<p class="muted libs">{_h(line.strip())}</p>' for line in page_block(row)]
    media = (get_scorer(row["family"]).report_section(row, run.artifacts_dir(tid), run.path, inline)
             if row.get("family") in FAMILIES else "")
    backends = ", ".join(f"{k}={v}" for k, v in (row.get("backends") or {}).items() if v)
    raw = _h(json.dumps({k: v for k, v in row.items() if k not in ("steps",)}, indent=1, default=str)[:20000])
    return (f'<section class="task {cls}" id="task-{_h(tid)}" data-task="{_h(tid)}"><h3>{_h(tid)} '
            f'<span class="muted">{_h(row.get("family"))}{" · " + _h(backends) if backends else ""}</span></h3>{scores}{"".join(notes)}'
            f'<p>{" · ".join(links)}</p>{media}<details><summary>row</summary><pre>{raw}</pre></details></section>')


def write_html(run_info: dict, inline: bool = False) -> Path:
    """Write `RUN/report.html` for a run loaded by `load_run`; returns its path."""
    run: RunDir = run_info["run"]
    meta, s = run_info["meta"], run_info["summary"]
    template = Path(__file__).with_name("report_template.html").read_text(encoding="utf-8")
    title = f"webjudge report: {run_info['name']} ({run_info['model']})"
    info = [f"model <code>{_h(run_info['model'])}</code>", f"judge model <code>{_h(meta.get('judge_model'))}</code>",
            f"backends <code>{_h(json.dumps(meta.get('backends', {})))}</code>",
            f"versions <code>{_h(json.dumps(meta.get('versions', {})))}</code>",
            f"created {_h(meta.get('created'))}, updated {_h(meta.get('updated'))}"]
    lists = []
    for title_, items, key in (("Generation failures (scored 0)", s["generation_failures"], "error"),
                               ("Judge errors (not scored)", s["judge_error_list"], "judge_error")):
        if items:
            lis = "".join(f'<li><a href="#task-{_h(i["task_id"])}">{_h(i["task_id"])}</a>: {_h(i[key])}</li>'
                          for i in items)
            lists.append(f"<h2>{title_}: {len(items)}</h2><ul>{lis}</ul>")
    rows = [run_info["latest"][t] for t in run_info["task_ids"] if t in run_info["latest"]]
    body = (f"<h1>{_h(title)}</h1><p class=\"muted\">{' · '.join(info)}</p>"
            f"<h2>Summary</h2>{_table_html(*summary_rows(s), 'summary')}"
            f"{''.join(f'<p class=muted>{_h(x)}</p>' for x in weak_note(s))}{''.join(lists)}"
            f"<h2>Score distributions</h2>{_plots(rows)}<h2>Tasks</h2>"
            + "".join(_task_html(run, t, run_info["latest"].get(t), inline) for t in run_info["task_ids"]))
    atomic_write(run.report_path, template.replace("{{title}}", _h(title)).replace("{{body}}", body))
    return run.report_path


# ---- CLI --------------------------------------------------------------------------------
def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("report", help="leaderboard across runs and an HTML report per run")
    p.add_argument("runs", nargs="+", type=Path, metavar="RUN", help="run directories (from judge evaluate)")
    p.add_argument("--markdown", type=Path, default=None, metavar="FILE", help="also write the leaderboard as Markdown")
    p.add_argument("--json", action="store_true", help="print the summaries as JSON instead of tables")
    p.add_argument("--no-html", action="store_true", help="do not write RUN/report.html")
    p.add_argument("--inline", action="store_true", help="inline images as data URIs (one portable file)")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from judge.errors import UsageError

    runs = []
    for path in args.runs:
        try:
            runs.append(load_run(path))
        except (OSError, RunError) as e:
            raise UsageError(str(e)) from None
    header, rows = leaderboard(runs)
    if args.json:
        print(json.dumps({r["name"]: r["summary"] for r in runs}, indent=2, default=str))
    else:
        print(format_table(header, rows))
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown_table(header, rows), encoding="utf-8")
        print(f"leaderboard (Markdown): {args.markdown}")
    from judge.libs import page_block
    for r in runs:   # hook (judge.libs): one short block per task with blocked requests / libraries / page errors
        for tid in r["task_ids"]:
            block = page_block(r["latest"][tid]) if tid in r["latest"] else []
            if block:
                print(f"{r['name']} / {tid}:")
                print("\n".join(block))
    if not args.no_html:
        for r in runs:
            print(f"report: {write_html(r, inline=args.inline)}")
    return 0
