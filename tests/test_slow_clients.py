"""Slow clients (``server/worker.py``): a request must arrive at a pace, or its connection is dropped and the
serving thread goes back to other shoppers."""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from engine.config import config_to_dict
from eval.slow_clients_bench import trickle
from server.worker import PacedSocket, SlowClientError

def test_a_request_at_pace_is_read_whole():
    a, b = socket.socketpair()
    with a, b:
        paced = PacedSocket(a, (0.5, 1000.0, 5.0))
        b.sendall(b"x" * 5000)
        got = b""
        while len(got) < 5000:
            got += paced.recv(65536)
        assert got == b"x" * 5000
        paced.begin()  # the next request on the connection starts its own clock
        b.sendall(b"y")
        assert paced.recv(10) == b"y"


def test_a_trickle_is_dropped_after_the_grace_and_once_only():
    a, b = socket.socketpair()
    with a, b:
        paced = PacedSocket(a, (0.4, 1000.0, 5.0))
        started = time.monotonic()
        with pytest.raises(SlowClientError) as caught:
            while True:
                b.sendall(b"z")  # one byte every 0.1 s earns 1 ms a byte: the 0.4 s grace runs out
                paced.recv(10)
                time.sleep(0.1)
        assert 0.35 < time.monotonic() - started < 1.5
        assert "too slowly" in str(caught.value)
        with pytest.raises(SlowClientError) as again:  # gunicorn reads on after the 408: the same error
            paced.recv(10)
        assert again.value is caught.value


def test_recv_into_keeps_the_pace_and_a_non_blocking_socket_reads_as_it_is():
    a, b = socket.socketpair()
    with a, b:
        paced = PacedSocket(a, (0.3, 1000.0, 5.0))
        b.sendall(b"abc")
        buffer = bytearray(8)
        assert paced.recv_into(buffer) == 3 and bytes(buffer[:3]) == b"abc"
        with pytest.raises(SlowClientError):
            paced.recv_into(buffer)  # nothing more comes within the grace
        a.setblocking(False)  # (gunicorn's poller sets it so between requests)
        paced.begin()
        with pytest.raises(BlockingIOError):
            paced.recv(10)


def test_the_limit_caps_what_the_rate_earns():
    a, b = socket.socketpair()
    with a, b:
        paced = PacedSocket(a, (0.2, 1.0, 0.5))  # 1 byte a second: 100 bytes would earn 100 s; the limit is 0.5 s
        b.sendall(b"w" * 100)
        paced.recv(100)
        started = time.monotonic()
        with pytest.raises(SlowClientError):
            paced.recv(10)  # nothing more comes
        assert time.monotonic() - started < 1.0


def test_slow_clients_do_not_hold_every_serving_thread(built_shop, tmp_path):
    """One worker of two threads, both taken by clients trickling a search body: a shopper's search is answered
    once the 1 s grace drops them (before, it waited until they finished), and a trickler gets a 408."""
    shutil.copytree(built_shop.path, tmp_path / "shop")
    (tmp_path / "config.json").write_text(json.dumps(config_to_dict(replace(built_shop, data_dir=str(tmp_path / "shop")))))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SHOPSIGHT_CONFIG": str(tmp_path / "config.json"), "HF_HUB_OFFLINE": "1",
           "SHOPSIGHT_CLIENT_PACE": "1,1000,30"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "2", "-k",
                               "server.worker.PacedThreadWorker", "-b", f"127.0.0.1:{port}", "server.wsgi:app"],
                              env=env, cwd=Path(__file__).resolve().parents[1])
    url = f"http://127.0.0.1:{port}/api/search"

    def search() -> int:
        req = urllib.request.Request(url, b'{"text": "red hoodie", "k": 3}', {"Content-Type": "application/json"})
        return urllib.request.urlopen(req, timeout=20).status

    answers: list[tuple[float, bytes]] = []

    try:
        for _ in range(120):
            try:
                assert search() == 200
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("gunicorn did not start")
        tricklers = [threading.Thread(target=trickle, args=(port, 15, answers)) for _ in range(2)]
        for t in tricklers:
            t.start()
        time.sleep(0.3)
        started = time.monotonic()
        assert search() == 200
        assert time.monotonic() - started < 8  # the grace (1 s) and a search; the tricklers would hold 15 s
        for t in tricklers:
            t.join()
        assert len(answers) == 2 and all(a.startswith(b"HTTP/1.1 408") and b"too slowly" in a for _, a in answers), answers
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=20).read().decode()
        assert any(line.startswith("shopsight_slow_clients_dropped_total") and line.endswith(" 2")
                   for line in metrics.splitlines()), metrics[-400:]
    finally:
        server.terminate()
        server.wait(timeout=30)
