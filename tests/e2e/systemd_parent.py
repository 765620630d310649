#!/usr/bin/env python3
"""Runs a command as the child of a process named "systemd", which is how
Microsoft.Extensions.Hosting.Systemd recognises a systemd service (the parent's /proc/PID/comm).
Prints "CHILD <pid>", forwards SIGTERM, exits with the child's exit code."""
import ctypes
import signal
import subprocess
import sys

PR_SET_NAME = 15
ctypes.CDLL(None).prctl(PR_SET_NAME, b"systemd", 0, 0, 0)
child = subprocess.Popen(sys.argv[1:])
print(f"CHILD {child.pid}", flush=True)
signal.signal(signal.SIGTERM, lambda *_: child.terminate())
sys.exit(child.wait())
