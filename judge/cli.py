"""`judge`: the command line.

Each command is a module that exposes `add_parser(subparsers)` (`render` and `tasks
record` are `judge.authoring`); this file wires them together, and `dispatch` is the one
place that turns an error into one line on stderr and an exit code (`judge.errors`: 0 ok, 1 failures found, 2 bad input, 3 judge or
infrastructure error, 130 interrupted).
"""
from __future__ import annotations

import argparse
import sys

from judge.errors import UsageError, run_reporting  # noqa: F401 (UsageError: re-exported)


# ---- parser --------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="judge", description="webjudge: judge generated web pages against reference videos")
    from judge import authoring, validate
    from judge.importers import a2c, iwr

    sub = parser.add_subparsers(dest="command", required=True)
    authoring.add_render_parser(sub)
    tasks = sub.add_parser("tasks", help="validate, record and import tasks")
    tsub = tasks.add_subparsers(dest="tasks_command", required=True)
    authoring.add_record_parser(tsub)
    validate.add_parser(tsub)
    iwr.add_parser(tsub)
    a2c.add_parser(tsub)
    for name in ("score", "replay", "evaluate", "report", "align", "pairwise", "doctor", "view", "noise", "libs"):
        module = _optional_module(name)
        if module is not None:
            module.add_parser(sub)
    return parser


def _optional_module(name: str):
    """Commands whose module exists in this version of the package."""
    import importlib
    import importlib.util

    if importlib.util.find_spec(f"judge.{name}") is None:
        return None
    return importlib.import_module(f"judge.{name}")


def dispatch(args: argparse.Namespace) -> int:
    """Run the parsed command through the one error boundary (`judge.errors.run_reporting`)."""
    return run_reporting(args.func, args)


def main(argv: list[str] | None = None) -> int:
    return dispatch(build_parser().parse_args(argv))


if __name__ == "__main__":
    # `python -m judge.cli`: run the imported module's main, so subcommands raising
    # judge.cli.UsageError are caught (this file also runs as __main__, a different module)
    from judge.cli import main as _main

    sys.exit(_main())
