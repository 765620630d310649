#!/usr/bin/python3
"""Plain TCP echo traffic for the policy end-to-end tests (PolicyEndToEndTests).

  policy_tcp.py serve --ports 5201,5202
      echo server on every port, IPv4 and IPv6 (one dual-stack socket per port); prints READY
      once listening, then serves until SIGTERM.
  policy_tcp.py connect --dst IP --port P [--timeout S]
      connect, send one line, expect it back; prints one JSON line
      {"dst", "port", "connected", "echoed", "error", "ms"}; exit 0 echoed, 1 otherwise.
  policy_tcp.py hold --dst IP --port P --trigger-dir D --probes p1,p2,... [--timeout S] [--probe-timeout S]
      one connection kept open: connect and echo once (prints OPEN, or exits 1), then for each probe
      name N in order wait for the file D/N to appear, send the line "probe N", and print
      "PROBE N echo" once it has come back or "PROBE N timeout" after the file D/N's content in
      seconds (else --probe-timeout). Prints DONE at the end. Echoes that arrive late are matched by
      their own text, so a probe that timed out does not make the next one pass by mistake.
"""
import argparse
import json
import os
import select
import socket
import sys
import threading
import time


def echo(conn):
    with conn:
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(data)
        except OSError:
            return


def serve(args):
    socks = []
    for port in [int(p) for p in args.ports.split(",")]:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
        s.listen(64)
        socks.append(s)

    def accept_loop(s):
        while True:
            conn, _ = s.accept()
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    for s in socks:
        threading.Thread(target=accept_loop, args=(s,), daemon=True).start()
    print("READY", flush=True)
    while True:
        time.sleep(3600)


def open_connection(dst, port, timeout):
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((dst, port))
    return s


def wait_for(s, buf, token, timeout):
    """Reads into buf until it contains token; returns (found, buf)."""
    deadline = time.monotonic() + timeout
    while token not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return False, buf
        r, _, _ = select.select([s], [], [], left)
        if not r:
            continue
        data = s.recv(65536)
        if not data:
            return False, buf
        buf += data
    return True, buf


def connect(args):
    start = time.monotonic()
    out = {"dst": args.dst, "port": args.port, "connected": False, "echoed": False, "error": None}
    try:
        s = open_connection(args.dst, args.port, args.timeout)
        out["connected"] = True
        token = b"hello %d\n" % os.getpid()
        s.sendall(token)
        out["echoed"], _ = wait_for(s, b"", token, args.timeout)
        if not out["echoed"]:
            out["error"] = "no echo within %.1f s" % args.timeout
        s.close()
    except (OSError, socket.timeout) as e:
        out["error"] = "%s: %s" % (type(e).__name__, e)
    out["ms"] = round((time.monotonic() - start) * 1000)
    print(json.dumps(out), flush=True)
    return 0 if out["echoed"] else 1


def hold(args):
    try:
        s = open_connection(args.dst, args.port, args.timeout)
        s.sendall(b"open\n")
        ok, buf = wait_for(s, b"", b"open\n", args.timeout)
    except (OSError, socket.timeout) as e:
        print("FAILED %s: %s" % (type(e).__name__, e), flush=True)
        return 1
    if not ok:
        print("FAILED no echo on the new connection", flush=True)
        return 1
    print("OPEN", flush=True)
    for name in args.probes.split(","):
        trigger = os.path.join(args.trigger_dir, name)
        deadline = time.monotonic() + 120
        while not os.path.exists(trigger):
            if time.monotonic() > deadline:
                print("FAILED no trigger %s" % trigger, flush=True)
                return 1
            time.sleep(0.02)
        with open(trigger) as f:
            text = f.read().strip()
        timeout = float(text) if text else args.probe_timeout
        token = ("probe %s\n" % name).encode()
        start = time.monotonic()
        try:
            s.sendall(token)
            ok, buf = wait_for(s, buf, token, timeout)
        except OSError as e:
            print("PROBE %s error %s" % (name, e), flush=True)
            continue
        print("PROBE %s %s %d ms" % (name, "echo" if ok else "timeout", (time.monotonic() - start) * 1000), flush=True)
    s.close()
    print("DONE", flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve")
    p.add_argument("--ports", required=True)
    p = sub.add_parser("connect")
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--timeout", type=float, default=2.0)
    p = sub.add_parser("hold")
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--timeout", type=float, default=3.0)
    p.add_argument("--trigger-dir", required=True)
    p.add_argument("--probes", required=True)
    p.add_argument("--probe-timeout", type=float, default=2.0)
    args = ap.parse_args()
    return {"serve": serve, "connect": connect, "hold": hold}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
