#!/usr/bin/env python3
"""smtpd_idle_pss.py: memory per idle SMTP session.

Starts a test instance (tests/e2e/instance.py) running smtpd, opens N
sessions that each have said EHLO and then stay idle, and prints the
PSS of all smtpd processes before and after, per session.
    bench/smtpd_idle_pss.py [N]   (default 500; needs ulimit -n > N+64)
"""
import os
import resource
import socket
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
os.environ.setdefault("POSTERN_BUILDDIR", TOP)
from smtpd_util import SmtpdInstance  # noqa: E402


def smtpd_pss(inst):
    total = 0
    pids = []
    for pid in inst.instance_pids():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"smtpd" not in f.read().split(b"\0")[0]:
                    continue
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
            pids.append(pid)
        except OSError:
            pass
    return total, pids


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 256), hard))
    inst = SmtpdInstance()
    try:
        warm = socket.create_connection(("127.0.0.1", inst.port))
        warm.recv(512)
        time.sleep(0.2)
        before, pids = smtpd_pss(inst)
        socks = []
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", inst.port))
            s.recv(512)
            s.sendall(b"EHLO bench.example\r\n")
            socks.append(s)
        for s in socks:
            s.recv(4096)
        time.sleep(0.5)
        after, pids = smtpd_pss(inst)
        per = (after - before) / count
        print(f"sessions={count} smtpd_processes={len(pids)} "
              f"pss_before={before}KiB pss_after={after}KiB "
              f"per_session={per:.1f}KiB")
        for s in socks:
            s.close()
        warm.close()
    finally:
        inst.cleanup()


if __name__ == "__main__":
    main()
