"""The gunicorn worker ``shopsight serve`` runs: gthread, with every request held to a pace.

A gthread worker reads a request's headers and body in one of its few threads (4 a worker), blocking. Eight
clients sending a photo upload a byte at a time (or eight phones on a stalled network) held every thread of a
two-worker server, and every other shopper's search waited until they finished: 9-10 s timeouts while they lasted
(``python -m eval.slow_clients_bench``). Here a request must arrive at a pace: within ``grace`` seconds plus one
second per ``min_rate`` bytes received, and never over ``limit`` seconds in all (Apache's mod_reqtimeout rule,
``body=20,MinRate=500``, with a cap). A client that falls behind has its connection dropped (a body read in
progress answers 408 first), and its thread serves the next request.

This bounds slow and stalled clients; a crowd reconnecting on purpose still takes threads for ``grace`` seconds
each: on the open internet, put a buffering proxy (nginx) in front, as gunicorn's own documentation says.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import time

from gunicorn.workers import gthread

log = logging.getLogger(__name__)

ENV = "SHOPSIGHT_CLIENT_PACE"  # "grace,min_rate,limit", set by ``shopsight serve`` from its options
DEFAULT_PACE = (10.0, 1000.0, 120.0)  # as `shopsight serve --client-pace` defaults


DROPPED = [0]  # slow clients this worker process dropped (``/metrics``: shopsight_slow_clients_dropped_total)


class SlowClientError(ConnectionResetError):
    """The client sent its request slower than the pace allows; the server drops the connection (a reset, so
    gunicorn closes it quietly instead of logging a traceback per slow client)."""


def pace_from_env() -> tuple[float, float, float]:
    raw = os.environ.get(ENV, "")
    if not raw:
        return DEFAULT_PACE
    grace, rate, limit = (float(x) for x in raw.split(","))
    return grace, rate, limit


class PacedSocket:
    """A client socket whose reads keep the pace of the request being read (``begin`` starts one); every other
    attribute is the socket's own."""

    def __init__(self, sock: socket.socket, pace: tuple[float, float, float]):
        self._sock = sock
        self._grace, self._rate, self._limit = pace
        self.begin()

    def begin(self) -> None:
        self._started = time.monotonic()
        self._received = 0
        self._dropped: SlowClientError | None = None

    def _remaining(self) -> float:
        allowed = min(self._grace + self._received / self._rate, self._limit)
        return allowed - (time.monotonic() - self._started)

    def recv(self, size: int, *flags) -> bytes:
        data = self._paced(self._sock.recv, size, *flags)
        self._received += len(data)
        return data

    def recv_into(self, buffer, *args) -> int:
        n = self._paced(self._sock.recv_into, buffer, *args)
        self._received += n
        return n

    def _paced(self, read, *args):
        """``read(*args)`` within the time the pace leaves; a socket gunicorn set non-blocking reads as it is."""
        if self._sock.gettimeout() is not None:
            return read(*args)
        remaining = self._remaining()
        if remaining <= 0:
            raise self._too_slow()
        self._sock.settimeout(remaining)
        try:
            return read(*args)
        except socket.timeout:
            raise self._too_slow() from None
        finally:
            self._sock.settimeout(None)

    def _too_slow(self) -> SlowClientError:
        if self._dropped is not None:  # gunicorn reads on (the body's rest) after the 408: said once
            return self._dropped
        elapsed = time.monotonic() - self._started
        try:
            peer = self._sock.getpeername()
        except OSError:
            peer = "?"
        log.warning("dropped a slow client %s: %d bytes of a request in %.1f s", peer, self._received, elapsed)
        DROPPED[0] += 1  # (a lost increment between two threads would only undercount a counter)
        self._dropped = SlowClientError(errno.ECONNRESET, f"the request arrived too slowly: {self._received} bytes "
                                        f"in {elapsed:.0f} s")
        return self._dropped

    def __getattr__(self, name):
        return getattr(self._sock, name)


class PacedConn(gthread.TConn):
    def __init__(self, cfg, sock, client, server):
        if not cfg.is_ssl:  # TLS wraps the real socket; gunicorn's TLS is not what a shop fronts us with
            sock = PacedSocket(sock, pace_from_env())
        super().__init__(cfg, sock, client, server)


class PacedThreadWorker(gthread.ThreadWorker):
    """gunicorn's gthread worker with paced client sockets (``--worker-class server.worker.PacedThreadWorker``)."""

    def init_process(self):
        gthread.TConn = PacedConn  # the worker process's connections (gthread creates them by this name)
        super().init_process()

    def handle(self, conn):
        if isinstance(conn.sock, PacedSocket):
            conn.sock.begin()
        return super().handle(conn)
