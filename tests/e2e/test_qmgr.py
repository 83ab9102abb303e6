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
    qmgr_chroot = "n"

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
        self.copies = os.path.join(self.scratch, "copies")
        os.makedirs(self.copies)
        os.chmod(self.copies, 0o1777)
        self.write_master_cf()

    def agent_line(self, name, maxproc=None, extra=""):
        args = (f"journal={self.journal} conc={self.conc}-{name} "
                f"statusfile={self.statusfile} copies={self.copies} "
                f"{self.agent_args} {extra}")
        return self.inst.service(name, "unix", "fake_agent", private="-",
                                 unpriv="n", maxproc=maxproc or self.agent_maxproc,
                                 args=args.split())

    def write_master_cf(self, extra_services=""):
        text = self.inst.service("qmgr", "unix", "qmgr", private="n",
                                 chroot=self.qmgr_chroot,
                                 wakeup=self.qmgr_wakeup, maxproc=1)
        text += self.agent_line("virtual") + self.agent_line("local")
        text += extra_services
        self.inst.write_master_cf(text)

    # ---- helpers ----

    def inject(self, sender, *rcpts, message=MESSAGE, ago=0, ret=None,
               envid=None, trigger=True):
        cmd = [self.inst.program("qinject")]  # run as mail_owner below
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

    def notice_message(self, newid):
        """The notice newid as delivered (the fake agent keeps a copy),
        parsed with Python's email package."""
        path = os.path.join(self.copies, newid)
        self.inst.wait_until(lambda: os.path.exists(path), timeout=15,
                             what=f"delivery of {newid}")
        self.wait_removed(newid)
        with open(path, "rb") as f:
            return email.message_from_binary_file(f, policy=email.policy.default)

    @staticmethod
    def dsn_fields(msg):
        """{lower-case field: [values]} from the message/delivery-status
        part of a report."""
        parts = list(msg.iter_parts())
        status = parts[1]
        assert status.get_content_type() == "message/delivery-status"
        fields = {}
        for block in status.get_payload():
            for k, v in block.items():
                fields.setdefault(k.lower(), []).append(str(v))
        return fields

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

    def test_many_recipients_in_one_request(self):
        # 50 recipients (default_destination_recipient_limit) in one
        # deliver/1 request: far more attributes than lib/ipc/attr's default
        self.inst.start()
        rcpts = [f"u{i}@virt.test" for i in range(60)]
        qid = self.inject("alice@example.com", *rcpts)
        self.wait_removed(qid)
        self.assertNotRegex(self.inst.log_text(), r"lost connection|bad reply")
        d = self.delivered()
        self.assertEqual(sorted(r for (q, r) in d if q == qid), sorted(rcpts))
        self.assertTrue(all(c == 1 for c in d.values()))

    def test_local_and_virtual_transports(self):
        self.inst.start()
        qid = self.inject("alice@example.com", "bob@virt.test",
                          "root@mail.example.test", "u2@localhost")
        self.wait_removed(qid)
        log = self.inst.log_text()
        self.assertRegex(log, rf"local\[\d+\]: {qid}: to=<root@mail.example.test>")
        self.assertRegex(log, rf"local\[\d+\]: {qid}: to=<u2@localhost>")
        self.assertRegex(log, rf"virtual\[\d+\]: {qid}: to=<bob@virt.test>")

    def test_corrupt_file_goes_to_corrupt(self):
        # damaged before qmgr runs, so no wakeup can deliver it first
        self.inst.postern("check", check=True)
        good = self.inject("alice@example.com", "bob@virt.test", trigger=False)
        path = os.path.join(self.inst.queue, "incoming", good)
        with open(path, "r+b") as f:
            f.seek(40)
            f.write(b"\xff\xff\xff")  # damage the header's sizes
        self.inst.start()
        self.inst.wait_for_log(rf"qmgr\[\d+\]: warning: {good}: corrupt queue "
                               r"file: .*moved to corrupt/")
        self.assertEqual(self.queue_files("corrupt"), [good])
        # qmgr goes on with other mail
        qid = self.inject("alice@example.com", "carol@virt.test")
        self.wait_removed(qid)

    def test_bad_trigger_arguments_are_ignored(self):
        self.inst.start()
        self.trigger(b"Q../../etc/passwd\nS\x01bad\nQ" + b"x" * 300 + b"\nZZ")
        qid = self.inject("alice@example.com", "bob@virt.test")
        self.wait_removed(qid)
        self.assertNotRegex(self.inst.log_text(), r"qmgr\[\d+\]: (fatal|panic)")

    def test_startup_scan_finishes_waiting_mail(self):
        # mail queued while nothing runs is delivered at start
        self.inst.postern("check", check=True)  # creates the queue
        qids = [self.inject("a@example.com", f"r{i}@virt.test", trigger=False)
                for i in range(3)]
        self.inst.start()
        for qid in qids:
            self.wait_removed(qid)
        self.assertEqual(len(self.delivered()), 3)


