"""test_smtp_relay.py: mail out through qmgr and the smtp client, between
two whole Postern instances on loopback.

The sender (master, qmgr, smtp, virtual) routes mail for b.virt to the
receiver by relayhost = [127.0.0.1]:PORT, or by a transport_maps entry
smtp:[127.0.0.1]:PORT; the receiver (master, smtpd, qmgr, virtual)
delivers it into a virtual mailbox. Covered: delivery with the remote
queue id in the sender's log line; several recipients in one
transaction; a 5xx at RCPT bounced with the remote reply quoted in the
log and in the notice (Remote-MTA, Diagnostic-Code); deferral while the
receiver is down and delivery after `postqueue -f` once it is up;
connection reuse (several messages over one connection, counted in the
receiver's connect lines); and LMTP routing (transport_maps
lmtp:inet:... and lmtp:unix:...) to a small LMTP receiver."""
import email
import email.policy
import os
import re
import subprocess
import time
import unittest

from agentlib import maildir_files, prog
from instance import Instance, _process_cmdline, port_refuses, process_uid
from smtp_receiver import Receiver

MESSAGE = (b"From: alice@a.virt\nTo: bob@b.virt\nSubject: relay test\n"
           b"Message-ID: <relay1@a.virt>\n\nHello over SMTP.\n")


def have_programs():
    return all(os.access(prog(p), os.X_OK)
               for p in ("master/master", "smtpd/smtpd", "qmgr/qmgr",
                         "virtual/virtual", "smtp/smtp", "tools/postqueue",
                         "tests/helpers/qinject"))


def mailbox_setup(inst, domain, users):
    base = os.path.join(inst.root, "vmail")
    os.makedirs(base)
    if os.geteuid() == 0:
        uid, gid = inst.owner_uid, inst.owner_gid
        os.chown(base, uid, gid)
    else:
        uid, gid = os.getuid(), os.getgid()
    table = ", ".join(f"{u}@{domain}={domain}/{u}/" for u in users)
    return base, {
        "virtual_mailbox_domains": domain,
        "virtual_mailbox_base": base,
        "virtual_mailbox_maps": f"inline:{{ {table} }}",
        "virtual_uid_maps": f"static:{uid}",
        "virtual_gid_maps": f"static:{gid}",
        "virtual_minimum_uid": "1",
    }


@unittest.skipUnless(have_programs(), "master, smtpd, qmgr, virtual, smtp or "
                                      "helpers not built")

def inject_into(tc, tx, sender, rcpts, message=MESSAGE):
    """Queues message from sender to rcpts in instance tx with qinject
    (as the mail owner when root); returns the queue id."""
    kw = {}
    if os.geteuid() == 0:
        kw = {"user": tx.owner_uid, "group": tx.owner_gid,
              "extra_groups": []}
    proc = subprocess.run([tx.program("qinject"), tx.queue, sender, *rcpts],
                          input=message, capture_output=True, timeout=30,
                          **kw)
    tc.assertEqual(proc.returncode, 0, proc.stderr)
    return proc.stdout.decode().strip()


