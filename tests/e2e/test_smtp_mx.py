"""test_smtp_mx.py: mail out by MX lookup, between two whole Postern
instances, with a real DNS server (dnsmasq) on loopback.

The receiver (master, smtpd, qmgr, virtual) listens on 127.0.0.2:PORT and
is the mail exchanger of rx.example, and the second one of fb.example,
whose best MX (dead.fb.example, 127.0.0.3) refuses connections. The
sender (master, qmgr, smtp, virtual) asks dnsmasq through
postern_dns_servers; transport_maps gives `smtp:DOMAIN:PORT`, which is
Postfix's "look up the MX hosts of DOMAIN, connect to PORT" (a test
cannot count on port 25, and no port but 25 is checked for mail loops).

Covered here, by MX: delivery into the receiver's mailbox with the MX
host named in relay=; the second MX when the first refuses; deferral
while the receiver is stopped and delivery after `postqueue -f`; a 5xx
bounced with the remote reply quoted in the log and in the notice
(Remote-MTA: dns; the MX host). The same paths through relayhost,
connection reuse and LMTP are in test_smtp_relay.py; MX order, null MX,
NXDOMAIN and an unanswered lookup against a scripted receiver in
test_smtp_agent.py (SmtpDnsTest)."""
import email
import email.policy
import os
import re
import socket
import subprocess
import time
import unittest

from agentlib import maildir_files, prog
from dns_util import TEST_ZONE, Dnsmasq, dnsmasq_path
from instance import Instance
from test_smtp_relay import inject_into, wait_for_log

MESSAGE = (b"From: alice@a.virt\nTo: bob@rx.example\nSubject: mx test\n"
           b"Message-ID: <mx1@a.virt>\n\nHello by MX.\n")

MX_ZONE = TEST_ZONE + [
    ("--mx-host", "rx.example,mx1.rx.example,10"),
    ("--host-record", "mx1.rx.example,127.0.0.2"),
    ("--mx-host", "fb.example,dead.fb.example,10"),
    ("--mx-host", "fb.example,mx1.rx.example,20"),
    ("--host-record", "dead.fb.example,127.0.0.3"),
]
RX_ADDR, DEAD_ADDR = "127.0.0.2", "127.0.0.3"


def have_programs():
    return all(os.access(prog(p), os.X_OK)
               for p in ("master/master", "smtpd/smtpd", "qmgr/qmgr",
                         "virtual/virtual", "smtp/smtp", "tools/postqueue",
                         "tests/helpers/qinject"))


