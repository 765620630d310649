#!/usr/bin/python3
"""What BPF programs are attached to a network device of the current network namespace.

  bpf_hooks.py DEV   (run inside the namespace: ip netns exec NS bpf_hooks.py DEV)

Prints one JSON line: {"dev": DEV, "ifindex": N, "xdp": PROG_ID or 0,
"tcx_ingress": [prog ids], "tcx_egress": [prog ids], "tcx_ingress_links": [link ids],
"tcx_egress_links": [link ids]}.
XDP comes from `ip -j -d link show` (the netlink view); tcx from BPF_PROG_QUERY on the ifindex,
because Debian's bpftool 7.1 neither lists tcx programs in `bpftool net show` nor names the device
of a tcx link. Exit 1 if the device does not exist.
"""
import ctypes
import json
import os
import struct
import subprocess
import sys

SYS_BPF = 321  # x86_64
BPF_PROG_QUERY = 16
BPF_TCX_INGRESS, BPF_TCX_EGRESS = 46, 47
MAX = 64


def prog_query(ifindex, attach_type):
    libc = ctypes.CDLL(None, use_errno=True)
    prog_ids = (ctypes.c_uint32 * MAX)()
    link_ids = (ctypes.c_uint32 * MAX)()
    attr = ctypes.create_string_buffer(128)
    # union bpf_attr.query: target_ifindex u32, attach_type u32, query_flags u32, attach_flags u32,
    # prog_ids u64, prog_cnt u32, pad u32, prog_attach_flags u64, link_ids u64, link_attach_flags u64,
    # revision u64
    struct.pack_into("=IIIIQII QQQQ", attr, 0, ifindex, attach_type, 0, 0,
                     ctypes.addressof(prog_ids), MAX, 0, 0, ctypes.addressof(link_ids), 0, 0)
    rc = libc.syscall(SYS_BPF, BPF_PROG_QUERY, attr, 64)
    if rc != 0:
        err = ctypes.get_errno()
        if err in (22, 95):  # EINVAL/EOPNOTSUPP: no tcx on this kernel
            return [], []
        raise OSError(err, os.strerror(err))
    cnt = struct.unpack_from("=I", attr, 24)[0]
    return list(prog_ids[:cnt]), [i for i in link_ids[:cnt]]


def main():
    dev = sys.argv[1]
    try:
        ifindex = socket_ifindex(dev)
    except OSError as e:
        print(json.dumps({"dev": dev, "error": str(e)}))
        return 1
    out = subprocess.run(["ip", "-j", "-d", "link", "show", "dev", dev], capture_output=True, text=True, check=True)
    link = json.loads(out.stdout)[0]
    xdp = link.get("xdp", {})
    xdp_id = xdp.get("prog", {}).get("id", 0) if isinstance(xdp, dict) else 0
    if not xdp_id and isinstance(xdp, dict):
        for a in xdp.get("attached", []):
            xdp_id = a.get("prog", {}).get("id", 0) or xdp_id
    ing, ing_links = prog_query(ifindex, BPF_TCX_INGRESS)
    egr, egr_links = prog_query(ifindex, BPF_TCX_EGRESS)
    print(json.dumps({"dev": dev, "ifindex": ifindex, "xdp": xdp_id,
                      "tcx_ingress": ing, "tcx_egress": egr,
                      "tcx_ingress_links": ing_links, "tcx_egress_links": egr_links}))
    return 0


def socket_ifindex(dev):
    import socket
    return socket.if_nametoindex(dev)


if __name__ == "__main__":
    sys.exit(main())