class QmgrConcurrencyTest(QmgrTestBase):
    main_extra = {"default_destination_concurrency_limit": "3",
                  "virtual_destination_concurrency_limit": "4"}
    agent_args = "delay_ms=300"

    def read_conc(self, name):
        try:
            with open(f"{self.conc}-{name}") as f:
                cur, mx = f.read().split()
                return int(cur), int(mx)
        except FileNotFoundError:
            return 0, 0

    def test_destination_limit_honoured(self):
        self.inst.start()
        # 12 messages to one virtual domain: at most 4 at once, and
        # more than one at once (deliveries run in parallel)
        qids = [self.inject("a@example.com", f"u{i}@virt.test")
                for i in range(12)]
        for qid in qids:
            self.wait_removed(qid, timeout=30)
        cur, mx = self.read_conc("virtual")
        self.assertEqual(cur, 0)
        self.assertEqual(mx, 4)

    def test_limit_is_per_destination(self):
        self.main_extra = {}
        self.inst.write_main_cf({"virtual_destination_concurrency_limit": "2"})
        self.inst.start()
        qids = []
        for i in range(6):
            qids.append(self.inject("a@example.com", f"u{i}@virt.test"))
            qids.append(self.inject("a@example.com", f"u{i}@virt2.test"))
        for qid in qids:
            self.wait_removed(qid, timeout=30)
        _, mx = self.read_conc("virtual")
        self.assertEqual(mx, 4)  # two domains, two each


class QmgrDeferTest(QmgrTestBase):
    def test_defer_backoff_retry(self):
        self.set_status("deferred")
        self.inst.start()
        qid = self.inject("alice@example.com", "bob@virt.test")
        self.inst.wait_for_log(rf"{qid}: to=<bob@virt.test>, .*status=deferred")
        self.inst.wait_until(lambda: qid in self.queue_files("deferred"),
                             what="message in deferred/")
        # the retry time is in the mtime, minimal_backoff_time ahead
        st = os.stat(os.path.join(self.inst.queue, "deferred", qid))
        self.assertGreater(st.st_mtime, time.time() + 0.5)
        self.assertLessEqual(st.st_mtime, time.time() + 4.5)
        # the reason is recorded for postqueue
        with open(os.path.join(self.inst.queue, "defer", qid)) as f:
            text = f.read()
        self.assertIn("recipient=bob@virt.test", text)
        self.assertIn("status=4.2.0", text)
        # retried after the backoff, several times while deferred
        self.inst.wait_for_log(rf"{qid}: to=<bob@virt.test>, .*status=deferred",
                               count=2, timeout=15)
        self.set_status("sent")
        self.wait_removed(qid, timeout=20)
        self.assertEqual(self.delivered().get((qid, "bob@virt.test")), 1)
        self.assertFalse(os.path.exists(os.path.join(self.inst.queue, "defer", qid)))

    def test_partial_defer_delivers_rest_once(self):
        self.inst.start()
        qid = self.inject("alice@example.com", "bob@virt.test",
                          "deferme@virt.test")
        self.inst.wait_until(lambda: qid in self.queue_files("deferred"),
                             what="message in deferred/")
        self.inst.wait_for_log(rf"{qid}: to=<deferme@virt.test>, .*status=deferred",
                               count=2, timeout=15)
        # bob was delivered once and is not tried again
        self.assertEqual(self.delivered().get((qid, "bob@virt.test")), 1)
        log = self.inst.log_text()
        self.assertEqual(len(re.findall(rf"{qid}: to=<bob@virt.test>", log)), 1)

    def test_defer_transports_and_flush(self):
        self.inst.write_main_cf({"defer_transports": "virtual"})
        self.inst.start()
        qid = self.inject("alice@example.com", "bob@virt.test")
        self.inst.wait_for_log(rf"qmgr\[\d+\]: {qid}: to=<bob@virt.test>, "
                               r"relay=none, .*status=deferred \(deferred transport\)")
        time.sleep(3)  # retries do not deliver either
        self.assertEqual(self.delivered(), {})
        self.trigger(b"F")  # flush, as postqueue -f / sendmail -q
        self.wait_removed(qid)
        self.assertEqual(self.delivered().get((qid, "bob@virt.test")), 1)

    def test_unavailable_transport_defers(self):
        # no smtp service in master.cf: the smtp client is a later issue
        self.inst.start()
        qid = self.inject("alice@example.com", "someone@remote.example")
        self.inst.wait_for_log(
            rf"qmgr\[\d+\]: {qid}: to=<someone@remote.example>, relay=none, "
            r".*status=deferred \(delivery temporarily suspended: transport "
            r"smtp is not available\)")
        self.inst.wait_until(lambda: qid in self.queue_files("deferred"),
                             what="message in deferred/")


