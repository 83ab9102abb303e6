"""test_requeue.py: `postsuper -r` sends a queued message through the
intake rewriting again, as Postfix's postsuper/pickup/cleanup do, on a
whole instance (master + smtpd + qmgr + virtual) driven with smtplib.

Mail from held@example.test is put on hold by an access rule; the admin
edits a table, runs postmap, then `postsuper -r ID` (or ALL); the message
gets a new queue id and is delivered as today's tables say:
virtual_alias_maps expanded again from the original recipient,
sender_canonical_maps applied to the envelope sender and the From:
header. A message with some recipients delivered already never delivers
them again, through two requeues in a row."""
import os
import pwd
import re
import smtplib
import subprocess
import time
import unittest

from agentlib import ensure_user, is_root, maildir_files, prog, read
from instance import Instance, builddir
from smtpd_util import BASE_MAIN_CF


def have_programs():
    return all(os.access(prog(p), os.X_OK)
               for p in ("smtpd/smtpd", "qmgr/qmgr", "virtual/virtual",
                         "tools/postsuper", "tools/postmap", "master/master"))


MESSAGE = ("From: held@example.test\nTo: info@alias.test\n"
           "Subject: requeue me\nMessage-ID: <requeue.%d@example.test>\n"
           "\nbody line\n")


@unittest.skipUnless(have_programs(), "smtpd, qmgr, virtual, postsuper or "
                     "postmap not built")
