"""`judge align` called in-process, as the CLI parses it."""
from __future__ import annotations

import argparse
import json

from judge.align import add_parser


def run_align(argv: list[str], capsys) -> tuple[int, object, str]:
    """(exit code, stdout, stderr) of `judge align ARGV`; stdout is parsed when `--json`
    was asked and the command succeeded, else it is the text (None when empty)."""
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["align", *argv])
    code = args.func(args)
    out = capsys.readouterr()
    if "--json" in argv and code == 0:
        return code, json.loads(out.out), out.err
    return code, (out.out or None), out.err
