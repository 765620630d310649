#!/usr/bin/env python3
"""Hostile control-socket clients, meant to run as a non-root member of the socket's group.

At once: clients that send invalid UTF-8 (each must get an error line and keep its session, shown
by a stats request answered afterwards), one slow client that sends a whole request one byte at a
time (it must be answered), and a flood of --connections connections that are silent or trickle one
byte every 2 s into a line that never ends. Every connection is read the whole time: a refused one
must get a readable refusal line before its end. Prints one JSON object with what happened.
"""
import argparse
import errno
import json
import resource
import select
import socket
import time

INVALID = [
    b'{"request":"\xff\xfe"}\n',             # invalid UTF-8 inside a string
    b'{"request":"stats","level":"\\ud800"}\n',  # a lone surrogate escape
    b'\xc3\x28\n',                            # invalid UTF-8 outside any string
]


def connect(path):
    """Connects like a determined attacker: a full accept queue (EAGAIN) is retried for up to 5 s."""
    for _ in range(1000):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            time.sleep(0.005)
    raise OSError(errno.EAGAIN, "accept queue full for 5 s")


class Client:
    def __init__(self, sock, mode):
        self.sock, self.mode = sock, mode
        self.buf, self.lines, self.closed, self.reset, self.sent = b"", [], False, False, 0

    def read(self):
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    self.closed = True
                    return
                self.buf += data
                while b"\n" in self.buf:
                    line, self.buf = self.buf.split(b"\n", 1)
                    self.lines.append(line.decode("utf-8", "replace"))
        except BlockingIOError:
            return
        except ConnectionResetError:
            self.reset, self.closed = True, True

    def send(self, data):
        try:
            self.sock.send(data)
            self.sent += len(data)
        except (BrokenPipeError, ConnectionResetError, BlockingIOError):
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=12)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    invalid = [Client(connect(a.socket), "invalid") for _ in INVALID]
    for c, payload in zip(invalid, INVALID):
        c.send(payload)
    slow = Client(connect(a.socket), "slow")
    slow_request = b'{"request":"status"}\n'

    flood, connect_failed = [], 0
    for i in range(a.connections):
        try:
            flood.append(Client(connect(a.socket), "silent" if i % 2 == 0 else "trickle"))
        except OSError as e:
            connect_failed += 1
            if e.errno not in (errno.EAGAIN, errno.ECONNREFUSED, errno.ETIMEDOUT, None):
                raise
    clients = invalid + [slow] + flood
    by_fd = {c.sock.fileno(): c for c in clients}
    poll = select.poll()
    for fd in by_fd:
        poll.register(fd, select.POLLIN)

    start = time.monotonic()
    next_trickle = start + 2
    while time.monotonic() - start < a.seconds:
        for fd, _ in poll.poll(100):
            c = by_fd[fd]
            c.read()
            if c.closed:
                poll.unregister(fd)
        now = time.monotonic()
        if slow.sent < len(slow_request) and now - start > 0.1 * slow.sent:
            slow.send(slow_request[slow.sent:slow.sent + 1])
        for c in invalid:
            if len(c.lines) == 1 and c.sent == len(INVALID[invalid.index(c)]):
                c.send(b'{"request":"stats"}\n')
        if now >= next_trickle:
            next_trickle = now + 2
            for c in flood:
                if c.mode == "trickle" and not c.closed:
                    c.send(b"x")

    def refusal(c):
        return any("too many" in line for line in c.lines)

    print(json.dumps({
        "connections": len(flood),
        "connect_failed": connect_failed,
        "refused_with_line": sum(1 for c in flood if refusal(c)),
        "closed_without_line": sum(1 for c in flood if c.closed and not c.lines),
        "reset": sum(1 for c in clients if c.reset),
        "held_open": sum(1 for c in flood if not c.closed),
        "first_refusal": next((line for c in flood for line in c.lines if "too many" in line), None),
        "invalid_utf8": [c.lines for c in invalid],
        "slow": slow.lines,
    }))


if __name__ == "__main__":
    main()