class QmgrBounceTest(QmgrTestBase):
    main_extra = {"maximal_queue_lifetime": "3s", "bounce_queue_lifetime": "3s"}

    def test_expiry_bounce_is_valid_dsn(self):
        self.inst.start()
        qid = self.inject("alice@virt.test", "deferme@virt.test", envid="ENV42")
        self.inst.wait_for_log(rf"{qid}: from=<alice@virt.test>, "
                               r"status=expired, returned to sender", timeout=20)
        newid = self.bounce_text(qid)
        self.wait_removed(qid)
        msg = self.notice_message(newid)
        self.assertEqual(msg.get_content_type(), "multipart/report")
        self.assertEqual(msg.get_param("report-type"), "delivery-status")
        self.assertIn("alice@virt.test", msg["To"])
        self.assertIn("Undelivered Mail", msg["Subject"])
        fields = self.dsn_fields(msg)
        self.assertEqual(fields["final-recipient"], ["rfc822; deferme@virt.test"])
        self.assertEqual(fields["action"], ["failed"])
        self.assertEqual(fields["status"], ["4.2.0"])
        self.assertEqual(fields["original-envelope-id"], ["ENV42"])
        self.assertIn("fake agent says try again later",
                      fields["diagnostic-code"][0] if "diagnostic-code" in fields
                      else msg.as_string())
        self.assertIn("Hello.", list(msg.iter_parts())[2].as_string())
        # the notice went out with the null sender
        self.assertRegex(self.inst.log_text(),
                         rf"qmgr\[\d+\]: {newid}: from=<>, size=\d+, nrcpt=1")
        self.assertEqual(self.queue_files("bounce"), [])
        self.assertEqual(self.queue_files("defer"), [])

    def test_agent_bounce_and_notify(self):
        self.inst.start()
        # NOTIFY=NEVER (1): no notice; NOTIFY=SUCCESS (2): success notice
        qid = self.inject("alice@virt.test", "bounce1@virt.test",
                          "bounce2@virt.test/1", "bob@virt.test/2")
        self.wait_removed(qid)
        newid = self.bounce_text(qid)
        msg = self.notice_message(newid)
        fields = self.dsn_fields(msg)
        self.assertEqual(fields["final-recipient"], ["rfc822; bounce1@virt.test"])
        self.assertEqual(fields["status"], ["5.1.1"])
        m = self.inst.wait_for_log(
            rf"{qid}: sender delivery status notification: (\w+)")
        ok = self.notice_message(m.group(1))
        self.assertIn("Successful Mail Delivery", ok["Subject"])
        self.assertEqual(self.dsn_fields(ok)["action"], ["delivered"])
        self.assertEqual(self.dsn_fields(ok)["final-recipient"],
                         ["rfc822; bob@virt.test"])
        self.assertEqual(
            len(re.findall(rf"{qid}: sender non-delivery", self.inst.log_text())), 1)

    def test_double_bounce_and_no_loop(self):
        self.inst.start()
        # the notice to bouncesender@ bounces: a postmaster copy goes to
        # 2bounce_notice_recipient (postmaster, local)
        qid = self.inject("bouncesender@virt.test", "bounce1@virt.test")
        n1 = self.bounce_text(qid)
        m = self.inst.wait_for_log(
            rf"{n1}: postmaster non-delivery notification: (\w+)", timeout=15)
        n2 = m.group(1)
        msg = self.notice_message(n2)
        self.assertIn("Postmaster Copy", msg["Subject"])
        self.assertRegex(self.inst.log_text(),
                         rf"local\[\d+\]: {n2}: to=<postmaster@mail.example.test>")
        self.wait_removed(n1)
        self.wait_removed(qid)

    def test_failed_double_bounce_is_dropped(self):
        self.inst.write_main_cf({"2bounce_notice_recipient": "bouncepm@virt.test"})
        self.inst.start()
        qid = self.inject("bouncesender@virt.test", "bounce1@virt.test")
        n1 = self.bounce_text(qid)
        m = self.inst.wait_for_log(
            rf"{n1}: postmaster non-delivery notification: (\w+)", timeout=15)
        n2 = m.group(1)
        self.inst.wait_for_log(
            rf"{n2}: undeliverable postmaster notification discarded")
        self.wait_removed(n2)
        time.sleep(2)
        log = self.inst.log_text()
        self.assertEqual(len(re.findall(r"non-delivery notification", log)), 2)
        self.assertEqual(self.queue_files("incoming"), [])
        self.assertEqual(self.queue_files("active"), [])
        self.assertEqual(self.queue_files("deferred"), [])

    def test_null_sender_bounce_goes_to_postmaster(self):
        self.inst.start()
        qid = self.inject("", "bounce1@virt.test")
        m = self.inst.wait_for_log(
            rf"{qid}: postmaster non-delivery notification: (\w+)")
        self.notice_message(m.group(1))
        self.wait_removed(qid)


