"""End-to-end tests of qmgr with real instances (master + qmgr) and the
fake delivery agent (tests/helpers/fake_agent.c), which speaks deliver/1
and marks recipients done like the real agents. Mail is put into
incoming/ with tests/helpers/qinject (the queue file writer smtpd uses),
then qmgr is triggered through public/qmgr as smtpd would."""
import email
import email.policy
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from instance import Instance, builddir, pid_alive  # noqa: E402

MESSAGE = (b"From: alice@example.com\nTo: bob@virt.test\n"
           b"Subject: test message\nMessage-ID: <t1@example.com>\n\nHello.\n")


def have_programs():
    b = builddir()
    return all(os.access(os.path.join(b, p), os.X_OK)
               for p in ("qmgr/qmgr", "tests/helpers/fake_agent",
                         "tests/helpers/qinject", "master/master"))


@unittest.skipUnless(have_programs(), "qmgr, master or test helpers not built")
class QmgrTestBase(unittest.TestCase):
    # per-test main.cf additions and agent arguments
    main_extra = {}
    agent_args = ""
    agent_maxproc = 30
    qmgr_wakeup = 1

    def setUp(self):
        params = {
            "myhostname": "mail.example.test",
            "mydestination": "$myhostname, localhost",
            "virtual_mailbox_domains": "virt.test, virt2.test",
            "minimal_backoff_time": "2s",
            "maximal_backoff_time": "4s",
            "queue_run_delay": "1s",
            "transport_retry_time": "2s",
        }
        params.update(self.main_extra)
        self.inst = Instance(self, main_cf=params)
        self.scratch = self.inst.scratch
        self.journal = os.path.join(self.scratch, "journal")
        self.conc = os.path.join(self.scratch, "conc")
        self.statusfile = os.path.join(self.scratch, "status")
        self.write_master_cf()

    def agent_line(self, name, maxproc=None, extra=""):
        args = (f"journal={self.journal} conc={self.conc}-{name} "
                f"statusfile={self.statusfile} {self.agent_args} {extra}")
        return self.inst.service(name, "unix", "fake_agent", private="-",
                                 unpriv="n", maxproc=maxproc or self.agent_maxproc,
                                 args=args.split())

    def write_master_cf(self, extra_services=""):
        text = self.inst.service("qmgr", "unix", "qmgr", private="n",
                                 wakeup=self.qmgr_wakeup, maxproc=1)
        text += self.agent_line("virtual") + self.agent_line("local")
        text += extra_services
        self.inst.write_master_cf(text)

    # ---- helpers ----

    def inject(self, sender, *rcpts, message=MESSAGE, ago=0, ret=None,
               envid=None, trigger=True):
        cmd = [os.path.join(builddir(), "tests", "helpers", "qinject")]
        if ago:
            cmd += ["-a", str(ago)]
        if ret:
            cmd += ["-r", ret]
        if envid:
            cmd += ["-e", envid]
        cmd += [self.inst.queue, sender, *rcpts]
        kw = {}
        if os.geteuid() == 0:  # write as smtpd would: as mail_owner
            kw = {"user": self.inst.owner_uid, "group": self.inst.owner_gid,
                  "extra_groups": []}
        proc = subprocess.run(cmd, input=message, capture_output=True,
                              timeout=30, **kw)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        qid = proc.stdout.decode().strip()
        if trigger:
            self.trigger(b"A")
        return qid

    def trigger(self, data=b"A"):
        path = os.path.join(self.inst.queue, "public", "qmgr")
        for _ in range(50):
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(5)
                    s.connect(path)
                    s.sendall(data)
                return
            except OSError:
                time.sleep(0.1)
        self.fail("cannot trigger qmgr")

    def journal_lines(self):
        try:
            with open(self.journal) as f:
                return [line.split() for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def delivered(self):
        """{(qid, rcpt): count} from the fake agents' journal."""
        result = {}
        for qid, rcpt, _pid in self.journal_lines():
            result[(qid, rcpt)] = result.get((qid, rcpt), 0) + 1
        return result

    def wait_removed(self, qid, timeout=15):
        self.inst.wait_for_log(rf"qmgr\[\d+\]: {qid}: removed", timeout=timeout)

    def queue_files(self, queue):
        try:
            return sorted(n for n in os.listdir(os.path.join(self.inst.queue, queue))
                          if not n.startswith("."))
        except FileNotFoundError:
            return []

    def set_status(self, word):
        with open(self.statusfile + ".tmp", "w") as f:
            f.write(word + "\n")
        os.rename(self.statusfile + ".tmp", self.statusfile)

    def qmgr_pid(self):
        for p in self.inst.instance_pids():
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    argv0 = f.read().split(b"\0")[0]
            except OSError:
                continue
            if argv0.endswith(b"/qmgr") or argv0 == b"qmgr":
                return p
        return None

    def agent_pids(self):
        pids = []
        for p in self.inst.instance_pids():
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    argv0 = f.read().split(b"\0")[0]
            except OSError:
                continue
            if argv0.endswith(b"fake_agent"):
                pids.append(p)
        return pids

    def notices(self, rcpt):
        """Queue ids of notices delivered to rcpt (from the journal)."""
        return [qid for qid, r, _ in self.journal_lines() if r == rcpt]

    def bounce_text(self, qid_of_original):
        m = self.inst.wait_for_log(
            rf"{qid_of_original}: (sender|postmaster) non-delivery "
            rf"notification: (\w+)")
        return m.group(2)


class QmgrBasicTest(QmgrTestBase):
    def test_immediate_delivery(self):
        self.inst.start()
        start = time.monotonic()
        qid = self.inject("alice@example.com", "bob@virt.test", "carol@virt.test")
        self.wait_removed(qid)
        elapsed = time.monotonic() - start
        self.assertLess(elapsed, 5, "delivery waited for a timer")
        log = self.inst.log_text()
        self.assertRegex(log, rf"qmgr\[\d+\]: {qid}: from=<alice@example.com>, "
                              rf"size=\d+, nrcpt=2 \(queue active\)")
        self.assertRegex(log, rf"virtual\[\d+\]: {qid}: to=<bob@virt.test>, "
                              r"relay=virtual, .*status=sent")
        d = self.delivered()
        self.assertEqual(d.get((qid, "bob@virt.test")), 1)
        self.assertEqual(d.get((qid, "carol@virt.test")), 1)
        self.assertEqual(self.queue_files("active"), [])
        self.assertEqual(self.queue_files("incoming"), [])

    def test_local_and_virtual_transports(self):
        self.inst.start()
        qid = self.inject("alice@example.com", "bob@virt.test",
                          "root@mail.example.test", "u2@localhost")
        self.wait_removed(qid)
        log = self.inst.log_text()
        self.assertRegex(log, rf"local\[\d+\]: {qid}: to=<root@mail.example.test>")
        self.assertRegex(log, rf"local\[\d+\]: {qid}: to=<u2@localhost>")
        self.assertRegex(log, rf"virtual\[\d+\]: {qid}: to=<bob@virt.test>")

    def test_startup_scan_finishes_waiting_mail(self):
        # mail queued while nothing runs is delivered at start
        self.inst.postern("check", check=True)  # creates the queue
        qids = [self.inject("a@example.com", f"r{i}@virt.test", trigger=False)
                for i in range(3)]
        self.inst.start()
        for qid in qids:
            self.wait_removed(qid)
        self.assertEqual(len(self.delivered()), 3)