class RequeueTest(unittest.TestCase):
    def setUp(self):
        self.inst = inst = Instance(self)
        self.base = os.path.join(inst.root, "vmail")
        os.makedirs(self.base)
        if is_root():
            user = ensure_user("pt-vmail", os.path.join(inst.root, "vhome"))
            os.chown(self.base, user.pw_uid, user.pw_gid)
        else:
            user = pwd.getpwuid(os.getuid())
        self.tables = {}
        self.table("virtual", "info@alias.test alice@virt.test\n"
                              "team@alias.test alice@virt.test, "
                              "carol@virt.test\n")
        self.table("sender_canonical", "nobody@example.test other@example.test\n")
        self.table("transport", "carol@virt.test slow:\n")
        params = dict(BASE_MAIN_CF)
        params.update({
            "virtual_mailbox_base": self.base,
            "virtual_mailbox_maps": "inline:{alice@virt.test=alice/, "
                                    "carol@virt.test=carol/, "
                                    "dave@virt.test=dave/}",
            "virtual_uid_maps": f"static:{user.pw_uid}",
            "virtual_gid_maps": f"static:{user.pw_gid}",
            "virtual_minimum_uid": "1",
            "virtual_alias_domains": "alias.test",
            "virtual_alias_maps": "hash:" + self.tables["virtual"],
            "sender_canonical_maps": "hash:" + self.tables["sender_canonical"],
            "transport_maps": "hash:" + self.tables["transport"],
            # "slow" stands for a destination that is down: its mail waits
            # in deferred/ (the transport is never tried).
            "defer_transports": "slow",
            "smtpd_sender_restrictions":
                "check_sender_access inline:{held@example.test=HOLD}",
            "queue_run_delay": "1s",
        })
        inst.main_params.update(params)
        inst.write_main_cf()
        self.port = inst.free_port()
        inst.write_master_cf(
            inst.service(f"127.0.0.1:{self.port}", "inet", "smtpd")
            + inst.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                           maxproc=1)
            + inst.service("virtual", "unix", "virtual", unpriv="n"))
        inst.start()
        self.postsuper = os.path.join(builddir(), "tools", "postsuper")
        self.sent = 0

    # ---- helpers ----

    def table(self, name, text):
        """Writes etc/NAME and builds it with postmap, as an admin does."""
        path = os.path.join(self.inst.etc, name)
        with open(path, "w") as f:
            f.write(text)
        proc = subprocess.run([os.path.join(builddir(), "tools", "postmap"),
                               "-c", self.inst.etc, "hash:" + path],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.tables[name] = path

    def send(self, sender, rcpts, message=None):
        """Sends one message; returns its queue id."""
        self.sent += 1
        body = message if message is not None else MESSAGE % self.sent
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as c:
            c.ehlo("client.example")
            c.mail(sender)
            for r in rcpts:
                code, text = c.rcpt(r)
                self.assertEqual(code, 250, text)
            code, text = c.data(body)
            self.assertEqual(code, 250, text)
        m = re.search(rb"queued as (\w+)", text)
        self.assertTrue(m, text)
        return m.group(1).decode()

    def queue_files(self, queue):
        path = os.path.join(self.inst.queue, queue)
        return sorted(n for n in os.listdir(path) if not n.startswith("."))

    def wait_queue(self, queue, qid):
        self.inst.wait_until(lambda: qid in self.queue_files(queue),
                             what=f"{qid} in {queue}/")

    def run_postsuper(self, *args):
        proc = subprocess.run([self.postsuper, "-c", self.inst.etc, *args],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc

    def mailbox(self, user):
        path = os.path.join(self.base, user)
        return maildir_files(path) if os.path.isdir(path) else []

    def wait_mail(self, user, count, timeout=20):
        self.inst.wait_until(lambda: len(self.mailbox(user)) >= count,
                             timeout=timeout,
                             what=f"{count} message(s) for {user}")
        return [read(p) for p in sorted(self.mailbox(user))]

    def requeued_as(self, old, mark):
        """The new id logged for old (pickup's orig_id= line)."""
        match = self.inst.wait_for_log(
            rf"postern/qmgr\[\d+\]: (\w+): uid=\d+ from=<[^>]*> "
            rf"orig_id={old}\b", since=mark)
        return match.group(1)

    def settle(self):
        """Long enough for qmgr to have delivered anything it would."""
        time.sleep(1.5)

    # ---- tests ----

    def test_alias_change_reaches_new_target(self):
        qid = self.send("held@example.test", ["info@alias.test"])
        self.wait_queue("hold", qid)
        # The admin points the alias elsewhere and rebuilds the table.
        self.table("virtual", "info@alias.test carol@virt.test, "
                              "dave@virt.test\n"
                              "team@alias.test alice@virt.test\n")
        self.table("transport", "nobody@virt.test slow:\n")
        mark = self.inst.log_mark()
        out = self.run_postsuper("-r", qid)
        self.assertEqual(out.stderr, "postsuper: Requeued: 1 message\n")
        new = self.requeued_as(qid, mark)
        self.assertNotEqual(new, qid)
        carol = self.wait_mail("carol", 1)
        dave = self.wait_mail("dave", 1)
        self.settle()
        self.assertEqual(self.mailbox("alice"), [])  # the old target
        for data in carol + dave:
            self.assertIn(b"Subject: requeue me", data)
        self.assertIn(b"Delivered-To: carol@virt.test", carol[0])
        log = self.inst.log_since(mark)
        self.assertIn(f"{qid}: requeued", log)
        self.assertIn(f"{new}: message-id=<requeue.1@example.test>", log)
        self.assertRegex(log, rf"{new}: to=<carol@virt.test>, "
                              rf"orig_to=<info@alias.test>, .*status=sent")
        self.assertRegex(log, rf"{new}: from=<held@example.test>, size=\d+, "
                              rf"nrcpt=2 \(queue active\)")
        # Nothing is left of the old message.
        for queue in ("hold", "maildrop", "incoming", "active", "deferred"):
            self.assertNotIn(qid, self.queue_files(queue), queue)

    def test_sender_canonical_change_and_requeue_all(self):
        qids = [self.send("held@example.test", ["info@alias.test"])
                for _ in range(2)]
        for qid in qids:
            self.wait_queue("hold", qid)
        self.table("sender_canonical", "held@example.test boss@example.test\n")
        mark = self.inst.log_mark()
        out = self.run_postsuper("-r", "ALL")
        self.assertEqual(out.stderr, "postsuper: Requeued: 2 messages\n")
        for qid in qids:
            self.requeued_as(qid, mark)
        mail = self.wait_mail("alice", 2)
        for data in mail:
            headers = data.split(b"\n\n", 1)[0]
            self.assertIn(b"Return-Path: <boss@example.test>", headers)
            # header_sender is among sender_canonical_classes; smtpd's
            # Received: is kept as it was.
            self.assertIn(b"\nFrom: boss@example.test\n", headers)
            self.assertNotIn(b"held@example.test", headers.split(
                b"Received:", 1)[0])
            self.assertIn(b"To: info@alias.test", headers)
        self.assertRegex(self.inst.log_since(mark),
                         r"from=<boss@example.test>, size=\d+, nrcpt=1 "
                         r"\(queue active\)")

    def test_delivered_recipients_are_not_delivered_again(self):
        # alice is delivered at once; carol's transport is down.
        qid = self.send("someone@example.test", ["team@alias.test"])
        self.wait_mail("alice", 1)
        self.wait_queue("deferred", qid)
        # team gets a new member; carol's destination is still down.
        self.table("virtual", "team@alias.test alice@virt.test, "
                              "carol@virt.test, dave@virt.test\n")
        mark = self.inst.log_mark()
        self.run_postsuper("-r", qid)
        first = self.requeued_as(qid, mark)
        self.wait_mail("dave", 1)
        self.wait_queue("deferred", first)
        # Again, now that carol can be reached: alice and dave have theirs.
        self.table("transport", "nobody@virt.test slow:\n")
        mark = self.inst.log_mark()
        self.run_postsuper("-r", first)
        second = self.requeued_as(first, mark)
        self.wait_mail("carol", 1)
        self.inst.wait_for_log(rf"{second}: removed", since=mark)
        self.settle()
        self.assertEqual(len(self.mailbox("alice")), 1)
        self.assertEqual(len(self.mailbox("dave")), 1)
        self.assertEqual(len(self.mailbox("carol")), 1)
        self.assertRegex(self.inst.log_since(mark),
                         rf"{second}: from=<someone@example.test>, size=\d+, "
                         rf"nrcpt=3 \(queue active\)")

    def test_table_error_keeps_the_message_in_maildrop(self):
        qid = self.send("held@example.test", ["info@alias.test"])
        self.wait_queue("hold", qid)
        os.rename(self.tables["virtual"] + ".db",
                  self.tables["virtual"] + ".db.away")
        mark = self.inst.log_mark()
        self.run_postsuper("-r", qid)
        self.inst.wait_for_log(rf"{qid}: requeue deferred: .*4\.", since=mark)
        self.assertEqual(self.queue_files("maildrop"), [qid])
        # The table is back: the next wakeup finishes the job.
        os.rename(self.tables["virtual"] + ".db.away",
                  self.tables["virtual"] + ".db")
        self.requeued_as(qid, mark)
        self.wait_mail("alice", 1)
        self.assertEqual(self.queue_files("maildrop"), [])


if __name__ == "__main__":
    unittest.main()
