#!/usr/bin/env python3
"""smtpd_idle_pss.py: memory per idle SMTP session.

Starts a test instance (tests/e2e/instance.py) running smtpd, opens N
sessions that each have said EHLO and then stay idle, and prints the
PSS of all smtpd processes before and after, per session. With --tls
each session first makes STARTTLS (a self-signed RSA 2048 certificate
from `openssl req`) and says EHLO again inside TLS.
    bench/smtpd_idle_pss.py [--tls] [N]   (default 500; needs ulimit -n > N+64)
"""
import os
import resource
import socket
import ssl
import subprocess
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


def tls_settings(directory):
    """main.cf settings for STARTTLS with a fresh self-signed certificate."""
    cert = os.path.join(directory, "bench-cert.pem")
    key = os.path.join(directory, "bench-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj",
                    "/CN=mx.example.test"], check=True, capture_output=True)
    return {"smtpd_tls_security_level": "may", "smtpd_tls_cert_file": cert,
            "smtpd_tls_key_file": key}


def starttls(sock, context):
    """EHLO, STARTTLS, EHLO again in TLS; returns the TLS socket."""
    sock.sendall(b"EHLO bench.example\r\n")
    reply = b""
    while b"\r\n250 " not in reply:
        reply += sock.recv(4096)
    sock.sendall(b"STARTTLS\r\n")
    reply = b""
    while not reply.endswith(b"\r\n"):
        reply += sock.recv(512)
    if not reply.startswith(b"220"):
        raise RuntimeError(f"STARTTLS refused: {reply!r}")
    tls = context.wrap_socket(sock)
    tls.sendall(b"EHLO bench.example\r\n")
    return tls


def main():
    args = sys.argv[1:]
    use_tls = "--tls" in args
    args = [a for a in args if a != "--tls"]
    count = int(args[0]) if args else 500
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 256), hard))
    main_cf = None
    if use_tls:
        cert_dir = os.path.join("/tmp", f"pt-bench-tls-{os.getpid()}")
        os.makedirs(cert_dir, exist_ok=True)
        main_cf = tls_settings(cert_dir)
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if use_tls and os.geteuid() == 0:
        # smtpd reads the key as mail_owner (docs/tls.md).
        import pwd
        owner = pwd.getpwnam("postern")
        os.chown(main_cf["smtpd_tls_key_file"], owner.pw_uid, owner.pw_gid)
    inst = SmtpdInstance(main_cf=main_cf)
    try:
        warm = socket.create_connection(("127.0.0.1", inst.port))
        warm.recv(512)
        time.sleep(0.2)
        before, pids = smtpd_pss(inst)
        socks = []
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", inst.port))
            s.recv(512)
            if use_tls:
                s = starttls(s, context)
            else:
                s.sendall(b"EHLO bench.example\r\n")
            socks.append(s)
        for s in socks:
            s.recv(4096)
        time.sleep(0.5)
        after, pids = smtpd_pss(inst)
        per = (after - before) / count
        print(f"tls={'yes' if use_tls else 'no'} "
              f"sessions={count} smtpd_processes={len(pids)} "
              f"pss_before={before}KiB pss_after={after}KiB "
              f"per_session={per:.1f}KiB")
        for s in socks:
            s.close()
        warm.close()
    finally:
        inst.cleanup()
        if use_tls:
            for name in os.listdir(cert_dir):
                os.unlink(os.path.join(cert_dir, name))
            os.rmdir(cert_dir)


if __name__ == "__main__":
    main()
