"""test_header_rewrite.py: header address rewriting in smtpd, as Postfix's
cleanup does it, through the front door: mail sent with smtplib and with
sendmail to a whole instance (master + smtpd + qmgr + virtual), read back
from the delivered Maildir file.

canonical_maps / sender_canonical_maps / recipient_canonical_maps apply
to From:/To:/Cc:/... per canonical_classes; bare local parts get
@$myorigin for clients in local_header_rewrite_clients (default
permit_inet_interfaces: 127.0.0.1 here, and local submission); headers
from other clients (127.0.0.2) are left alone; display names, comments
and folding are kept; other headers and the body are untouched; a table
error defers the message."""
import os
import pwd
import smtplib
import subprocess
import time
import unittest

from agentlib import ensure_user, is_root, maildir_files, prog, read
from instance import Instance, builddir
from smtpd_util import BASE_MAIN_CF, SmtpdInstance

CANONICAL = ("inline:{old@example.test=new@example.test, "
             "someone@far.example=Renamed@far.example}")
SENDER_CANONICAL = "inline:{sx@far.example=sender-mapped@example.test}"
RECIPIENT_CANONICAL = "inline:{ry@far.example=rcpt-mapped@example.test}"


def have_programs():
    return all(os.access(prog(p), os.X_OK)
               for p in ("smtpd/smtpd", "qmgr/qmgr", "virtual/virtual",
                         "tools/sendmail", "master/master"))


@unittest.skipUnless(have_programs(), "smtpd, qmgr, virtual or sendmail "
                     "not built")
class HeaderRewriteTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = inst = Instance()
        root = inst.root
        cls.base = os.path.join(root, "vmail")
        os.makedirs(cls.base)
        if is_root():
            user = ensure_user("pt-vmail", os.path.join(root, "vhome"))
            os.chown(cls.base, user.pw_uid, user.pw_gid)
        else:
            user = pwd.getpwuid(os.getuid())
        params = dict(BASE_MAIN_CF)
        params.update({
            "virtual_mailbox_base": cls.base,
            "virtual_uid_maps": f"static:{user.pw_uid}",
            "virtual_gid_maps": f"static:{user.pw_gid}",
            "virtual_minimum_uid": "1",
            "canonical_maps": CANONICAL,
            "sender_canonical_maps": SENDER_CANONICAL,
            "recipient_canonical_maps": RECIPIENT_CANONICAL,
            "queue_run_delay": "1s",
        })
        inst.main_params.update(params)
        inst.write_main_cf()
        cls.port = inst.free_port()
        inst.write_master_cf(
            inst.service(f"127.0.0.1:{cls.port}", "inet", "smtpd")
            + inst.service("submit", "unix", "smtpd", private="n",
                           args=["-o", "smtpd_local_submission=yes"])
            + inst.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                           maxproc=1)
            + inst.service("virtual", "unix", "virtual", unpriv="n"))
        inst.start()
        inst.wait_until(lambda: os.path.exists(
            os.path.join(inst.queue, "public", "submit")), what="submit")
        cls.sendmail = os.path.join(builddir(), "tools", "sendmail")

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def mailbox(self):
        return os.path.join(self.base, "alice")

    def delivered(self, before, timeout=20):
        """The one new file in alice's Maildir, as bytes."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            files = set(maildir_files(self.mailbox())) \
                if os.path.isdir(self.mailbox()) else set()
            new = sorted(files - before)
            if new:
                self.assertEqual(len(new), 1)
                return read(new[0])
            time.sleep(0.05)
        self.fail("nothing delivered; log:\n" + self.inst.log_tail(30))

    def existing(self):
        if not os.path.isdir(self.mailbox()):
            return set()
        return set(maildir_files(self.mailbox()))

    def smtp(self, message, source="127.0.0.1", sender="old@example.test"):
        before = self.existing()
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20,
                          source_address=(source, 0)) as c:
            c.sendmail(sender, ["alice@virt.test"], message)
        return self.delivered(before)

    def via_sendmail(self, message):
        before = self.existing()
        proc = subprocess.run([self.sendmail, "-C", self.inst.etc, "-f",
                               "joe@example.test", "alice@virt.test"],
                              input=message, capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return self.delivered(before)

    @staticmethod
    def headers(data):
        return data.split(b"\n\n", 1)[0] + b"\n"

    def test_canonical_maps_on_from_and_to(self):
        got = self.smtp(b"From: \"Old Name\" <old@example.test>\r\n"
                        b"To: Someone <someone@far.example>, other@far.example"
                        b"\r\nSubject: canonical\r\n\r\nbody\r\n")
        hdr = self.headers(got)
        self.assertIn(b'\nFrom: "Old Name" <new@example.test>\n', hdr)
        self.assertIn(b"\nTo: Someone <Renamed@far.example>, "
                      b"other@far.example\n", hdr)
        self.assertTrue(got.endswith(b"\n\nbody\n"), got)

    def test_sender_only_and_recipient_only_maps(self):
        got = self.smtp(b"From: sx@far.example\r\nReply-To: ry@far.example\r\n"
                        b"To: sx@far.example\r\nCc: ry@far.example\r\n"
                        b"Subject: classes\r\n\r\nx\r\n")
        hdr = self.headers(got)
        self.assertIn(b"\nFrom: sender-mapped@example.test\n", hdr)
        # A recipient map does not touch sender headers, and the other way.
        self.assertIn(b"\nReply-To: ry@far.example\n", hdr)
        self.assertIn(b"\nTo: sx@far.example\n", hdr)
        self.assertIn(b"\nCc: rcpt-mapped@example.test\n", hdr)

    def test_bare_local_part_from_sendmail_gets_myorigin(self):
        got = self.via_sendmail(b"From: Joe Local <joe>\nTo: alice@virt.test,"
                                b" bob\nCc: carol (the boss)\nSubject: bare\n"
                                b"\nhi\n")
        hdr = self.headers(got)
        self.assertIn(b"\nFrom: Joe Local <joe@example.test>\n", hdr)
        self.assertIn(b"\nTo: alice@virt.test, bob@example.test\n", hdr)
        self.assertIn(b"\nCc: carol@example.test (the boss)\n", hdr)

    def test_local_inet_client_is_completed_remote_is_not(self):
        msg = (b"From: joe\r\nTo: Old <old@example.test>\r\n"
               b"Subject: who\r\n\r\nx\r\n")
        local = self.headers(self.smtp(msg, source="127.0.0.1"))
        self.assertIn(b"\nFrom: joe@example.test\n", local)
        self.assertIn(b"\nTo: Old <new@example.test>\n", local)
        # 127.0.0.2 is not one of our interfaces (loopback-only):
        # Postfix leaves its headers alone (remote_header_rewrite_domain
        # is empty), maps included.
        remote = self.headers(self.smtp(msg, source="127.0.0.2"))
        self.assertIn(b"\nFrom: joe\n", remote)
        self.assertIn(b"\nTo: Old <old@example.test>\n", remote)

    def test_folding_comments_and_other_headers_kept(self):
        msg = (b"Subject: mail for old@example.test\r\n"
               b"X-Original: old@example.test\r\n"
               b"To: first@far.example,\r\n"
               b"\told@example.test (the (old) one),\r\n"
               b"  \"Some, One\" <someone@far.example>\r\n"
               b"From: old@example.test\r\n"
               b"\r\n"
               b"From: old@example.test\r\n"
               b"To: someone@far.example\r\n")
        got = self.smtp(msg)
        hdr, body = got.split(b"\n\n", 1)
        self.assertIn(b"\nSubject: mail for old@example.test\n", hdr + b"\n")
        self.assertIn(b"\nX-Original: old@example.test\n", hdr + b"\n")
        self.assertIn(b"\nTo: first@far.example,\n"
                      b"\tnew@example.test (the (old) one),\n"
                      b"  \"Some, One\" <Renamed@far.example>\n", hdr + b"\n")
        self.assertTrue((hdr + b"\n").endswith(b"\nFrom: new@example.test\n"))
        # The body is never rewritten.
        self.assertEqual(body, b"From: old@example.test\n"
                               b"To: someone@far.example\n")

    def test_unchanged_field_kept_byte_for_byte(self):
        to = b"To:   Alice   <alice@virt.test>   (hi),\r\n\t far@far.example\r\n"
        got = self.smtp(to + b"Subject: same\r\n\r\nx\r\n")
        self.assertIn(to.replace(b"\r\n", b"\n"), self.headers(got))

    def test_big_header_still_bounded(self):
        # A To: longer than header_size_limit (102400) is not held for
        # rewriting; it is cut at the limit with the rest of the header
        # (docs/smtpd.md, Limits), and the body still arrives whole.
        many = b",\r\n ".join(b"user%05d@far.example" % i for i in range(6000))
        to = b"To: old@example.test,\r\n " + many + b"\r\n"
        self.assertGreater(len(to), 102400)
        got = self.smtp(to + b"Cc: old@example.test\r\n"
                        + b"Subject: big\r\n\r\nend\r\n")
        headers = self.headers(got)
        # (the delivery agent adds Return-Path: and Delivered-To:)
        self.assertLessEqual(len(headers), 102400 + 200)
        start = headers.index(b"To: old@example.test,\n ")
        kept = headers[start:].rstrip(b"\n")
        self.assertTrue(to.replace(b"\r\n", b"\n").startswith(kept))
        self.assertGreater(len(kept), 90000)
        self.assertNotIn(b"Cc:", headers)
        self.assertNotIn(b"Subject: big", headers)
        self.assertTrue(got.endswith(b"\n\nend\n"))


class HeaderRewriteQueueFileTest(unittest.TestCase):
    """canonical_classes without the header classes, and BDAT chunks that
    split a field: read from the queue file smtpd wrote (qfile_json
    checks its sizes and offsets as the delivery agents do)."""

    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance(main_cf={
            "canonical_maps": CANONICAL,
            "canonical_classes": "envelope_sender, envelope_recipient",
            "sender_canonical_maps": SENDER_CANONICAL,
        })

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def queued(self, before):
        new = sorted(set(self.inst.incoming()) - before)
        self.assertEqual(len(new), 1)
        return self.inst.qfile(new[0])

    def test_envelope_only_classes_leave_header_maps_alone(self):
        before = set(self.inst.incoming())
        with smtplib.SMTP("127.0.0.1", self.inst.port, timeout=20) as c:
            c.sendmail("old@example.test", ["alice@virt.test"],
                       b"From: old@example.test\r\nTo: joe\r\n"
                       b"Reply-To: sx@far.example\r\n"
                       b"Cc: sx@far.example\r\n\r\nx\r\n")
        q = self.queued(before)
        self.assertEqual(q["sender"], "new@example.test")
        content = q["content"]
        self.assertIn("\nFrom: old@example.test\n", content)
        # Completion still applies, and sender_canonical_classes (default:
        # both sender classes) still maps sender headers, not Cc:.
        self.assertIn("\nTo: joe@example.test\n", content)
        self.assertIn("\nReply-To: sender-mapped@example.test\n", content)
        self.assertIn("\nCc: sx@far.example\n", content)

    def test_bdat_chunks_split_inside_a_field(self):
        before = set(self.inst.incoming())
        msg = (b"Subject: chunks\r\nFrom: Someone <sx@far.example>,\r\n"
               b"\tjoe\r\n\r\nbody\r\n")
        cut1, cut2 = msg.index(b"<sx") + 2, msg.index(b"\tjoe") + 1
        with self.inst.raw() as c:
            self.assertEqual(c.cmd("EHLO me")[0], 250)
            self.assertEqual(c.cmd("MAIL FROM:<x@example.test>")[0], 250)
            self.assertEqual(c.cmd("RCPT TO:<alice@virt.test>")[0], 250)
            for part, last in ((msg[:cut1], b""), (msg[cut1:cut2], b""),
                               (msg[cut2:], b" LAST")):
                c.send(b"BDAT %d%s\r\n" % (len(part), last) + part)
                code, text = c.reply()
                self.assertEqual(code, 250, text)
        q = self.queued(before)
        self.assertIn("\nFrom: Someone <sender-mapped@example.test>,\n"
                      "\tjoe@example.test\n", q["content"])
        self.assertTrue(q["content"].endswith("\n\nbody\n"))


class RemoteHeaderRewriteDomainTest(unittest.TestCase):
    """With remote_header_rewrite_domain set, headers from other clients
    are completed with it (not $myorigin) and the maps apply."""

    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance(main_cf={
            "canonical_maps": CANONICAL,
            "remote_header_rewrite_domain": "remote.example",
        })

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def test_remote_client_completed_with_the_domain(self):
        before = set(self.inst.incoming())
        with smtplib.SMTP("127.0.0.1", self.inst.port, timeout=20,
                          source_address=("127.0.0.2", 0)) as c:
            c.sendmail("x@example.test", ["alice@virt.test"],
                       b"From: joe\r\nTo: old@example.test\r\n\r\nx\r\n")
        new = sorted(set(self.inst.incoming()) - before)
        content = self.inst.qfile(new[0])["content"]
        self.assertIn("\nFrom: joe@remote.example\n", content)
        self.assertIn("\nTo: new@example.test\n", content)


class HeaderRewriteErrorTest(unittest.TestCase):
    """A table that fails defers the message (451 4.3.0), as Postfix's
    cleanup does, instead of queueing headers it could not rewrite."""

    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance(main_cf={
            "canonical_maps": "fail:broken",
            "canonical_classes": "header_sender, header_recipient",
        })

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def test_table_error_defers(self):
        before = set(self.inst.incoming())
        with smtplib.SMTP("127.0.0.1", self.inst.port, timeout=20) as c:
            c.mail("x@example.test")
            c.rcpt("alice@virt.test")
            code, text = c.data(b"From: someone@far.example\r\n"
                                b"Subject: t\r\n\r\nx\r\n")
            self.assertEqual(code, 451, text)
            self.assertTrue(text.startswith(b"4.3.0"), text)
            # Without address headers nothing is looked up: accepted.
            c.rset()
            c.mail("x@example.test")
            c.rcpt("alice@virt.test")
            code, text = c.data(b"Subject: no addresses\r\n\r\nx\r\n")
            self.assertEqual(code, 250, text)
        self.assertEqual(len(set(self.inst.incoming()) - before), 1)
        self.inst.wait_for_log(r"header address map lookup problem")


if __name__ == "__main__":
    unittest.main()