class QmgrDelayWarningTest(QmgrTestBase):
    main_extra = {"delay_warning_time": "1s"}

    def test_delay_warning_once(self):
        self.inst.start()
        qid = self.inject("alice@virt.test", "deferme@virt.test",
                          "deferme2@virt.test/4", ago=5)
        m = self.inst.wait_for_log(rf"{qid}: sender delay notification: (\w+)")
        msg = self.notice_message(m.group(1))
        self.assertIn("Delayed Mail", msg["Subject"])
        self.assertEqual(self.dsn_fields(msg)["action"], ["delayed"])
        # NOTIFY=FAILURE alone (4) asks for no delay warning
        self.assertNotIn("deferme2", msg.as_string())
        # more attempts, no second warning
        self.inst.wait_for_log(rf"{qid}: to=<deferme@virt.test>, .*status=deferred",
                               count=3, timeout=20)
        self.assertEqual(len(re.findall(rf"{qid}: sender delay notification",
                                        self.inst.log_text())), 1)


class QmgrTransportMapsTest(QmgrTestBase):
    def test_error_and_discard(self):
        table = os.path.join(self.inst.etc, "transport")
        with open(table, "w") as f:
            f.write("nope@virt.test error:5.1.1 no such user here\n"
                    "junk@virt.test discard:\n"
                    "special.test virtual:\n")
        self.inst.write_main_cf({"transport_maps": f"texthash:{table}"})
        self.inst.start()
        qid = self.inject("alice@virt.test", "nope@virt.test", "junk@virt.test",
                          "x@special.test")
        self.wait_removed(qid)
        log = self.inst.log_text()
        self.assertRegex(log, rf"qmgr\[\d+\]: {qid}: to=<nope@virt.test>, "
                              r"relay=none, .*dsn=5.1.1, status=bounced "
                              r"\(no such user here\)")
        self.assertRegex(log, rf"qmgr\[\d+\]: {qid}: to=<junk@virt.test>, "
                              r"relay=none, .*dsn=2.0.0, status=sent \(discarded\)")
        self.assertRegex(log, rf"virtual\[\d+\]: {qid}: to=<x@special.test>")
        n = self.bounce_text(qid)
        fields = self.dsn_fields(self.notice_message(n))
        self.assertEqual(fields["final-recipient"], ["rfc822; nope@virt.test"])
        self.assertNotIn(("junk@virt.test"), str(fields))


