"""`judge view RUN [RUN…]`: watch, compare and label runs in a local web app.

    judge view RUN [RUN ...] [--port 8765] [--host 127.0.0.1] [--labels FILE]
               [--pairs 20] [--seed 0]

Contract:
- Serves `judge.view.app` with uvicorn on `--host` (default 127.0.0.1: loopback only;
  another host must be asked for) and `--port` (0: any free port). Prints one line
  `judge view: http://HOST:PORT/` once the socket is bound, then serves until
  interrupted (exit 0 on Ctrl-C / SIGTERM).
- Reads the run directories through `judge.read_run` (`judge.view.data`); writes only the
  label file (`--labels`, default `labels.jsonl` in the current folder; `judge.view.labels`)
  and its preview cache (`judge.files.cache_dir("previews")`).
- Labelling: `--pairs N` pairs sampled with `--seed` (stratified by task and score
  difference); the label file is the generic prefs format `judge align --prefs` reads.
- Bad input (a folder that is not a run directory, a port in use): exit 2, one line.
"""
from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

from judge.errors import UsageError

DEFAULT_HOST = "127.0.0.1"


def bind(host: str | None, port: int) -> socket.socket:
    """A listening TCP socket on `host` (default loopback) and `port` (0: any free one)."""
    host = host or DEFAULT_HOST
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise UsageError(f"--host: cannot resolve {host!r} ({e.strerror})") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as e:
        sock.close()
        raise UsageError(f"--port: cannot listen on {host}:{port} ({e.strerror})") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def build(runs: list[Path], labels: Path, pairs: int = 20, seed: int = 0, previews=None):
    """The app over `runs` (see `judge.view.app.create_app`)."""
    from judge.view.app import create_app
    from judge.view.data import Catalog
    from judge.view.labels import Session

    cat = Catalog.load(runs)
    return create_app(cat, Session(cat, labels, pairs, seed), previews)


def serve(app, sock: socket.socket) -> None:
    import uvicorn

    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"judge view: http://{shown}:{port}/", flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    import signal

    if args.pairs < 1:
        raise UsageError("--pairs: must be at least 1")
    app = build(args.runs, args.labels, args.pairs, args.seed)
    sock = bind(args.host, args.port)
    # uvicorn stops gracefully on SIGTERM, then re-raises it: end as on Ctrl-C (exit 0)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve(app, sock)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("view", help="watch, compare and label runs in a local web app",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", type=Path, metavar="RUN", help="run directories (from judge evaluate)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free port)")
    p.add_argument("--host", default=None, help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    p.add_argument("--labels", type=Path, default=Path("labels.jsonl"),
                   help="label file, appended to (default ./labels.jsonl; read by judge align --prefs)")
    p.add_argument("--pairs", type=int, default=20, help="pairs in the labelling sample (default 20)")
    p.add_argument("--seed", type=int, default=0, help="seed of the pair sample and shown orders (default 0)")
    p.set_defaults(func=run)
    return p


if __name__ == "__main__":  # pragma: no cover
    from judge.cli import main

    sys.exit(main(["view", *sys.argv[1:]]))
