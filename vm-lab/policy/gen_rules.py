#!/usr/bin/python3
"""The rule set of vm-lab/policy-bench.sh, written once and rendered for each system.

N rules that do NOT match the test traffic plus one rule that allows it:
  rule i odd : from another endpoint (198.19.x.y/32) to the server, tcp/5201
  rule i even: from the client to the server, tcp/(20000+i)  (right peer, wrong port)
  allow      : from the client to the server, tcp/<ports> (iperf3 and the request/response probe)

  iptables  --variant end : N non-matching rules, allow rule LAST (every packet walks all N)
            --variant top : allow rule FIRST, then the N rules (best case)
            --variant ct  : conntrack ESTABLISHED,RELATED accept first, N rules, allow last
                            (only connection-opening packets walk the chain)
            INPUT policy DROP in all three.
  sfcproxy : the same rules as an SfcProxy policy file (endpoints with labels + rules).
"""
import argparse
import json
import sys


def other_ip(i):
    # 198.19.0.0/16 lies inside 198.18.0.0/15 and never carries test traffic.
    return f"198.19.{i // 250}.{i % 250 + 1}"


def iptables(n, variant, client, server, ports):
    allow = f"-A INPUT -s {client}/32 -d {server}/32 -p tcp -m multiport --dports {','.join(map(str, ports))} -j ACCEPT"
    lines = ["*filter", ":INPUT DROP [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    if variant == "ct":
        lines.append("-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT")
    if variant == "top":
        lines.append(allow)
    for i in range(1, n + 1):
        if i % 2:
            lines.append(f"-A INPUT -s {other_ip(i)}/32 -d {server}/32 -p tcp -m tcp --dport 5201 -j ACCEPT")
        else:
            lines.append(f"-A INPUT -s {client}/32 -d {server}/32 -p tcp -m tcp --dport {20000 + i} -j ACCEPT")
    if variant in ("end", "ct"):
        lines.append(allow)
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def sfcproxy(n, client, server, ports):
    endpoints = [
        {"name": "server", "cidrs": [f"{server}/32"], "labels": {"app": "server"}},
        {"name": "client", "cidrs": [f"{client}/32"], "labels": {"app": "client"}},
    ]
    rules = []
    for i in range(1, n + 1):
        if i % 2:
            endpoints.append({"name": f"x{i}", "cidrs": [f"{other_ip(i)}/32"], "labels": {"app": f"x{i}"}})
            rules.append({"name": f"r{i}", "from": {"matchLabels": {"app": f"x{i}"}},
                          "to": {"matchLabels": {"app": "server"}},
                          "ports": [{"protocol": "tcp", "port": 5201}]})
        else:
            rules.append({"name": f"r{i}", "from": {"matchLabels": {"app": "client"}},
                          "to": {"matchLabels": {"app": "server"}},
                          "ports": [{"protocol": "tcp", "port": 20000 + i}]})
    rules.append({"name": "allow-bench", "from": {"matchLabels": {"app": "client"}},
                  "to": {"matchLabels": {"app": "server"}},
                  "ports": [{"protocol": "tcp", "port": p} for p in ports]})
    return json.dumps({"endpoints": endpoints, "rules": rules}, indent=1) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("format", choices=["iptables", "sfcproxy"])
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--variant", choices=["end", "top", "ct"], default="end")
    ap.add_argument("--client", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--ports", default="5201,5202")
    a = ap.parse_args()
    ports = [int(p) for p in a.ports.split(",")]
    if a.format == "iptables":
        sys.stdout.write(iptables(a.n, a.variant, a.client, a.server, ports))
    else:
        sys.stdout.write(sfcproxy(a.n, a.client, a.server, ports))


if __name__ == "__main__":
    main()
