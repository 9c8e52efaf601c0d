"""What `judge evaluate` shows while it runs: a progress bar with ETA on a TTY (redrawn), one
plain line per task otherwise, and the one-line description of a result row."""
from __future__ import annotations

import sys
import time
from typing import Any

from judge.summaries import HEADLINE


class Progress:
    """Progress on stderr: a redrawn bar with ETA on a TTY, else one plain line per task."""

    def __init__(self, total: int, stream=None, tty: bool | None = None, width: int = 28):
        self.total, self.done, self.judge_errors, self.width = total, 0, 0, width
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.t0 = time.monotonic()

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
        if self.tty:
            fill = int(self.width * self.done / max(1, self.total))
            extra = f"  {self.judge_errors} judge error(s)" if self.judge_errors else ""
            self.stream.write(f"\r[{'#' * fill}{'.' * (self.width - fill)}] {self.done}/{self.total}  "
                              f"elapsed {self._clock(time.monotonic() - self.t0)}  ETA {self.eta()}{extra}   ")
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{self.done}/{self.total}] {row['task_id']}: {describe(row)}  "
                              f"({row.get('wall_s', 0):.1f} s, ETA {self.eta()})\n")
        self.stream.flush()


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