def wait_for_log(tc, inst, pattern, tx, rx, rx_name="receiver",
                 timeout=30):
    """The first match of pattern in inst's log, waited for (bounded);
    fails with the tails of both logs."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = re.search(pattern, inst.log_text(), re.M)
        if m:
            return m
        time.sleep(0.1)
    tc.fail(f"no log line matching {pattern!r}; sender log:\n"
            f"{tx.log_tail(30)}\n{rx_name} log:\n{rx.log_tail(30)}")

class SmtpRelayTest(unittest.TestCase):
    def setUp(self):
        # The receiver first: its port goes into the sender's relayhost.
        self.rx = Instance(self)
        self.rx_base, vparams = mailbox_setup(self.rx, "b.virt",
                                              ("bob", "carol"))
        self.rx_port = self.rx.free_port()
        self.rx.write_main_cf(dict(vparams, **{
            "myhostname": "mx.b.test",
            "mydestination": "$myhostname, localhost",
            "smtpd_peername_lookup": "no",
        }))
        self.rx.write_master_cf(
            self.rx.service(f"127.0.0.1:{self.rx_port}", "inet", "smtpd")
            + self.rx.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                              maxproc=1)
            + self.rx.service("virtual", "unix", "virtual", unpriv="n"))
        self.tx = Instance(self)
        self.tx_base, self.tx_vparams = mailbox_setup(self.tx, "a.virt",
                                                      ("alice",))

    def start_tx(self, smtp_maxproc="-", **params):
        base = dict(self.tx_vparams, **{
            "myhostname": "mx.a.test",
            "mydestination": "$myhostname, localhost",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
        })
        base.update(params)
        self.tx.write_main_cf(base)
        self.tx.write_master_cf(
            self.tx.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                            maxproc=1)
            + self.tx.service("smtp", "unix", "smtp", maxproc=smtp_maxproc)
            + self.tx.service("lmtp", "unix", "lmtp")
            + self.tx.service("virtual", "unix", "virtual", unpriv="n"))
        self.tx.start()

    def start_rx(self):
        self.rx.start()
        self.rx.wait_until(lambda: not port_refuses(self.rx_port), timeout=10,
                           what="the receiver's smtpd")

    def rx_sessions(self):
        """SMTP sessions the receiver saw: its connect lines, less the
        connections that said nothing (the port probe of start_rx)."""
        log = self.rx.log_text()
        return (len(re.findall(r"smtpd\[\d+\]: connect from ", log))
                - log.count("lost connection after CONNECT from "))

    def relayhost(self):
        return f"[127.0.0.1]:{self.rx_port}"

    def inject(self, *rcpts, message=MESSAGE, sender="alice@a.virt"):
        kw = {}
        if os.geteuid() == 0:
            kw = {"user": self.tx.owner_uid, "group": self.tx.owner_gid,
                  "extra_groups": []}
        proc = subprocess.run([self.tx.program("qinject"), self.tx.queue,
                               sender, *rcpts], input=message,
                              capture_output=True, timeout=30, **kw)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout.decode().strip()

    def mailbox(self, inst_base, domain, user):
        return maildir_files(os.path.join(inst_base, domain, user))

    def wait_log(self, inst, pattern, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, inst.log_text(), re.M)
            if m:
                return m
            time.sleep(0.1)
        self.fail(f"no log line matching {pattern!r}; sender log:\n"
                  f"{self.tx.log_tail(30)}\nreceiver log:\n"
                  f"{self.rx.log_tail(30)}")

    def sent_line(self, qid, rcpt):
        return self.wait_log(
            self.tx,
            rf"postern/smtp\[\d+\]: {qid}: to=<{re.escape(rcpt)}>, "
            rf"relay=127\.0\.0\.1\[127\.0\.0\.1\]:{self.rx_port}, "
            r"(?:conn_use=\d+, )?delay=[\d.]+, "
            r"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, "
            r"status=sent \(250 2\.0\.0 Ok: queued as (\w+)\)$")

    def test_relayhost_two_recipients_one_transaction(self):
        self.start_rx()
        self.start_tx(relayhost=self.relayhost())
        qid = self.inject("bob@b.virt", "carol@b.virt")
        remote = {self.sent_line(qid, r).group(1)
                  for r in ("bob@b.virt", "carol@b.virt")}
        self.assertEqual(len(remote), 1, "one transaction, one remote id")
        for user in ("bob", "carol"):
            self.rx.wait_until(
                lambda u=user: self.mailbox(self.rx_base, "b.virt", u),
                timeout=20, what=f"{user}'s copy")
        with open(self.mailbox(self.rx_base, "b.virt", "bob")[0], "rb") as f:
            copy = f.read()
        self.assertIn(b"Return-Path: <alice@a.virt>\n", copy)
        self.assertIn(b"Hello over SMTP.\n", copy)
        rx_log = self.rx.log_text()
        self.assertEqual(self.rx_sessions(), 1, rx_log)
        (rx_qid,) = remote
        self.assertIn(f"{rx_qid}: from=<alice@a.virt>", rx_log)
        self.tx.wait_until(lambda: not os.path.exists(
            os.path.join(self.tx.queue, "active", qid)), timeout=10,
            what="the sender's queue file removed")

    def test_transport_maps_entry(self):
        self.start_rx()
        self.start_tx(transport_maps=f"inline:{{ b.virt=smtp:{self.relayhost()} }}")
        qid = self.inject("bob@b.virt")
        self.sent_line(qid, "bob@b.virt")
        self.rx.wait_until(lambda: self.mailbox(self.rx_base, "b.virt", "bob"),
                           timeout=20, what="bob's copy")

    def test_bounce_quotes_the_remote_reply(self):
        self.start_rx()
        self.start_tx(relayhost=self.relayhost())
        qid = self.inject("nobody@b.virt", "bob@b.virt")
        self.sent_line(qid, "bob@b.virt")
        m = self.wait_log(
            self.tx,
            rf"{qid}: to=<nobody@b\.virt>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:"
            rf"{self.rx_port}, .*dsn=5\.1\.1, status=bounced \(host "
            r"127\.0\.0\.1\[127\.0\.0\.1\] said: (550 5\.1\.1 <nobody@b\.virt>:"
            r" Recipient address rejected: [^)]*) \(in reply to RCPT TO "
            r"command\)\)$")
        reply = m.group(1)
        self.tx.wait_until(lambda: self.mailbox(self.tx_base, "a.virt", "alice"),
                           timeout=30, what="the bounce in alice's Maildir\n"
                           + self.tx.log_tail(20))
        with open(self.mailbox(self.tx_base, "a.virt", "alice")[0], "rb") as f:
            raw = f.read()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(msg.get_content_type(), "multipart/report")
        # The notice folds long lines: compare with the white space
        # squeezed.
        text = " ".join(raw.decode("utf-8", "replace").split())
        self.assertIn(f"<nobody@b.virt>: host 127.0.0.1[127.0.0.1] said: "
                      f"{reply} (in reply to RCPT TO command)", text)
        status = list(msg.iter_parts())[1].get_payload()
        fields = {}
        for block in status:
            for k, v in block.items():
                fields.setdefault(k.lower(), []).append(str(v))
        self.assertEqual(fields["final-recipient"], ["rfc822; nobody@b.virt"])
        self.assertEqual(fields["status"], ["5.1.1"])
        self.assertEqual(fields["remote-mta"], ["dns; 127.0.0.1"])
        self.assertEqual([" ".join(v.split()) for v in
                          fields["diagnostic-code"]], [f"smtp; {reply}"])

    def test_deferred_while_down_then_flushed(self):
        self.start_tx(relayhost=self.relayhost(),
                      minimal_backoff_time="300s", maximal_backoff_time="600s",
                      queue_run_delay="300s")
        qid = self.inject("bob@b.virt")
        self.wait_log(
            self.tx,
            rf"{qid}: to=<bob@b\.virt>, relay=none, delay=[\d.]+, "
            rf"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=4\.4\.1, "
            rf"status=deferred \(connect to 127\.0\.0\.1\[127\.0\.0\.1\]:"
            rf"{self.rx_port}: Connection refused\)$")
        self.tx.wait_until(lambda: os.path.exists(
            os.path.join(self.tx.queue, "deferred", qid)), timeout=10,
            what="the message in deferred/")
        self.start_rx()
        proc = subprocess.run([prog("tools", "postqueue"), "-c", self.tx.etc,
                               "-f"], capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.sent_line(qid, "bob@b.virt")
        self.rx.wait_until(lambda: self.mailbox(self.rx_base, "b.virt", "bob"),
                           timeout=20, what="bob's copy after the flush")

    def test_connection_reused_for_several_messages(self):
        self.start_rx()
        # One smtp process: the messages follow each other on it, within
        # smtp_connection_cache_time_limit of each other.
        self.start_tx(smtp_maxproc=1, relayhost=self.relayhost(),
                      smtp_connection_cache_time_limit="10s")
        qids = [self.inject("bob@b.virt") for _ in range(3)]
        for qid in qids:
            self.sent_line(qid, "bob@b.virt")
        self.rx.wait_until(
            lambda: len(self.mailbox(self.rx_base, "b.virt", "bob")) == 3,
            timeout=20, what="three copies")
        self.assertEqual(self.rx_sessions(), 1, self.rx.log_text())
        tx_log = self.tx.log_text()
        self.assertIn("conn_use=2, ", tx_log)
        self.assertIn("conn_use=3, ", tx_log)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to see a privilege drop")
    def test_smtp_runs_as_mail_owner(self):
        """master.cf's unpriv column is `-` (yes): the smtp client needs
        no root and runs as mail_owner, real and effective ids."""
        self.start_rx()
        self.start_tx(relayhost=self.relayhost(),
                      smtp_connection_cache_time_limit="30s")
        qid = self.inject("bob@b.virt")
        self.sent_line(qid, "bob@b.virt")
        smtp = [p for p in self.tx.master_children()
                if _process_cmdline(p)[:1] == [b"smtp"]]
        self.assertTrue(smtp, "no smtp process alive")
        for pid in smtp:
            self.assertEqual(process_uid(pid), self.tx.owner_uid)
            with open(f"/proc/{pid}/status") as f:
                ids = [line.split()[1:] for line in f
                       if line.startswith(("Uid:", "Gid:"))]
            self.assertEqual(ids, [[str(self.tx.owner_uid)] * 4,
                                   [str(self.tx.owner_gid)] * 4])

    def test_lmtp_over_inet_and_unix(self):
        inet_rx = Receiver(self, lmtp=True)
        os.makedirs(os.path.join(self.tx.queue, "private"), exist_ok=True)
        self.start_tx(transport_maps=(
            f"inline:{{ b.virt=lmtp:inet:127.0.0.1:{inet_rx.port}, "
            f"c.virt=lmtp:unix:private/rx-lmtp }}"))
        unix_rx = Receiver(self, lmtp=True,
                           unix_path=os.path.join(self.tx.queue, "private",
                                                  "rx-lmtp"))
        qid = self.inject("bob@b.virt", "dave@c.virt")
        self.wait_log(
            self.tx,
            rf"postern/lmtp\[\d+\]: {qid}: to=<bob@b\.virt>, relay=127\.0\.0\.1"
            rf"\[127\.0\.0\.1\]:{inet_rx.port}, .*dsn=2\.0\.0, status=sent "
            r"\(250 2\.0\.0 <bob@b\.virt> delivered\)$")
        self.wait_log(
            self.tx,
            rf"postern/lmtp\[\d+\]: {qid}: to=<dave@c\.virt>, "
            r"relay=mx\.a\.test\[private/rx-lmtp\], .*dsn=2\.0\.0, "
            r"status=sent \(250 2\.0\.0 <dave@c\.virt> delivered\)$")
        inet_rx.wait_transactions(1)
        unix_rx.wait_transactions(1)
        self.assertEqual(inet_rx.transactions[0]["rcpts"], ["bob@b.virt"])
        self.assertEqual(unix_rx.transactions[0]["rcpts"], ["dave@c.virt"])
        self.assertIn(b"Hello over SMTP.", inet_rx.transactions[0]["data"])


if __name__ == "__main__":
    unittest.main()
