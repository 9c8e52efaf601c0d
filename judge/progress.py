"""What `judge evaluate` shows while it runs: a progress bar with ETA on a TTY (rich,
redrawn in place), one plain line per task otherwise, and the one-line description of a
result row. Rows scored on Ray nodes (`node.id` set) add the nodes in use: a count on
the bar, the node on each plain line."""
from __future__ import annotations

import sys
import time
from typing import Any

from judge.summaries import HEADLINE


class Progress:
    """Progress on stderr: a redrawn bar with ETA on a TTY, else one plain line per task.
    `close()` ends the bar (also when a run stops early)."""

    def __init__(self, total: int, stream=None, tty: bool | None = None, width: int = 28):
        self.total, self.done, self.judge_errors, self.width = total, 0, 0, width
        self.nodes: set[str] = set()
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.t0 = time.monotonic()
        self._bar = self._task = None
        if self.tty:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            console = Console(file=self.stream, force_terminal=True, width=100, highlight=False)
            self._bar = Bar(TextColumn("judging"), BarColumn(bar_width=width), MofNCompleteColumn(),
                            TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                            TextColumn("{task.fields[errors]}"), console=console, auto_refresh=False,
                            transient=False)
            self._task = self._bar.add_task("judging", total=total, errors="")
            self._bar.start()

    @staticmethod
    def _clock(s: float) -> str:
        s = int(round(s))
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"

    def eta(self) -> str:
        if not self.done:
            return "?"
        return self._clock((time.monotonic() - self.t0) / self.done * (self.total - self.done))

    def update(self, row: dict) -> None:
        self.done += 1
        self.judge_errors += bool(row.get("judge_error"))
        node = (row.get("node") or {}).get("id")
        if node:
            self.nodes.add(node)
        if self._bar is not None:
            errors = f"{self.judge_errors} judge error(s)" if self.judge_errors else ""
            if self.nodes:
                errors = f"{len(self.nodes)} node(s) " + errors
            self._bar.update(self._task, advance=1, errors=errors)
            self._bar.refresh()
            if self.done == self.total:
                self.close()
        else:
            where = f" on {row['node'].get('host')}/{node[:8]}" if node else ""
            self.stream.write(f"[{self.done}/{self.total}] {row['task_id']}: {describe(row)}  "
                              f"({row.get('wall_s', 0):.1f} s{where}, ETA {self.eta()})\n")
            self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            bar, self._bar = self._bar, None
            bar.stop()


def describe(row: dict) -> str:
    """One short line for a result row."""
    if row.get("judge_error"):
        return f"judge error: {row['judge_error'][:160]}"
    parts = [f"{k}={_fmt(row.get(k))}" for k in HEADLINE.get(row.get("family"), ()) if k in row]
    if row.get("error"):
        parts.append(f"error: {str(row['error'])[:120]}")
    return " ".join(parts)


def _fmt(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)
