"""Every error webjudge raises on purpose, in one leaf module (it imports nothing of ours,
so any layer may raise them without an import cycle).

The base class carries the command's exit code, so the CLI has one boundary
(`judge.cli.main`) that prints an error on stderr and exits with its code:

- `InputError` (exit 2): bad input from the user -- one line naming the file and field
  (a task folder, a flag, a run directory). Nothing already written is lost.
- `JudgeError` (exit 3): the judge or its infrastructure failed (Chromium died, a judge
  model is down, a scorer crashed). Never scored as the page's fault; a run records it
  as a `judge_error` row and the next run retries it.
- `PageFailure`: the page under test failed (its fault, scored: exec false, zeros), with
  a `kind` so nothing has to match message text: `hang`, `crash`, `navigated`, `budget`,
  `closed` (the page is gone or stuck: fatal for a judgment), `load` (it cannot be
  loaded), `call` (one call into it failed: the page goes on).

Errors of `metrics` (a pure layer that imports nothing of ours) are mapped at the CLI
boundary by name (`BackendUnavailable`: exit 2, `OCRUnavailable`: exit 3).
"""
from __future__ import annotations

import functools
import sys

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_JUDGE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class WebjudgeError(Exception):
    """Base of webjudge's errors; `exit_code` is what the command exits with."""
    exit_code = EXIT_FAILED


class InputError(WebjudgeError):
    """Bad input from the user: printed as one line naming the file and field, exit 2."""
    exit_code = EXIT_INPUT


class UsageError(InputError):
    """Bad input on the command line (a flag's value, a missing file): exit 2."""


class JudgeError(WebjudgeError, RuntimeError):
    """Infrastructure failure while judging: retried, then reported apart from page failures."""
    exit_code = EXIT_JUDGE


PAGE_FAILURE_KINDS = ("hang", "crash", "navigated", "budget", "closed", "load", "call")


class PageFailure(WebjudgeError, RuntimeError):
    """The page under test failed (renderer crash, script hang, load failure, navigation
    away, time budget used up, page closed): scored as the page's fault."""
    exit_code = EXIT_FAILED

    def __init__(self, message: str, kind: str = "load"):
        super().__init__(message)
        if kind not in PAGE_FAILURE_KINDS:
            raise ValueError(f"unknown page failure kind {kind!r}")
        self.kind = kind


_METRICS_EXIT = {"BackendUnavailable": EXIT_INPUT, "OCRUnavailable": EXIT_JUDGE}


def exit_code(e: BaseException) -> int | None:
    """The exit code for an error the CLI boundary reports, None for a bug (re-raised)."""
    if isinstance(e, WebjudgeError):
        return e.exit_code
    if isinstance(e, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    for cls in type(e).__mro__:
        if cls.__name__ in _METRICS_EXIT and cls.__module__.startswith("metrics."):
            return _METRICS_EXIT[cls.__name__]
    return None


def run_reporting(fn, args, prefix: str = "judge") -> int:
    """Run a command (`fn(args)`): the CLI's one error boundary. An error above (or a
    metrics backend error) is printed as one line on stderr -- `PREFIX: error: ...`, or
    `PREFIX: judge error (not the page's fault): ...` for exit 3 -- and becomes the exit
    code; anything else is a bug and propagates with its traceback."""
    try:
        return int(fn(args) or 0)
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:
        code = exit_code(e)
        if code is None:
            raise
        what = "judge error (not the page's fault)" if code == EXIT_JUDGE else "error"
        print(f"{prefix}: {what}: {e}", file=sys.stderr)
        return code


def reporting(prefix: str):
    """`run_reporting` as a decorator, for a command whose own `func` reports its errors
    under its name (`judge align: error: ...`) when called without `judge.cli`."""
    def wrap(fn):
        @functools.wraps(fn)
        def run(args) -> int:
            return run_reporting(fn, args, prefix)
        return run
    return wrap
