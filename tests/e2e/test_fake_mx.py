"""The misbehaving receiver of the smtp/lmtp client tests (fake_mx.py),
checked with Python's smtplib before the client tests rely on it: a
normal transaction is recorded (envelope, ESMTP parameters, body,
pipelined packets, connection count), each scripted failure shows at
its phase, delays delay, drops drop, STARTTLS works with each kind of
certificate, BDAT and the extension toggles, LMTP's per-recipient
replies, and IPv6 and unix sockets."""
import os
import smtplib
import socket
import ssl
import tempfile
import time
import unittest

from fake_mx import (OPENSSL, RATE_LIMIT_REPLIES, Behaviour, FakeMX,
                     ipv6_loopback_available, make_certs)

MESSAGE = b"Subject: hi\r\nFrom: a@example.org\r\n\r\nline one\r\n.leading dot\r\n"


class FakeMXCase(unittest.TestCase):
    def serve(self, **behaviour):
        mx = FakeMX(Behaviour(**behaviour)).start()
        self.addCleanup(mx.stop)
        return mx

    def client(self, mx, timeout=10, lmtp=False):
        if lmtp:
            client = smtplib.LMTP(mx.host, mx.port, timeout=timeout)
        else:
            client = smtplib.SMTP(mx.host, mx.port, timeout=timeout)
        self.addCleanup(client.close)
        return client


