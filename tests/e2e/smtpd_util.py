"""smtpd_util.py: helpers for the smtpd end-to-end tests.

SmtpdInstance starts an Instance (instance.py) whose master.cf runs smtpd
on a free loopback port and the local submission socket, with a test
main.cf: our domains are example.test (mydestination), virt.test
(virtual mailbox), alias.test (virtual alias) and relay.test
(relay_domains); loopback clients are NOT in mynetworks except
127.0.0.3, so relay control applies to ordinary connections (connect
from 127.0.0.3 to be trusted). Raw is a line-exact SMTP client over a
plain socket for the cases smtplib cannot express (pipelining, bare LF,
BDAT chunks)."""
import json
import os
import socket
import subprocess
import time

from instance import Instance, builddir

BASE_MAIN_CF = {
    "myhostname": "mx.example.test",
    "mydomain": "example.test",
    "myorigin": "example.test",
    "mydestination": "$myhostname, example.test",
    "virtual_mailbox_domains": "virt.test",
    "virtual_mailbox_maps": "inline:{alice@virt.test=alice/, carol@virt.test=carol/}",
    "virtual_alias_domains": "alias.test",
    "virtual_alias_maps": "inline:{info@alias.test=alice@virt.test, "
                          "team@example.test=bob@example.test}",
    "relay_domains": "relay.test",
    "local_recipient_maps": "inline:{bob=1, postmaster=1}",
    "alias_maps": "",
    "mynetworks": "127.0.0.3/32",
    "smtpd_peername_lookup": "no",
}


class SmtpdInstance(Instance):
    def __init__(self, testcase=None, main_cf=None, files=None):
        params = dict(BASE_MAIN_CF)
        if main_cf:
            params.update(main_cf)
        super().__init__(testcase, main_cf=params)
        for name, text in (files or {}).items():
            with open(os.path.join(self.etc, name), "w") as f:
                f.write(text)
        self.port = self.free_port()
        self.write_master_cf(
            self.service(f"127.0.0.1:{self.port}", "inet", "smtpd")
            + self.service("submit", "unix", "smtpd", private="n",
                           args=["-o", "smtpd_local_submission=yes"]))
        self.start()
        self.wait_until(lambda: os.path.exists(self.submit_path),
                        what="public/submit")

    @property
    def submit_path(self):
        return os.path.join(self.queue, "public", "submit")

    def incoming(self, queue="incoming"):
        path = os.path.join(self.queue, queue)
        return sorted(n for n in os.listdir(path) if not n.startswith("."))

    def wait_incoming(self, count, queue="incoming", timeout=10):
        return self.wait_until(lambda: len(self.incoming(queue)) >= count
                               and self.incoming(queue), timeout=timeout,
                               what=f"{count} files in {queue}/")

    def qfile(self, qid, queue="incoming"):
        """The queue file as a dict (tests/helpers/qfile_json)."""
        helper = os.path.join(builddir(), "tests", "helpers", "qfile_json")
        out = subprocess.run([helper, os.path.join(self.queue, queue, qid)],
                             capture_output=True, check=True)
        return json.loads(out.stdout.decode("ascii"))

    def raw(self, source="127.0.0.1"):
        return Raw(self.port, source)


class Raw:
    """A plain-socket SMTP client."""

    def __init__(self, port, source="127.0.0.1", timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout,
                                             source_address=(source, 0))
        self.file = self.sock.makefile("rb")
        self.greeting = self.reply()

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """(code, [text lines]) of one reply; (None, []) on EOF."""
        lines = []
        while True:
            line = self.file.readline(4096)
            if not line:
                return (None, lines)
            line = line.rstrip(b"\r\n").decode("utf-8", "replace")
            lines.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                return (int(line[:3]), lines)

    def cmd(self, line):
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def text(self, reply):
        return " ".join(reply[1])

    def closed(self, timeout=5):
        """True when the server closed the connection."""
        self.sock.settimeout(timeout)
        try:
            return self.file.read(1) == b""
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def wait(predicate, timeout=10, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
