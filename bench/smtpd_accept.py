#!/usr/bin/env python3
"""smtpd_accept.py: messages per second accepted by smtpd (each 250
after fdatasync, rename and directory fsync), without delivery.

    bench/smtpd_accept.py [SESSIONS [MESSAGES_PER_SESSION [SIZE]]]
defaults: 10 sessions, 200 messages each, 4096-byte messages, 1 rcpt.
"""
import os
import socket
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
os.environ.setdefault("POSTERN_BUILDDIR", TOP)
from smtpd_util import SmtpdInstance  # noqa: E402


def session(port, count, body, latencies, errors):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if not line or line[3:4] != b"-":
                return line

    reply()
    s.sendall(b"EHLO bench.example\r\n")
    reply()
    for _ in range(count):
        s.sendall(b"MAIL FROM:<bench@example.test>\r\n"
                  b"RCPT TO:<bob@example.test>\r\nDATA\r\n")
        for _ in range(3):
            reply()
        start = time.monotonic()
        s.sendall(body + b".\r\n")
        line = reply()
        latencies.append(time.monotonic() - start)
        if not line.startswith(b"250"):
            errors.append(line)
    s.sendall(b"QUIT\r\n")
    reply()
    s.close()


def smtpd_cpu_seconds(inst):
    """User+system CPU of the instance's smtpd processes, threads included."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in inst.instance_pids():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"smtpd" not in f.read().split(b"\0")[0]:
                    continue
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / tick


def main():
    sessions = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    per = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 4096
    line = b"x" * 76 + b"\r\n"
    body = b"Subject: bench\r\n\r\n" + line * max(1, size // len(line))
    inst = SmtpdInstance(main_cf={
        "mynetworks": "127.0.0.0/8",
        "smtpd_io_threads": os.environ.get("SMTPD_IO_THREADS", "4")})
    try:
        latencies, errors = [], []
        threads = [threading.Thread(target=session,
                                    args=(inst.port, per, body, latencies,
                                          errors))
                   for _ in range(sessions)]
        cpu_before = smtpd_cpu_seconds(inst)
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        cpu = smtpd_cpu_seconds(inst) - cpu_before
        latencies.sort()
        total = sessions * per
        print(f"sessions={sessions} messages={total} size={len(body)} "
              f"elapsed={elapsed:.2f}s rate={total / elapsed:.0f}/s "
              f"median_end_of_data_to_250={latencies[len(latencies) // 2] * 1000:.2f}ms "
              f"smtpd_cpu_per_message={cpu / total * 1e6:.0f}us "
              f"errors={len(errors)}")
    finally:
        inst.cleanup()


if __name__ == "__main__":
    main()