class NormalTest(FakeMXCase):
    def test_records_transaction(self):
        mx = self.serve(size_limit=100000)
        with self.client(mx) as c:
            c.ehlo("client.test")
            self.assertTrue(c.has_extn("pipelining"))
            self.assertTrue(c.has_extn("8bitmime"))
            self.assertEqual(c.esmtp_features["size"], "100000")
            c.sendmail("s@example.org", ["r1@example.net", "r2@example.net"],
                       MESSAGE, mail_options=["BODY=8BITMIME", "SIZE=60"],
                       rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
        (txn,) = mx.wait_transactions(1)
        self.assertEqual(txn.mail_from, "s@example.org")
        self.assertEqual(txn.mail_params, {"BODY": "8BITMIME", "SIZE": "60"})
        self.assertEqual([r for r, _ in txn.rcpts], ["r1@example.net", "r2@example.net"])
        self.assertEqual(txn.rcpts[0][1], {"NOTIFY": "SUCCESS,FAILURE"})
        self.assertEqual(txn.data, MESSAGE)
        self.assertEqual(txn.via, "DATA")
        self.assertEqual(txn.helo, "client.test")
        self.assertEqual(mx.connections, 1)
        self.assertIn("QUIT", mx.sessions[0].commands)

    def test_pipelined_packet_is_seen(self):
        mx = self.serve()
        with socket.create_connection((mx.host, mx.port), timeout=10) as sock:
            f = sock.makefile("rb")
            f.readline()
            sock.sendall(b"EHLO c\r\n")
            while f.readline()[3:4] == b"-":
                pass
            sock.sendall(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n")
            for _ in range(3):
                self.assertIn(f.readline()[:3], (b"250", b"354"))
            sock.sendall(b"body\r\n.\r\nQUIT\r\n")
            self.assertEqual(f.readline()[:3], b"250")
        mx.wait_transactions(1)
        self.assertIn(["MAIL FROM:<a@x.test>", "RCPT TO:<b@y.test>", "DATA"],
                      mx.sessions[0].packets)
        self.assertIn(["EHLO c"], mx.sessions[0].packets)

    def test_counts_connections(self):
        mx = self.serve()
        for _ in range(3):
            with self.client(mx) as c:
                c.sendmail("a@x.test", ["b@y.test"], MESSAGE)
        mx.wait_transactions(3)
        self.assertEqual(mx.connections, 3)
        self.assertEqual([t.connection for t in mx.transactions], [1, 2, 3])

    def test_ipv6(self):
        if not ipv6_loopback_available():
            self.skipTest("::1 cannot be bound here")
        mx = FakeMX(host="::1").start()
        self.addCleanup(mx.stop)
        with self.client(mx) as c:
            c.sendmail("a@x.test", ["b@y.test"], MESSAGE)
        self.assertEqual(mx.wait_transactions(1)[0].data, MESSAGE)


class FailureTest(FakeMXCase):
    def test_reply_at_each_phase(self):
        cases = [("mail", 451, "4.3.0 try later"), ("data", 554, "5.6.0 no data"),
                 ("dot", 550, "5.7.1 content refused"), ("rcpt", 450, "4.2.0 busy")]
        for phase, code, text in cases:
            with self.subTest(phase=phase):
                mx = self.serve(replies={phase: (code, text)})
                with self.client(mx) as c:
                    with self.assertRaises(smtplib.SMTPException) as caught:
                        c.sendmail("a@x.test", ["b@y.test"], MESSAGE)
                    self.assertIn(str(code), str(caught.exception))
                    self.assertIn(text, str(caught.exception))
                self.assertEqual(mx.transactions, [])

    def test_greeting_and_ehlo(self):
        mx = self.serve(replies={"greeting": (554, "5.3.2 go away")})
        with self.assertRaises(smtplib.SMTPConnectError):
            smtplib.SMTP(mx.host, mx.port, timeout=10)
        mx = self.serve(replies={"ehlo": (550, "5.7.0 not you")})
        with self.client(mx) as c:
            self.assertEqual(c.ehlo("x")[0], 550)

    def test_chosen_rcpt(self):
        mx = self.serve(rcpt_replies={"bad@y.test": (550, "5.1.1 no such user"),
                                      2: (452, "4.5.3 too many")})
        with self.client(mx) as c:
            refused = c.sendmail("a@x.test", ["ok@y.test", "bad@y.test", "third@y.test"],
                                 MESSAGE)
        self.assertEqual(refused, {"bad@y.test": (550, b"5.1.1 no such user"),
                                   "third@y.test": (452, b"4.5.3 too many")})
        self.assertEqual([r for r, _ in mx.wait_transactions(1)[0].rcpts], ["ok@y.test"])

    def test_rate_limit_421_closes(self):
        code, text = RATE_LIMIT_REPLIES["gmail_421"]
        self.assertIn("unusual rate", text)
        mx = self.serve(replies={"mail": (code, text)})
        with self.client(mx) as c:
            with self.assertRaises(smtplib.SMTPException):
                c.sendmail("a@x.test", ["b@y.test"], MESSAGE)
        # The client sees the 421 before the server's thread has noted
        # that it closed: wait for it (bounded).
        deadline = time.monotonic() + 5
        while mx.sessions[0].closed_by is None and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(mx.sessions[0].closed_by, "server")
        for name, (code, text) in RATE_LIMIT_REPLIES.items():
            self.assertIn(code, (421, 450, 451), name)
            self.assertTrue(text.startswith("4.7."), name)

    def test_drop_at_phase(self):
        for phase in ("greeting", "ehlo", "mail", "rcpt", "data", "dot"):
            with self.subTest(phase=phase):
                mx = self.serve(drop_at=phase)
                with self.assertRaises((smtplib.SMTPServerDisconnected,
                                        smtplib.SMTPConnectError, ConnectionError)):
                    c = self.client(mx)
                    c.sendmail("a@x.test", ["b@y.test"], MESSAGE)
                self.assertEqual(mx.transactions, [])

    def test_fail_first_connections_only(self):
        mx = self.serve(replies={"rcpt": (450, "4.2.0 later")}, fail_connections=1)
        with self.client(mx) as c:
            with self.assertRaises(smtplib.SMTPRecipientsRefused):
                c.sendmail("a@x.test", ["b@y.test"], MESSAGE)
        with self.client(mx) as c:
            c.sendmail("a@x.test", ["b@y.test"], MESSAGE)
        self.assertEqual(mx.wait_transactions(1)[0].connection, 2)


class SlowTest(FakeMXCase):
    def test_delay_before_replies(self):
        mx = self.serve(delays={"dot": 1.0})
        with self.client(mx) as c:
            c.ehlo("x")
            started = time.monotonic()
            c.sendmail("a@x.test", ["b@y.test"], MESSAGE)
            self.assertGreaterEqual(time.monotonic() - started, 1.0)

    def test_slow_reply_times_out_client(self):
        mx = self.serve(delay=0.0, delays={"greeting": 3.0})
        with self.assertRaises((socket.timeout, smtplib.SMTPServerDisconnected)):
            smtplib.SMTP(mx.host, mx.port, timeout=0.5)


class ExtensionTest(FakeMXCase):
    def test_toggles(self):
        mx = self.serve(pipelining=False, eightbitmime=False, smtputf8=False, dsn=False)
        with self.client(mx) as c:
            c.ehlo("x")
            for ext in ("pipelining", "8bitmime", "smtputf8", "dsn", "chunking", "starttls"):
                self.assertFalse(c.has_extn(ext), ext)
            self.assertEqual(c.mail("a@x.test", ["BODY=8BITMIME"])[0], 555)
            self.assertEqual(c.docmd("MAIL FROM:<a@x.test> SMTPUTF8")[0], 555)
            self.assertEqual(c.docmd("MAIL FROM:<a@x.test> RET=HDRS")[0], 555)

    def test_size_limit(self):
        mx = self.serve(size_limit=50)
        with self.client(mx) as c:
            c.ehlo("x")
            self.assertEqual(c.mail("a@x.test", ["SIZE=51"])[0], 552)
            # A client that does not say SIZE= is refused after the data.
            self.assertEqual(c.docmd("MAIL FROM:<a@x.test>")[0], 250)
            self.assertEqual(c.rcpt("b@y.test")[0], 250)
            self.assertEqual(c.data(MESSAGE * 2)[0], 552)
        self.assertEqual(mx.transactions, [])

    def test_bdat(self):
        mx = self.serve(chunking=True)
        with self.client(mx) as c:
            c.ehlo("x")
            self.assertTrue(c.has_extn("chunking"))
            c.mail("a@x.test")
            c.rcpt("b@y.test")
            c.send(b"BDAT 5\r\nhello")
            self.assertEqual(c.getreply()[0], 250)
            c.send(b"BDAT 8 LAST\r\n world\r\n")
            self.assertEqual(c.getreply()[0], 250)
        (txn,) = mx.wait_transactions(1)
        self.assertEqual((txn.data, txn.via, txn.chunks), (b"hello world\r\n", "BDAT", [5, 8]))

    def test_bdat_refused_without_chunking(self):
        mx = self.serve()
        with self.client(mx) as c:
            c.ehlo("x")
            c.mail("a@x.test")
            c.rcpt("b@y.test")
            self.assertEqual(c.docmd("BDAT 1 LAST")[0], 500)


class LMTPTest(FakeMXCase):
    def test_per_recipient_replies(self):
        mx = self.serve(lmtp=True, lmtp_replies={"full@y.test": (452, "4.2.2 over quota")})
        with self.client(mx, lmtp=True) as c:
            self.assertEqual(c.docmd("EHLO", "x")[0], 500)  # LMTP wants LHLO
            self.assertEqual(c.docmd("LHLO", "x")[0], 250)
            # smtplib's data() reads one reply; LMTP sends one per recipient.
            c.mail("a@x.test")
            c.rcpt("ok@y.test")
            c.rcpt("full@y.test")
            c.putcmd("DATA")
            self.assertEqual(c.getreply()[0], 354)
            c.send(b"Subject: x\r\n\r\nbody\r\n.\r\n")
            self.assertEqual(c.getreply()[0], 250)
            code, text = c.getreply()
            self.assertEqual((code, text), (452, b"4.2.2 over quota"))
        self.assertEqual(len(mx.wait_transactions(1)[0].rcpts), 2)

    def test_unix_socket(self):
        directory = tempfile.mkdtemp(prefix="fake_mx.")
        self.addCleanup(os.rmdir, directory)
        mx = FakeMX(Behaviour(lmtp=True), unix_path=os.path.join(directory, "lmtp")).start()
        self.addCleanup(mx.stop)
        c = smtplib.LMTP(mx.unix_path, timeout=10)
        self.addCleanup(c.close)
        c.sendmail("a@x.test", ["b@y.test"], MESSAGE)
        self.assertEqual(mx.wait_transactions(1)[0].data, MESSAGE)


@unittest.skipUnless(OPENSSL, "no openssl command")
class TLSTest(FakeMXCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="fake_mx_certs.")
        cls.certs = make_certs(cls.tmp.name, "mx.test")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def handshake(self, kind, verify):
        mx = self.serve(tls=self.certs[kind])
        context = ssl.create_default_context(cafile=self.certs["ca"])
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        c = smtplib.SMTP(mx.host, mx.port, timeout=10)
        self.addCleanup(c.close)
        c.ehlo("x")
        self.assertTrue(c.has_extn("starttls"))
        c._host = "mx.test"  # the name the certificate is checked against
        c.starttls(context=context)
        c.sendmail("a@x.test", ["b@y.test"], MESSAGE)
        c.quit()
        (txn,) = mx.wait_transactions(1)
        self.assertTrue(txn.tls)
        return mx

    def test_good_certificate_verifies(self):
        mx = self.handshake("good", verify=True)
        self.assertIn(mx.sessions[0].tls_version, ("TLSv1.2", "TLSv1.3"))

    def test_bad_certificates_fail_verification(self):
        for kind in ("self_signed", "expired", "wrong_name"):
            with self.subTest(kind=kind):
                with self.assertRaises(ssl.SSLCertVerificationError):
                    self.handshake(kind, verify=True)

    def test_bad_certificates_still_encrypt(self):
        for kind in ("self_signed", "expired", "wrong_name"):
            with self.subTest(kind=kind):
                self.handshake(kind, verify=False)

    def test_no_starttls(self):
        mx = self.serve()
        with self.client(mx) as c:
            c.ehlo("x")
            self.assertFalse(c.has_extn("starttls"))
            self.assertEqual(c.docmd("STARTTLS")[0], 502)


if __name__ == "__main__":
    unittest.main()
