"""Local submission: tools/sendmail talking ESMTP to smtpd on
public/submit (smtpd_local_submission = yes): peer uid logged, trusted
for relaying, Message-Id:/Date:/From: added, -t/-f/-F/-i/-bs, and
sysexits exit codes."""
import os
import subprocess
import unittest

from instance import builddir, is_root
from smtpd_util import SmtpdInstance

EX_TEMPFAIL = 75


class SendmailTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance()
        cls.sendmail = os.path.join(builddir(), "tools", "sendmail")

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def setUp(self):
        self.mark = self.inst.log_mark()

    def run_sendmail(self, args, message, preexec=None, program=None):
        proc = subprocess.run([program or self.sendmail, "-C", self.inst.etc, *args],
                              input=message, capture_output=True,
                              timeout=30, preexec_fn=preexec)
        return proc

    def new_files(self, before):
        return sorted(set(self.inst.incoming()) - before)

    def submit(self, args, message):
        before = set(self.inst.incoming())
        proc = self.run_sendmail(args, message)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        files = self.new_files(before)
        self.assertEqual(len(files), 1)
        return files[0], self.inst.qfile(files[0])

    def test_plain_submission_adds_headers(self):
        qid, q = self.submit(["bob@example.test"], b"Subject: local\n\nhi\n")
        uid = os.getuid()
        self.assertEqual(q["recipients"][0]["address"], "bob@example.test")
        content = q["content"]
        self.assertTrue(content.startswith(
            f"Received: by mx.example.test (Postern, from userid {uid})\n"
            f"\tid {qid}; "), content)
        self.assertRegex(content, rf"\nMessage-Id: <\d{{14}}\.{qid}@mx\.example\.test>\n")
        self.assertRegex(content, r"\nDate: \w{3}, \d\d \w{3} \d{4} ")
        self.assertIn(f"\nFrom: {q['sender']}\n", content)
        self.assertTrue(content.endswith("\n\nhi\n"), content)
        self.inst.wait_for_log(rf"{qid}: uid={uid} from=<{q['sender']}>",
                               since=self.mark)

    def test_uid_of_another_user(self):
        if not is_root():
            self.skipTest("needs root to run sendmail as another user")
        before = set(self.inst.incoming())

        def become_nobody():
            os.setgid(65534)
            os.setuid(65534)
        # nobody may not reach the build tree (a clone under /root): run
        # the instance's copy, as a user would run the installed one.
        self.inst.add_program("sendmail", self.sendmail)
        proc = self.run_sendmail(["-f", "nobody@example.test",
                                  "bob@example.test"], b"Subject: x\n\nx\n",
                                 preexec=become_nobody,
                                 program=self.inst.program("sendmail"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        qid = self.new_files(before)[0]
        self.inst.wait_for_log(rf"{qid}: uid=65534 from=<nobody@example\.test>",
                               since=self.mark)
        self.assertIn("from userid 65534", self.inst.qfile(qid)["content"])

    def test_extract_recipients_and_remove_bcc(self):
        qid, q = self.submit(
            ["-t", "-f", "me@example.test"],
            b"To: Bob <bob@example.test>\nCc: carol@virt.test\n"
            b"Bcc: alice@virt.test,\n  info@alias.test\nSubject: t\n\nbody\n")
        self.assertEqual(q["sender"], "me@example.test")
        self.assertEqual(sorted(r["original"] for r in q["recipients"]),
                         ["alice@virt.test", "bob@example.test",
                          "carol@virt.test", "info@alias.test"])
        self.assertNotIn("Bcc", q["content"])
        self.assertNotIn("info@alias.test", q["content"])
        self.assertIn("Cc: carol@virt.test\n", q["content"])

    def test_fullname_and_dot_handling(self):
        qid, q = self.submit(["-F", "Jo Q. User", "-f", "jo@example.test",
                              "bob@example.test"],
                             b"Subject: d\n\nbefore\n.\nafter\n")
        self.assertIn('From: "Jo Q. User" <jo@example.test>\n', q["content"])
        # Without -i a lone dot ends the message.
        self.assertTrue(q["content"].endswith("\nbefore\n"), q["content"])
        qid, q = self.submit(["-oi", "bob@example.test"],
                             b"Subject: d\n\nbefore\n.\n..two\nafter\n")
        self.assertTrue(q["content"].endswith("\nbefore\n.\n..two\nafter\n"),
                        q["content"])

    def test_r_sets_envelope_sender_like_f(self):
        qid, q = self.submit(["-r", "robot@example.test", "bob@example.test"],
                             b"Subject: r\n\nr\n")
        self.assertEqual(q["sender"], "robot@example.test")
        self.assertIn("\nFrom: robot@example.test\n", q["content"])

    def test_mbox_from_line_dropped(self):
        qid, q = self.submit(["bob@example.test"],
                             b"From someone Mon Nov 23 00:00:00 2026\n"
                             b"Subject: m\n\nFrom here on, body\n")
        self.assertNotIn("From someone", q["content"])
        self.assertIn("\nSubject: m\n", q["content"])
        self.assertTrue(q["content"].endswith("\n\nFrom here on, body\n"))

    def test_local_submission_may_relay(self):
        qid, q = self.submit(["someone@far.example"], b"Subject: r\n\nr\n")
        self.assertEqual(q["recipients"][0]["address"], "someone@far.example")

    def test_unknown_user_is_queued_not_refused(self):
        # As Postfix: local submission never refuses an unknown recipient;
        # the message is queued and the sender gets a bounce later
        # (test_sendmail_flow.py follows it to the DSN).
        qid, q = self.submit(["nobody@example.test"], b"Subject: u\n\nu\n")
        self.assertEqual(q["recipients"][0]["address"], "nobody@example.test")

    def test_bs_relays_smtp(self):
        script = (b"EHLO me\r\nMAIL FROM:<me@example.test>\r\n"
                  b"RCPT TO:<bob@example.test>\r\nDATA\r\nSubject: bs\r\n\r\n"
                  b"via -bs\r\n.\r\nQUIT\r\n")
        before = set(self.inst.incoming())
        proc = self.run_sendmail(["-bs"], script)
        self.assertEqual(proc.returncode, 0)
        self.assertIn(b"250 2.0.0 Ok: queued as ", proc.stdout)
        self.assertIn(b"221 2.0.0 Bye", proc.stdout)
        self.assertEqual(len(self.new_files(before)), 1)

    def test_bp_lists_the_queue(self):
        if not os.access(os.path.join(builddir(), "tools", "postqueue"),
                         os.X_OK):
            self.skipTest("no tools/postqueue in this build")
        qid, _ = self.submit(["bob@example.test"], b"Subject: bp\n\nx\n")
        with open(os.path.join(self.inst.etc, "main.cf"), "a") as f:
            f.write(f"command_directory = {builddir()}/tools\n")
        proc = self.run_sendmail(["-bp"], b"")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(qid.encode(), proc.stdout)

    def test_intake_down_is_tempfail(self):
        proc = subprocess.run([self.sendmail, "-C", self.inst.etc,
                               "-bm", "bob@example.test"],
                              input=b"x\n", capture_output=True, timeout=30,
                              env=dict(os.environ, MAIL_CONFIG=""))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # Point at a queue directory with no socket.
        other = os.path.join(self.inst.root, "etc2")
        os.makedirs(other, exist_ok=True)
        with open(os.path.join(self.inst.etc, "main.cf")) as f:
            text = f.read()
        with open(os.path.join(other, "main.cf"), "w") as f:
            f.write(text + f"\nqueue_directory = {self.inst.root}/nowhere\n")
        proc = subprocess.run([self.sendmail, "-C", other, "bob@example.test"],
                              input=b"x\n", capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, EX_TEMPFAIL, proc.stderr)


if __name__ == "__main__":
    unittest.main()
