"""Clients that send their requests slowly beside shoppers searching: the shoppers' latency and failures while
they last, and what the slow clients get.

    python -m eval.slow_clients_bench --data-dir D [--slow 8] [--hold 30] [--pace 10,1000,120] [--workers 2]
                                      [--clients 1] [--port 8767]

Starts ``shopsight serve --client-pace PACE`` on an indexed data folder (``shopsight demo --no-serve`` makes one)
with ``--clients`` threads searching (``eval/served.py``); after 3 s, ``--slow`` connections each begin a search
whose body they send a byte every half second for ``--hold`` seconds (a stalled phone, or slowloris). With the
default two workers of four threads, eight such clients hold every thread unless they are dropped
(``server/worker.py``); ``--pace 1000,1000,1000`` keeps them for the whole hold (the server before the pace).
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from pathlib import Path

from .served import Searching, Served

HEAD = b"POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"


def trickle(port: int, hold: float, out: list) -> None:
    """Send a search body a byte each 0.5 s until ``hold`` ends or the server answers; append (seconds, the
    answer's bytes: b"" when the connection closed without one)."""
    started, got = time.time(), b""
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.sendall(HEAD + b'{"text": "')
        c.settimeout(0.5)
        while time.time() - started < hold and not got:
            try:
                c.sendall(b"a")
                got = c.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
        c.settimeout(2)
        try:
            while got and b"}" not in got:  # the JSON body may come in a later packet
                got += c.recv(4096)
        except OSError:
            pass
    out.append((time.time() - started, got))


def status(answer: bytes) -> str:
    return answer.split(b" ")[1].decode() if answer.startswith(b"HTTP/") else "closed" if not answer else "?"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--slow", type=int, default=8)
    ap.add_argument("--hold", type=float, default=30.0)
    ap.add_argument("--pace", default="10,1000,120")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--port", type=int, default=8767)
    args = ap.parse_args(argv)
    with Served(args.data_dir, args.workers, args.port, serve_args=("--client-pace", args.pace)) as served:
        print(f"serving {args.data_dir} ({args.workers} workers, pace {args.pace}); {args.slow} slow clients "
              f"for {args.hold:.0f} s beside {args.clients} searching", flush=True)
        with Searching(served, args.clients) as searching:
            time.sleep(3)
            t0, dropped = time.time(), []
            slow = [threading.Thread(target=trickle, args=(args.port, args.hold, dropped)) for _ in range(args.slow)]
            for t in slow:
                t.start()
            for t in slow:
                t.join()
            t1 = time.time()
            time.sleep(3)
            t2 = time.time()
        searching.report({"before": (0, t0), "while slow clients send": (t0, t1), "after": (t1, t2)})
    ends = sorted(s for s, _ in dropped)
    print(f"slow clients: {len(dropped)} ended after {ends[0]:.1f}-{ends[-1]:.1f} s, answers "
          f"{sorted(set(status(answer) for _, answer in dropped))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
