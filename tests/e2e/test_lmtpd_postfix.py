"""test_lmtpd_postfix.py: Debian's Postfix delivers into Postern over
LMTP, in place of Dovecot's LMTP. A throwaway Postfix (postfix_util.py)
has virtual_mailbox_domains = ex.org and virtual_transport =
lmtp:unix:OUR_QUEUE/private/lmtp-in (and lmtp:inet:127.0.0.1:PORT);
mail sent to that Postfix with
smtplib ends in our Maildirs, and Postfix logs the replies of our
server: one per recipient, a recipient unknown to us bounced with our
550 quoted.

Postfix's lmtp client runs as its mail_owner, which must get through our
private/ directory (mode 0700, owned by our mail_owner): the Postfix
instance is given our mail_owner, as docs/lmtpd.md describes."""
import os
import smtplib
import time
import unittest

from lmtpd_util import LmtpdEnv
from postfix_util import PostfixInstance, postfix_missing
from test_lmtpd import have_programs

BODY = (b"From: s@x.org\r\nTo: a@ex.org, b@ex.org\r\nSubject: via postfix\r\n"
        b"\r\n.leading dot\r\nbody\r\n")


@unittest.skipUnless(have_programs(), "lmtpd, master or qmgr not built")
@unittest.skipIf(postfix_missing(), postfix_missing())
class PostfixIntoLmtpdTest(unittest.TestCase):
    def setUp(self):
        self.env = LmtpdEnv(self)

    def start_postfix(self, transport):
        self.postfix = PostfixInstance(
            self, self.env.inst.free_port(), self.env.inst.mail_owner, {
                "virtual_mailbox_domains": "ex.org",
                # Postfix takes every ex.org address; ours decides at RCPT.
                "virtual_mailbox_maps": "static:yes",
                "virtual_transport": transport,
            }, extra_services="lmtp unix - - n - - lmtp\n")
        self.postfix.start()

    def wait_messages(self, user, count, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.env.messages(user)
            if len(messages) >= count:
                return messages
            time.sleep(0.2)
        self.fail(f"{user} got {len(self.env.messages(user))} messages\n"
                  f"Postfix log:\n{self.postfix.log()}\n"
                  f"Postern log:\n{self.env.inst.log_tail(20)}")

    def wait_postfix_log(self, needle, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.postfix.log():
                return
            time.sleep(0.2)
        self.fail(f"{needle!r} not in Postfix's log:\n{self.postfix.log()}")

    def test_postfix_delivers_through_our_lmtp(self):
        self.start_postfix(f"lmtp:unix:{self.env.socket}")
        with smtplib.SMTP("127.0.0.1", self.postfix.port, timeout=15) as s:
            refused = s.sendmail("", ["a@ex.org", "b@ex.org", "zz@ex.org"],
                                 BODY)
        self.assertEqual(refused, {})
        for user in ("a", "b"):
            [stored] = self.wait_messages(user, 1)
            self.assertTrue(stored.startswith(
                b"Return-Path: <>\n"
                + f"Delivered-To: {user}@ex.org\n".encode()
                + b"Received: from postfix-test.example.org\n"
                  b"\tby lmtp.example.test (Postern) with LMTP id "), stored)
            # Postfix's own Received: follows ours, then the message.
            self.assertIn(b"by postfix-test.example.org (Postfix) with ESMTP",
                          stored)
            # (Postfix's cleanup adds Message-Id: and Date: below.)
            self.assertIn(b"\nSubject: via postfix\n", stored)
            self.assertTrue(stored.endswith(b"\n\n.leading dot\nbody\n"),
                            stored)
        # Postfix logs each recipient with our reply, and the unknown one
        # bounced with our 550 quoted.
        self.wait_postfix_log("to=<a@ex.org>, relay=")
        log = self.postfix.log()
        self.assertRegex(log, r"to=<a@ex\.org>, relay=\S+, .*status=sent "
                              r"\(250 2\.0\.0 <a@ex\.org> \w+ Saved\)")
        self.assertRegex(log, r"to=<b@ex\.org>, relay=\S+, .*status=sent "
                              r"\(250 2\.0\.0 <b@ex\.org> \w+ Saved\)")
        self.wait_postfix_log("to=<zz@ex.org>")
        self.assertRegex(self.postfix.log(),
                         r"to=<zz@ex\.org>, relay=\S+, .*status=bounced "
                         r"\(host \S+ said: 550 5\.1\.1 <zz@ex\.org>: User "
                         r"unknown \(in reply to RCPT TO command\)\)")
        self.env.inst.wait_for_log(r"to=<a@ex\.org>, relay=lmtp-in, .*"
                                   r"status=sent \(delivered to maildir\)")

    def test_postfix_over_tcp(self):
        self.start_postfix(f"lmtp:inet:127.0.0.1:{self.env.port}")
        with smtplib.SMTP("127.0.0.1", self.postfix.port, timeout=15) as s:
            s.sendmail("s@ex.org", ["c@ex.org"], BODY)
        [stored] = self.wait_messages("c", 1)
        self.assertTrue(stored.startswith(
            b"Return-Path: <s@ex.org>\nDelivered-To: c@ex.org\n"
            b"Received: from postfix-test.example.org ([127.0.0.1])\n"), stored)
        self.assertRegex(stored.decode(), r"\n\tfor <c@ex\.org>; ")
        self.wait_postfix_log("to=<c@ex.org>, relay=")
        self.assertRegex(self.postfix.log(),
                         r"to=<c@ex\.org>, relay=127\.0\.0\.1\[127\.0\.0\.1\]"
                         r":\d+, .*status=sent \(250 2\.0\.0 <c@ex\.org> \w+ "
                         r"Saved\)")


if __name__ == "__main__":
    unittest.main()
