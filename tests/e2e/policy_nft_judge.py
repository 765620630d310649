#!/usr/bin/python3
"""The kernel's nftables as the judge of the identity policy (PolicyNftDifferentialTests).

Runs inside the judge namespace the test built: frames are sent into the router by the veth
--inject (its peer is the router's way in), the router forwards what its nftables ruleset accepts
out of the veth whose peer is --capture, where this script reads them back. Each frame carries a tag
(IPv4 identification or IPv6 flow label) so the answer says which frames came through. The
sentinel frame the test appends to every batch always passes (first rule of the ruleset); once it
is back, every earlier frame has been judged: one CPU (--cpu) sends and forwards them in order.

Requests and answers are JSON lines on stdin / stdout:
  {"op": "nft", "ruleset": TEXT}                 -> {"ok": true} | {"ok": false, "error": TEXT}
  {"op": "send", "frames": [HEX, ...], "sentinel": TAG}
                                                 -> {"ok": true, "passed": [TAG, ...]}
  {"op": "sysctl", "name": N, "value": V}        -> {"ok": true}
Prints READY once its sockets are open.
"""
import argparse
import json
import os
import select
import socket
import subprocess
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def tag_of(frame: bytes):
    """The tag of an Ethernet frame: IPv4 identification or IPv6 flow label, else None."""
    if len(frame) < 14:
        return None
    ethertype = int.from_bytes(frame[12:14], "big")
    if ethertype == 0x0800 and len(frame) >= 14 + 20:
        return int.from_bytes(frame[18:20], "big")
    if ethertype == 0x86DD and len(frame) >= 14 + 40:
        return int.from_bytes(frame[14:18], "big") & 0xFFFFF
    return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--inject", required=True)
    ap.add_argument("--capture", required=True)
    ap.add_argument("--cpu", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for the sentinel")
    a = ap.parse_args()

    os.sched_setaffinity(0, {a.cpu})
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    tx.bind((a.inject, 0))
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    rx.bind((a.capture, 0))
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    rx.setblocking(False)
    print("READY", flush=True)

    def answer(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    def drain_until(sentinel):
        passed = []
        deadline = time.monotonic() + a.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return passed, False
            r, _, _ = select.select([rx], [], [], left)
            if not r:
                continue
            while True:
                try:
                    frame, addr = rx.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                t = tag_of(frame)
                if t is None:
                    continue
                if t == sentinel:
                    return passed, True
                passed.append(t)

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        op = req.get("op")
        if op == "nft":
            r = subprocess.run(["nft", "-f", "-"], input=req["ruleset"], text=True, capture_output=True)
            answer({"ok": r.returncode == 0, "error": r.stderr.strip()})
        elif op == "sysctl":
            with open("/proc/sys/" + req["name"].replace(".", "/"), "w") as f:
                f.write(str(req["value"]))
            answer({"ok": True})
        elif op == "send":
            # Leftovers of an earlier batch (none expected) must not count for this one.
            while True:
                try:
                    rx.recvfrom(65535)
                except BlockingIOError:
                    break
            for h in req["frames"]:
                tx.send(bytes.fromhex(h))
            passed, complete = drain_until(req["sentinel"])
            answer({"ok": complete, "passed": passed,
                    "error": "" if complete else f"the sentinel {req['sentinel']} did not come back within {a.timeout} s"})
        else:
            answer({"ok": False, "error": f"unknown op {op!r}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
