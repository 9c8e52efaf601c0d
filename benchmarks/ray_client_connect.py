"""How often a Ray client (``ray://``) connection fails to start, with gRPC fork support on and off.

Usage: ``python benchmarks/ray_client_connect.py [CYCLES] [--load N] [--only on|off]``

For each setting of ``GRPC_ENABLE_FORK_SUPPORT`` (``on``: gRPC's default; ``off``: ``false``)
this starts a loopback cluster shaped like the test fixture's (a 0-CPU head serving Ray
client, two 1-CPU nodes), then connects with ``ray.init("ray://...")``, asks for the
cluster's resources and disconnects, ``CYCLES`` times, while ``N`` busy-loop processes
(default 2: this machine's cores) keep the CPUs loaded. It prints each failure and the
count per setting.

Why: Ray's client server forks one server process per client. With gRPC's fork support
on, a fork that happens while its gRPC threads are busy ("Other threads are currently
calling into gRPC, skipping fork() handlers") can leave a child that dies at once
(``epoll_wait error: Bad file descriptor``), and the client gets "Starting Ray client
server failed". A reliability check, not a timed test: it counts failures.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import time
import warnings

MB = 1 << 20


def _spin() -> None:
    while True:
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def trial(cycles: int, fork_support: str) -> int:
    import ray
    from ray.cluster_utils import Cluster

    port = _free_port()
    old = os.environ.get("GRPC_ENABLE_FORK_SUPPORT")
    if fork_support == "off":
        os.environ["GRPC_ENABLE_FORK_SUPPORT"] = "false"     # inherited by the cluster's processes
    try:
        cluster = Cluster(initialize_head=True, head_node_args={
            "num_cpus": 0, "include_dashboard": False, "object_store_memory": 80 * MB,
            "ray_client_server_port": port})
        for _ in range(2):
            cluster.add_node(num_cpus=1, object_store_memory=80 * MB)
        cluster.wait_for_nodes()
    finally:
        os.environ.pop("GRPC_ENABLE_FORK_SUPPORT", None) if old is None else \
            os.environ.__setitem__("GRPC_ENABLE_FORK_SUPPORT", old)
    failures = 0
    try:
        for i in range(cycles):
            started = time.monotonic()
            try:
                ray.init(address=f"ray://127.0.0.1:{port}", logging_level="ERROR", log_to_driver=False)
                ray.cluster_resources()
            except Exception as e:  # noqa: BLE001 - any failure to connect is what is counted
                failures += 1
                last = str(e).strip().splitlines()[-1][:120] if str(e).strip() else ""
                print(f"  fork support {fork_support}: cycle {i} failed after "
                      f"{time.monotonic() - started:.0f} s: {type(e).__name__}: {last}", flush=True)
            finally:
                if ray.is_initialized():
                    ray.shutdown()
    finally:
        cluster.shutdown()
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cycles", nargs="?", type=int, default=40)
    parser.add_argument("--load", type=int, default=os.cpu_count() or 2, help="busy-loop processes")
    parser.add_argument("--only", choices=("on", "off"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.load)]
    for p in spinners:
        p.start()
    try:
        results = {s: trial(args.cycles, s) for s in ("on", "off") if args.only in (None, s)}
    finally:
        for p in spinners:
            p.terminate()
    for setting, failures in results.items():
        print(f"GRPC fork support {setting:3}: {failures} of {args.cycles} connections failed")


if __name__ == "__main__":
    main()