class QmgrCrashTest(QmgrTestBase):
    agent_args = "delay_ms=20"
    agent_maxproc = 8

    def test_sigkill_qmgr_and_agents_while_mail_flows(self):
        self.inst.start()
        expected = set()
        kills = 0
        killed_agents = []
        qids = []
        for i in range(60):
            rcpts = [f"k{i}a@virt.test", f"k{i}b@virt2.test", f"k{i}c@localhost"]
            qid = self.inject("alice@virt.test", *rcpts)
            qids.append(qid)
            expected.update((qid, r) for r in rcpts)
            if i % 10 == 5:
                p = self.qmgr_pid()
                if p:
                    os.kill(p, signal.SIGKILL)
                    kills += 1
            if i % 15 == 7:
                for p in self.agent_pids()[:2]:
                    killed_agents.append(p)
                    os.kill(p, signal.SIGKILL)
                    kills += 1
        # wakeups restart qmgr; deferred ones come back after the backoff
        def all_done():
            self.trigger(b"F")
            return not (self.queue_files("incoming") or self.queue_files("active")
                        or self.queue_files("deferred"))
        self.inst.wait_until(all_done, timeout=90, interval=1.0,
                             what="an empty queue")
        delivered = self.delivered()
        missing = expected - set(delivered)
        self.assertEqual(missing, set(), "recipients lost")
        extra = set(delivered) - expected
        self.assertEqual(extra, set())
        dups = sum(c - 1 for c in delivered.values())
        if os.environ.get("QMGR_TEST_DEBUG"):
            starts = set(re.findall(r"qmgr\[(\d+)\]", self.inst.log_text()))
            print(f"kills={kills} dups={dups} qmgr processes={len(starts)}")
            print("killed agents", killed_agents)
            for qid, rcpt, pid in self.journal_lines():
                if delivered[(qid, rcpt)] > 1:
                    print("dup", qid, rcpt, pid)
        # a duplicate needs a kill between delivery and the done mark
        self.assertLessEqual(dups, kills)
        # (no check for every "removed" line: a kill may fall between
        # the unlink and its log line)
        self.assertEqual(self.queue_files("corrupt"), [])
        self.assertEqual(self.queue_files("hold"), [])


class QmgrWatchTest(QmgrTestBase):
    """qmgr takes a file renamed into incoming/ with no trigger at all
    (qmgr/watch.c): master's wakeup and the queue run are an hour away,
    so only the inotify watch can find it in time."""
    qmgr_wakeup = 3600
    main_extra = {"queue_run_delay": "3600s"}

    def check_untriggered_mail_is_taken(self):
        self.inst.start()
        # the first message (triggered) proves qmgr is past its start
        first = self.inject("alice@example.com", "bob@virt.test")
        self.wait_removed(first)
        start = time.monotonic()
        qids = [self.inject("alice@example.com", f"u{i}@virt.test",
                            trigger=False) for i in range(5)]
        for qid in qids:
            self.wait_removed(qid, timeout=10)
        self.assertLess(time.monotonic() - start, 10)
        d = self.delivered()
        for i, qid in enumerate(qids):
            self.assertEqual(d.get((qid, f"u{i}@virt.test")), 1)
        self.assertNotIn("cannot watch incoming/", self.inst.log_text())

    def test_untriggered_mail_is_taken(self):
        self.check_untriggered_mail_is_taken()

    def test_event_queue_overflow_makes_a_scan(self):
        """When more events arrive than the kernel queues for the watch,
        the ones past the limit are lost and an IN_Q_OVERFLOW comes
        instead: qmgr then scans incoming/, so a message whose event was
        lost is still taken. qmgr is stopped while the queue fills."""
        with open("/proc/sys/fs/inotify/max_queued_events") as f:
            limit = int(f.read())
        if limit > 200000:
            self.skipTest(f"fs.inotify.max_queued_events is {limit}")
        self.inst.start()
        first = self.inject("alice@example.com", "bob@virt.test")
        self.wait_removed(first)
        pid = self.qmgr_pid()
        self.assertIsNotNone(pid)
        incoming = os.path.join(self.inst.queue, "incoming")
        junk = [os.path.join(incoming, ".junk-a"), os.path.join(incoming, ".junk-b")]
        open(junk[0], "w").close()
        os.kill(pid, signal.SIGSTOP)
        try:
            # a watched event per rename, more than the queue holds
            for i in range(limit + 10):
                os.rename(junk[i % 2], junk[(i + 1) % 2])
            lost = self.inject("alice@example.com", "carol@virt.test",
                               trigger=False)
        finally:
            os.kill(pid, signal.SIGCONT)
        self.wait_removed(lost, timeout=15)
        self.assertEqual(self.delivered().get((lost, "carol@virt.test")), 1)
        for path in junk:
            if os.path.exists(path):
                os.unlink(path)