def port_free_on_both():
    """A port that is free on 127.0.0.2 (the receiver binds it) and on
    127.0.0.3 (where nothing may listen: the refusing MX)."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind((RX_ADDR, 0))
            port = a.getsockname()[1]
            with socket.socket() as b:
                try:
                    b.bind((DEAD_ADDR, port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no port free on both 127.0.0.2 and 127.0.0.3")


def refuses(addr, port):
    try:
        with socket.create_connection((addr, port), timeout=2):
            return False
    except OSError:
        return True


def virtual_params(inst, mailboxes):
    """main.cf for virtual mailboxes: mailboxes is {domain: [users]}."""
    base = os.path.join(inst.root, "vmail")
    os.makedirs(base)
    if os.geteuid() == 0:
        uid, gid = inst.owner_uid, inst.owner_gid
        os.chown(base, uid, gid)
    else:
        uid, gid = os.getuid(), os.getgid()
    table = ", ".join(f"{u}@{d}={d}/{u}/"
                      for d, users in mailboxes.items() for u in users)
    return base, {
        "virtual_mailbox_domains": ", ".join(mailboxes),
        "virtual_mailbox_base": base,
        "virtual_mailbox_maps": f"inline:{{ {table} }}",
        "virtual_uid_maps": f"static:{uid}",
        "virtual_gid_maps": f"static:{gid}",
        "virtual_minimum_uid": "1",
    }


@unittest.skipUnless(have_programs(), "master, smtpd, qmgr, virtual, smtp or "
                                      "helpers not built")
@unittest.skipUnless(dnsmasq_path(), "no dnsmasq (Debian package dnsmasq-base)")
class SmtpMxTest(unittest.TestCase):
    def setUp(self):
        self.dns = Dnsmasq(MX_ZONE)
        self.addCleanup(self.dns.cleanup)
        self.port = port_free_on_both()
        self.rx = Instance(self)
        self.rx_base, params = virtual_params(
            self.rx, {"rx.example": ["bob"], "fb.example": ["carol"]})
        params.update({"myhostname": "mx1.rx.example",
                       "mydestination": "$myhostname, localhost",
                       "smtpd_peername_lookup": "no"})
        self.rx.write_main_cf(params)
        self.rx.write_master_cf(
            self.rx.service(f"{RX_ADDR}:{self.port}", "inet", "smtpd")
            + self.rx.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                              maxproc=1)
            + self.rx.service("virtual", "unix", "virtual", unpriv="n"))
        self.tx = Instance(self)
        self.tx_base, params = virtual_params(self.tx, {"a.virt": ["alice"]})
        params.update({
            "myhostname": "mx.a.test",
            "mydestination": "$myhostname, localhost",
            "transport_maps": (f"inline:{{ rx.example=smtp:rx.example:"
                               f"{self.port}, fb.example=smtp:fb.example:"
                               f"{self.port} }}"),
            "postern_dns_servers": self.dns.server,
            "postern_dns_timeout": "2s",
            "smtp_connect_timeout": "5s",
            "queue_run_delay": "300s",
            "minimal_backoff_time": "300s",
            "maximal_backoff_time": "600s",
        })
        self.tx.write_main_cf(params)
        self.tx.write_master_cf(
            self.tx.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                            maxproc=1)
            + self.tx.service("smtp", "unix", "smtp")
            + self.tx.service("virtual", "unix", "virtual", unpriv="n"))

    def start_rx(self):
        self.rx.start()
        self.rx.wait_until(lambda: not refuses(RX_ADDR, self.port), timeout=10,
                           what="the receiver's smtpd on 127.0.0.2")

    def inject(self, *rcpts, message=MESSAGE, sender="alice@a.virt"):
        return inject_into(self, self.tx, sender, rcpts, message)

    def mailbox(self, base, domain, user):
        return maildir_files(os.path.join(base, domain, user))

    def wait_log(self, inst, pattern, timeout=30):
        return wait_for_log(self, inst, pattern, self.tx, self.rx,
                            timeout=timeout)

    def sent_by_mx(self, qid, rcpt):
        """The sender's status=sent line naming the MX host; returns the
        receiver's queue id from its 250 reply."""
        return self.wait_log(
            self.tx,
            rf"postern/smtp\[\d+\]: {qid}: to=<{re.escape(rcpt)}>, "
            rf"relay=mx1\.rx\.example\[127\.0\.0\.2\]:{self.port}, "
            r"(?:conn_use=\d+, )?delay=[\d.]+, "
            r"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, "
            r"status=sent \(250 2\.0\.0 Ok: queued as (\w+)\)$").group(1)

    def copy_of(self, domain, user):
        self.rx.wait_until(lambda: self.mailbox(self.rx_base, domain, user),
                           timeout=20, what=f"{user}@{domain}'s copy")
        with open(self.mailbox(self.rx_base, domain, user)[0], "rb") as f:
            return f.read()

    def test_delivery_via_mx_into_the_receivers_mailbox(self):
        self.start_rx()
        self.tx.start()
        qid = self.inject("bob@rx.example")
        rx_qid = self.sent_by_mx(qid, "bob@rx.example")
        copy = self.copy_of("rx.example", "bob")
        self.assertIn(b"Return-Path: <alice@a.virt>\n", copy)
        self.assertIn(b"Hello by MX.\n", copy)
        self.assertIn(f"{rx_qid}: from=<alice@a.virt>", self.rx.log_text())
        # The next hop came from DNS: the MX, then the exchange's address.
        asked = self.dns.queries()
        self.assertIn(("MX", "rx.example"), asked)
        self.assertIn(("A", "mx1.rx.example"), asked)

    def test_second_mx_when_the_first_refuses(self):
        self.assertTrue(refuses(DEAD_ADDR, self.port))
        self.start_rx()
        self.tx.start()
        qid = self.inject("carol@fb.example")
        self.sent_by_mx(qid, "carol@fb.example")
        self.assertIn(b"Hello by MX.\n", self.copy_of("fb.example", "carol"))
        self.assertNotIn("status=deferred", self.tx.log_text())
        # The best MX was looked up (and refused); the second took it.
        asked = self.dns.queries()
        self.assertIn(("MX", "fb.example"), asked)
        self.assertIn(("A", "dead.fb.example"), asked)

    def test_deferred_while_the_mx_is_down_then_flushed(self):
        self.tx.start()
        qid = self.inject("bob@rx.example")
        self.wait_log(
            self.tx,
            rf"{qid}: to=<bob@rx\.example>, relay=none, delay=[\d.]+, "
            r"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=4\.4\.1, "
            r"status=deferred \(connect to mx1\.rx\.example\[127\.0\.0\.2\]:"
            rf"{self.port}: Connection refused\)$")
        self.tx.wait_until(lambda: os.path.exists(
            os.path.join(self.tx.queue, "deferred", qid)), timeout=10,
            what="the message in deferred/")
        self.start_rx()
        proc = subprocess.run([prog("tools", "postqueue"), "-c", self.tx.etc,
                               "-f"], capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.sent_by_mx(qid, "bob@rx.example")
        self.assertIn(b"Hello by MX.\n", self.copy_of("rx.example", "bob"))

    def test_5xx_bounced_with_the_remote_reply_quoted(self):
        self.start_rx()
        self.tx.start()
        qid = self.inject("nobody@rx.example")
        reply = self.wait_log(
            self.tx,
            rf"{qid}: to=<nobody@rx\.example>, relay=mx1\.rx\.example"
            rf"\[127\.0\.0\.2\]:{self.port}, .*dsn=5\.1\.1, status=bounced "
            r"\(host mx1\.rx\.example\[127\.0\.0\.2\] said: (550 5\.1\.1 "
            r"<nobody@rx\.example>: Recipient address rejected: [^)]*) "
            r"\(in reply to RCPT TO command\)\)$").group(1)
        self.tx.wait_until(lambda: self.mailbox(self.tx_base, "a.virt", "alice"),
                           timeout=30, what="the bounce in alice's Maildir\n"
                           + self.tx.log_tail(20))
        with open(self.mailbox(self.tx_base, "a.virt", "alice")[0], "rb") as f:
            raw = f.read()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(msg.get_content_type(), "multipart/report")
        text = " ".join(raw.decode("utf-8", "replace").split())
        self.assertIn(f"<nobody@rx.example>: host mx1.rx.example[127.0.0.2] "
                      f"said: {reply} (in reply to RCPT TO command)", text)
        fields = {}
        for block in list(msg.iter_parts())[1].get_payload():
            for k, v in block.items():
                fields.setdefault(k.lower(), []).append(str(v))
        self.assertEqual(fields["final-recipient"], ["rfc822; nobody@rx.example"])
        self.assertEqual(fields["status"], ["5.1.1"])
        self.assertEqual(fields["remote-mta"], ["dns; mx1.rx.example"])
        self.assertEqual([" ".join(v.split()) for v in
                          fields["diagnostic-code"]], [f"smtp; {reply}"])


if __name__ == "__main__":
    unittest.main()
