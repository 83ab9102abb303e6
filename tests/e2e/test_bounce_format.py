"""test_bounce_format.py: delivery status notices read by Python's email
package.

tests/helpers/bounce_compose writes a notice with lib/message/bounce_msg; these
cases parse it the way a mail client or another MTA would and check that
it is a valid multipart/report with message/delivery-status, RFC 3464's
fields, and the original (or its header) as the third part.
"""
import email
import email.policy
import email.utils
import os
import subprocess
import tempfile
import unittest

BUILDDIR = os.environ.get(
    "POSTERN_BUILDDIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
HELPER = os.path.join(BUILDDIR, "tests", "helpers", "bounce_compose")

NOW = 1795000000
ARRIVAL = NOW - 4 * 3600

ORIGINAL = (b"From: Alice <alice@example.com>\r\n"
            b"To: bob@example.org\r\n"
            b"Subject: quarterly figures\r\n"
            b"Message-ID: <orig.1@example.com>\r\n"
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=us-ascii\r\n"
            b"\r\n"
            b"Hello Bob,\r\n"
            b"here are the figures.\r\n")

BOB = ("bob@example.org|rfc822;Bob@Example.org|5.1.1|host mx.example.org"
       "[192.0.2.1] said: 550 5.1.1 <bob@example.org>: Recipient address "
       "rejected: User unknown (in reply to RCPT TO command)|mx.example.org|"
       "550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown|")
CAROL = "carol@example.org||5.2.2|mailbox is full|||info@example.org"


@unittest.skipUnless(os.access(HELPER, os.X_OK), "bounce_compose not built")
class BounceFormat(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.original = os.path.join(self.tmp.name, "original.eml")
        with open(self.original, "wb") as f:
            f.write(ORIGINAL)

    def tearDown(self):
        self.tmp.cleanup()

    def compose(self, *args, rcpts=(BOB, CAROL), original=True, check=True):
        cmd = [HELPER, "-n", str(NOW), "-a", str(ARRIVAL)]
        cmd += list(args)
        for r in rcpts:
            cmd += ["-R", r]
        if original:
            cmd.append(self.original)
        proc = subprocess.run(cmd, capture_output=True, timeout=30)
        if check:
            self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        return proc

    def parse(self, raw, policy=email.policy.default):
        msg = email.message_from_bytes(raw, policy=policy)
        for part in msg.walk():
            self.assertEqual(list(part.defects), [],
                             f"defects in {part.get_content_type()}")
        return msg

    def report_parts(self, msg):
        self.assertTrue(msg.is_multipart())
        self.assertEqual(msg.get_content_type(), "multipart/report")
        self.assertEqual(msg.get_param("report-type"), "delivery-status")
        return msg.get_payload()

    def status_blocks(self, part):
        """Per-message block and per-recipient blocks of a DSN part."""
        self.assertEqual(part.get_content_type(), "message/delivery-status")
        blocks = part.get_payload()
        self.assertGreaterEqual(len(blocks), 2)
        return blocks[0], blocks[1:]

    def test_failure_report_is_valid_multipart_report(self):
        raw = self.compose("-e", "ENV-42").stdout
        msg = self.parse(raw)
        self.assertEqual(msg["Subject"], "Undelivered Mail Returned to Sender")
        self.assertEqual(msg["Auto-Submitted"], "auto-replied")
        self.assertEqual(msg["To"].addresses[0].addr_spec, "alice@example.com")
        sender = msg["From"].addresses[0]
        self.assertEqual(sender.addr_spec, "MAILER-DAEMON@mail.example.org")
        self.assertEqual(email.utils.parsedate_to_datetime(msg["Date"]).timestamp(), NOW)
        self.assertTrue(msg["Message-ID"].startswith("<"))
        self.assertEqual(msg["MIME-Version"], "1.0")

        text, status, returned = self.report_parts(msg)
        self.assertEqual(text.get_content_type(), "text/plain")
        body = text.get_content()
        self.assertIn("<bob@example.org>: host mx.example.org[192.0.2.1] said:", body)
        self.assertIn("<carol@example.org> (expanded from <info@example.org>): "
                      "mailbox is full", body)

        per_message, recipients = self.status_blocks(status)
        self.assertEqual(per_message["Reporting-MTA"], "dns; mail.example.org")
        self.assertEqual(per_message["Original-Envelope-Id"], "ENV-42")
        self.assertEqual(per_message["X-Postern-Queue-ID"], "4XyZ12AbCd")
        self.assertEqual(per_message["X-Postern-Sender"], "rfc822; alice@example.com")
        self.assertEqual(
            email.utils.parsedate_to_datetime(per_message["Arrival-Date"]).timestamp(),
            ARRIVAL)
        self.assertEqual(len(recipients), 2)
        bob, carol = recipients
        self.assertEqual(bob["Final-Recipient"], "rfc822; bob@example.org")
        self.assertEqual(bob["Original-Recipient"], "rfc822; Bob@Example.org")
        self.assertEqual(bob["Action"], "failed")
        self.assertEqual(bob["Status"], "5.1.1")
        self.assertEqual(bob["Remote-MTA"], "dns; mx.example.org")
        self.assertEqual(" ".join(bob["Diagnostic-Code"].split()),
                         "smtp; 550 5.1.1 <bob@example.org>: Recipient address "
                         "rejected: User unknown")
        self.assertIsNotNone(bob["Last-Attempt-Date"])
        self.assertIsNone(bob["Will-Retry-Until"])
        self.assertEqual(carol["Final-Recipient"], "rfc822; carol@example.org")
        self.assertIsNone(carol["Original-Recipient"])
        self.assertEqual(carol["Status"], "5.2.2")
        # Every recipient block has RFC 3464's required fields.
        for block in recipients:
            for name in ("Final-Recipient", "Action", "Status"):
                self.assertIsNotNone(block[name], name)

        self.assertEqual(returned.get_content_type(), "message/rfc822")
        inner = returned.get_payload(0)
        self.assertEqual(inner["Subject"], "quarterly figures")
        self.assertEqual(inner["Message-ID"], "<orig.1@example.com>")
        self.assertIn("here are the figures.", inner.get_content())

    def test_ret_hdrs_returns_headers_only(self):
        msg = self.parse(self.compose("-r", "hdrs").stdout)
        returned = self.report_parts(msg)[2]
        self.assertEqual(returned.get_content_type(), "text/rfc822-headers")
        headers = returned.get_payload()
        self.assertIn("Subject: quarterly figures", headers)
        self.assertNotIn("figures.", headers.replace("quarterly figures", ""))
        # The returned header parses as a header.
        again = email.message_from_string(headers)
        self.assertEqual(again["Message-ID"], "<orig.1@example.com>")

    def test_bounce_size_limit(self):
        msg = self.parse(self.compose("-l", "100").stdout)
        returned = self.report_parts(msg)[2]
        self.assertEqual(returned.get_content_type(), "text/rfc822-headers")
        self.assertIn("too large", self.report_parts(msg)[0].get_content())
        msg = self.parse(self.compose("-l", str(len(ORIGINAL))).stdout)
        self.assertEqual(self.report_parts(msg)[2].get_content_type(), "message/rfc822")

    def test_delay_warning(self):
        until = ARRIVAL + 5 * 86400
        rcpt = "dave@example.net||4.4.1|connect to mx.example.net[198.51.100.7]:25: " \
               "Connection timed out||"
        msg = self.parse(self.compose("-k", "delay", "-u", str(until), rcpts=[rcpt]).stdout)
        self.assertEqual(msg["Subject"], "Delayed Mail (still being retried)")
        text, status, returned = self.report_parts(msg)
        self.assertIn("warning only", text.get_content())
        self.assertIn("delayed for 4 hours", text.get_content())
        _, (dave,) = self.status_blocks(status)
        self.assertEqual(dave["Action"], "delayed")
        self.assertEqual(dave["Status"], "4.4.1")
        self.assertEqual(
            email.utils.parsedate_to_datetime(dave["Will-Retry-Until"]).timestamp(), until)
        self.assertEqual(returned.get_content_type(), "text/rfc822-headers")

    def test_success_report(self):
        rcpt = "erin@example.org||2.0.0|delivered to maildir||"
        msg = self.parse(self.compose("-k", "success", rcpts=[rcpt]).stdout)
        self.assertEqual(msg["Subject"], "Successful Mail Delivery Report")
        _, (erin,) = self.status_blocks(self.report_parts(msg)[1])
        self.assertEqual(erin["Action"], "delivered")
        self.assertEqual(erin["Status"], "2.0.0")
        self.assertEqual(erin["Diagnostic-Code"], "X-Postern; delivered to maildir")

    def test_crlf_output_parses_under_smtp_policy(self):
        raw = self.compose("-c").stdout
        self.assertNotIn(b"\n", raw.replace(b"\r\n", b""))
        msg = self.parse(raw, policy=email.policy.SMTP)
        text, status, returned = self.report_parts(msg)
        self.assertEqual(len(self.status_blocks(status)[1]), 2)
        self.assertEqual(returned.get_payload(0)["Subject"], "quarterly figures")

    def test_8bit_original(self):
        with open(self.original, "wb") as f:
            f.write(b"Subject: caf\xc3\xa9\nContent-Type: text/plain; charset=utf-8\n"
                    b"Content-Transfer-Encoding: 8bit\n\nna\xc3\xafve body\n")
        raw = self.compose("-8").stdout
        self.assertIn("na\u00efve body".encode(), raw)
        msg = self.parse(raw)
        self.assertEqual(msg["Content-Transfer-Encoding"], "8bit")
        returned = self.report_parts(msg)[2]
        self.assertEqual(returned["Content-Transfer-Encoding"], "8bit")
        self.assertIn("na\u00efve body", returned.get_payload(0).get_content())

    def test_boundary_unique_and_absent_from_content(self):
        first = self.parse(self.compose().stdout)
        second = self.parse(self.compose().stdout)
        self.assertNotEqual(first.get_boundary(), second.get_boundary())
        self.assertLessEqual(len(first.get_boundary()), 70)
        self.assertNotEqual(first["Message-ID"], second["Message-ID"])

    def test_null_sender_is_refused(self):
        proc = self.compose("-s", "", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b"null sender", proc.stderr)
        # ...but a postmaster copy of it can be sent.
        msg = self.parse(self.compose("-s", "", "-t", "postmaster@example.org",
                                      "-P").stdout)
        self.assertEqual(msg["Subject"],
                         "Postmaster Copy: Undelivered Mail Returned to Sender")
        self.assertEqual(msg["To"].addresses[0].addr_spec, "postmaster@example.org")

    def test_no_original_means_two_parts(self):
        msg = self.parse(self.compose(original=False).stdout)
        self.assertEqual(len(self.report_parts(msg)), 2)


if __name__ == "__main__":
    unittest.main()
