#!/usr/bin/env python3
"""What one lab run did, in a few lines a person reads: computed from the receiver's own checks
(sfc_traffic.py / corpus_traffic.py recv --out JSON) and the proxy's counters (sfcproxy stats
--json), never restated from what was asked for. PASS only when the receiver found every packet it
expected with its own headers and nothing it should not have (its all_ok); exit 0 on PASS, 1 on FAIL.

  lab_summary.py --receiver result.json [--stats stats.json] [--scenario TEXT] [--raw DIR]
"""
import argparse
import json
import sys

# The proxy's counters an operator looks at first, in packet order; the rest are in stats.json.
MAIN_COUNTERS = [
    ("rx_popped", "popped at ingress (headers cached)"),
    ("tx_restored", "restored with their own headers"),
    ("tx_restored_last", "restored as plain IP (last segment)"),
    ("tx_miss_drop", "egress miss, dropped"),
    ("tx_ttl_expired", "TTL expired, dropped"),
    ("tx_si_exhausted", "NSH SI exhausted, dropped"),
    ("rx_cache_full", "refused: cache full"),
    ("rx_key_conflict", "refused: key conflict"),
    ("rx_not_sfc", "not SFC, passed"),
]


def n(v):
    return f"{v:,}"


def summarize(r, counters, scenario, raw):
    sent = r.get("sent", {})
    total = sent.get("sent", sent.get("count")) if isinstance(sent, dict) else None
    if total is None:
        total = r.get("params", {}).get("count", r.get("expected", 0) + r.get("expected_dropped", 0) + r.get("expected_expired", 0))
    expected = r.get("expected", 0)
    dropped_meant = r.get("expected_dropped", 0)
    expired_meant = r.get("expected_expired", 0)
    expired_leaked = r.get("expired_delivered", 0)
    dropped_leaked = max(r.get("leaked", 0) - expired_leaked, 0)
    ok = r.get("ok", 0)
    wrong = {k: r.get(k, 0) for k in ("wrong_stack", "wrong_nsh", "wrong_srv6", "wrong_eth", "wrong_ip", "wrong_payload", "swapped")}
    passed = bool(r.get("all_ok"))
    lines = [f"{scenario}: {'PASS' if passed else 'FAIL'}" if scenario else ("PASS" if passed else "FAIL")]
    # The sender's composition: "mpls" a count, "nsh" a count or {"total": n, ...} (MD types, next protocols).
    def count_of(v):
        return v.get("total", 0) if isinstance(v, dict) else (v or 0)
    label = {"mpls": "MPLS", "nsh": "NSH", "srv6": "SRv6"}
    mix = ", ".join(f"{n(count_of(sent.get(k)))} {label[k]}" for k in ("mpls", "nsh", "srv6")
                    if isinstance(sent, dict) and count_of(sent.get(k)))
    lines.append(f"  sent      {n(total)} packets" + (f" ({mix})" if mix else ""))
    lines.append(f"  intended  {n(expected)} through the VNF, {n(dropped_meant)} dropped by its policy, "
                 f"{n(expired_meant)} expired")
    per_encap = ", ".join(f"{label[k.split('_')[1]]} {n(r[k])}/{n(r['expected_' + k.split('_')[1]])}"
                          for k in ("ok_mpls", "ok_nsh", "ok_srv6") if r.get("expected_" + k.split("_")[1]))
    lines.append(f"  arrived   {n(ok)} of {n(expected)} with their own headers" + (f" ({per_encap})" if per_encap else ""))
    lines.append(f"  dropped   {n(dropped_meant - dropped_leaked)} of {n(dropped_meant)} by the VNF as intended; "
                 f"{n(expired_meant - expired_leaked)} of {n(expired_meant)} expired as intended")
    bad = {"missing": r.get("missing", 0), **{k: v for k, v in wrong.items() if v},
           "duplicated": r.get("duplicates", 0), "unexpected": r.get("unexpected", 0), "leaked": r.get("leaked", 0)}
    problems = ", ".join(f"{n(v)} {k.replace('_', ' ')}" for k, v in bad.items() if v)
    lines.append("  wrong     none: every packet carried its own headers" if not problems else f"  wrong     {problems}")
    if not passed:
        for e in r.get("first_errors", [])[:3]:
            lines.append(f"    {e[:76]}")
    if counters is None:
        lines.append("  proxy counters: unavailable (the daemon did not answer stats)")
    else:
        shown = [(name, text) for name, text in MAIN_COUNTERS if counters.get(name) or name in ("rx_popped", "tx_restored")]
        width = max(len(text) for _, text in shown)
        lines.append("  proxy counters:")
        for name, text in shown:
            lines.append(f"    {text:<{width}} {n(counters.get(name, 0)):>9}  {name}")
    if raw:
        lines.append(f"  raw JSON  {raw}/  (--json prints it)")
    return "\n".join(lines), passed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--receiver", required=True, help="the receiver's --out JSON")
    ap.add_argument("--stats", help="sfcproxy stats --json of the daemon (absent or unreadable: no counter table)")
    ap.add_argument("--scenario", default="", help="one line naming the run (key mode, VNF, encapsulation)")
    ap.add_argument("--raw", default="", help="where the raw JSON files are kept, to say so")
    a = ap.parse_args()
    try:
        with open(a.receiver) as f:
            r = json.load(f)
    except (OSError, ValueError) as e:
        print(f"{a.scenario}: FAIL\n  the receiver left no result ({e})")
        return 1
    counters = None
    if a.stats:
        try:
            with open(a.stats) as f:
                counters = json.load(f).get("counters")
        except (OSError, ValueError):
            counters = None
    text, passed = summarize(r, counters, a.scenario, a.raw)
    print(text, flush=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