@unittest.skipUnless(os.geteuid() == 0, "chroot needs root")
class QmgrWatchChrootTest(QmgrWatchTest):
    qmgr_chroot = "y"


@unittest.skipUnless(os.geteuid() == 0, "chroot needs root")
class QmgrChrootTest(QmgrTestBase):
    qmgr_chroot = "y"

    def test_delivery_and_bounce_in_chroot(self):
        self.inst.start()
        qid = self.inject("alice@virt.test", "bob@virt.test", "bounce1@virt.test")
        self.wait_removed(qid)
        n = self.bounce_text(qid)
        self.notice_message(n)
        pid = self.qmgr_pid()
        self.assertIsNotNone(pid)
        self.assertEqual(os.readlink(f"/proc/{pid}/root"), self.inst.queue)
        self.assertNotEqual(
            [l for l in open(f"/proc/{pid}/status") if l.startswith("Uid:")][0].split()[1],
            "0")


class QmgrQueueToolsTest(QmgrTestBase):
    """qmgr next to postqueue and postsuper (qtools' lock convention)."""

    def tool(self, name, *args, check=True):
        path = os.path.join(builddir(), "tools", name)
        if not os.access(path, os.X_OK):
            self.skipTest(f"tools/{name} not built")
        proc = subprocess.run([path, "-c", self.inst.etc, *args],
                              capture_output=True, text=True, timeout=30)
        if check:
            self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc

    def deferred_by_transport(self):
        self.inst.write_main_cf({"defer_transports": "virtual"})
        self.inst.start()
        qid = self.inject("alice@virt.test", "bob@virt2.test")
        self.inst.wait_until(lambda: qid in self.queue_files("deferred"),
                             what="message in deferred/")
        return qid

    def test_postqueue_flush(self):
        qid = self.deferred_by_transport()
        listing = self.tool("postqueue", "-p").stdout
        self.assertIn(qid, listing)
        self.assertIn("deferred transport", listing)
        self.tool("postqueue", "-f")
        self.wait_removed(qid)
        self.assertEqual(self.delivered().get((qid, "bob@virt2.test")), 1)

    def test_postqueue_site_and_id(self):
        qid = self.deferred_by_transport()
        other = self.inject("alice@virt.test", "carol@virt.test")
        self.inst.wait_until(lambda: other in self.queue_files("deferred"),
                             what="second message in deferred/")
        self.tool("postqueue", "-s", "VIRT2.test")
        self.wait_removed(qid)
        self.assertIn(other, self.queue_files("deferred"))
        self.tool("postqueue", "-i", other)
        self.wait_removed(other)

    def test_postsuper_hold_and_release(self):
        qid = self.deferred_by_transport()
        self.tool("postsuper", "-h", qid)
        self.assertEqual(self.queue_files("hold"), [qid])
        self.trigger(b"F")
        time.sleep(1.5)
        self.assertEqual(self.queue_files("hold"), [qid])  # qmgr leaves it
        self.assertEqual(self.delivered(), {})
        self.inst.write_main_cf({"defer_transports": ""})
        self.inst.reload()
        self.tool("postsuper", "-H", qid)
        self.wait_removed(qid, timeout=20)
        self.assertEqual(self.delivered().get((qid, "bob@virt2.test")), 1)

    def test_postsuper_skips_message_in_delivery(self):
        self.agent_args = "delay_ms=3000"
        self.write_master_cf()
        self.inst.start()
        qid = self.inject("alice@virt.test", "bob@virt.test")
        self.inst.wait_until(lambda: qid in self.queue_files("active"),
                             what="message in active/")
        time.sleep(0.3)
        proc = self.tool("postsuper", "-d", qid, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("locked", proc.stderr + self.inst.log_text())
        self.wait_removed(qid, timeout=20)
        self.assertEqual(self.delivered().get((qid, "bob@virt.test")), 1)


class QmgrBounceLifetimeTest(QmgrTestBase):
    main_extra = {"maximal_queue_lifetime": "1h", "bounce_queue_lifetime": "2s"}

    def test_notices_expire_after_bounce_queue_lifetime(self):
        self.inst.start()
        # the notice to deferme@ is deferred; it expires after 2s, while
        # ordinary mail would wait an hour
        qid = self.inject("deferme@virt.test", "bounce1@virt.test",
                          "deferme2@virt.test")
        n1 = self.bounce_text(qid)
        self.inst.wait_for_log(rf"{n1}: from=<>, status=expired, returned to "
                               r"sender", timeout=20)
        m = self.inst.wait_for_log(
            rf"{n1}: postmaster non-delivery notification: (\w+)")
        self.notice_message(m.group(1))
        self.wait_removed(n1)
        # the original is still being retried
        self.assertNotRegex(self.inst.log_text(), rf"{qid}: from=<[^>]*>, status=expired")
        self.assertIn(qid, self.queue_files("deferred") + self.queue_files("active"))


def have_virtual():
    return os.access(os.path.join(builddir(), "virtual", "virtual"), os.X_OK)


@unittest.skipUnless(have_programs() and have_virtual(),
                     "qmgr, master, virtual or helpers not built")
class QmgrRealAgentCrashTest(QmgrTestBase):
    """The SIGKILL test again, behind the real virtual agent: every
    recipient ends in its Maildir; a duplicate only where a kill fell
    between a delivery and its done mark."""

    def setUp(self):
        self.inst = inst = Instance(self)
        self.base = base = os.path.join(inst.root, "vmail")
        os.makedirs(base)
        if os.geteuid() == 0:
            uid, gid = inst.owner_uid, inst.owner_gid
            os.chown(base, uid, gid)
        else:
            uid, gid = os.getuid(), os.getgid()
        users = ", ".join(f"u{i}@virt.test=virt.test/u{i}/" for i in range(20))
        inst.write_main_cf({
            "myhostname": "mail.example.test",
            "mydestination": "$myhostname, localhost",
            "virtual_mailbox_domains": "virt.test",
            "virtual_mailbox_base": base,
            "virtual_mailbox_maps": f"inline:{{ {users} }}",
            "virtual_uid_maps": f"static:{uid}",
            "virtual_gid_maps": f"static:{gid}",
            "virtual_minimum_uid": "1",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "queue_run_delay": "1s",
        })
        inst.write_master_cf(
            inst.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                         maxproc=1)
            + inst.service("virtual", "unix", "virtual", unpriv="n", maxproc=6))

    def virtual_pids(self):
        pids = []
        for p in self.inst.instance_pids():
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    if f.read().split(b"\0")[0].endswith(b"/virtual"):
                        pids.append(p)
            except OSError:
                pass
        return pids

    def test_sigkill_with_real_virtual_agent(self):
        self.inst.start()
        expected = {}
        kills = 0
        for i in range(60):
            rcpts = [f"u{i % 20}@virt.test", f"u{(i + 7) % 20}@virt.test"]
            body = MESSAGE.replace(b"Hello.", f"message {i}".encode())
            self.inject("alice@example.com", *rcpts, message=body)
            for r in rcpts:
                expected[r] = expected.get(r, 0) + 1
            if i % 12 == 4 and self.qmgr_pid():
                os.kill(self.qmgr_pid(), signal.SIGKILL)
                kills += 1
            if i % 12 == 9 and self.virtual_pids():
                os.kill(self.virtual_pids()[0], signal.SIGKILL)
                kills += 1

        def empty():
            self.trigger(b"F")
            return not (self.queue_files("incoming") or
                        self.queue_files("active") or
                        self.queue_files("deferred"))
        self.inst.wait_until(empty, timeout=90, interval=1.0,
                             what="an empty queue")
        dups = 0
        for i in range(20):
            rcpt = f"u{i}@virt.test"
            d = os.path.join(self.base, "virt.test", f"u{i}", "new")
            got = len(os.listdir(d)) if os.path.isdir(d) else 0
            self.assertGreaterEqual(got, expected[rcpt],
                                    f"{rcpt} lost mail\n{self.inst.log_tail(30)}")
            dups += got - expected[rcpt]
        self.assertLessEqual(dups, kills)
        self.assertGreater(kills, 0)
