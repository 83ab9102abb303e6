"""SMTP smuggling: only <CR><LF>.<CR><LF> ends DATA, and a bare <LF> or
<CR> never ends a message or starts a command. Untrusted clients get a
5xx and a disconnect (smtpd_forbid_bare_newline = reject); clients in
smtpd_forbid_bare_newline_exclusions ($mynetworks: here 127.0.0.3) are
normalised, and still cannot end DATA early."""
import unittest

from smtpd_util import SmtpdInstance

SMUGGLED = b"MAIL FROM:<evil@far.example>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"


class SmugglingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def setUp(self):
        self.mark = self.inst.log_mark()
        self.before = set(self.inst.incoming())

    def start_data(self, source="127.0.0.1"):
        c = self.inst.raw(source)
        self.addCleanup(c.close)
        self.assertEqual(c.cmd("EHLO client.example")[0], 250)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.example>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<bob@example.test>")[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        return c

    def assert_rejected(self, c, what):
        code, lines = c.reply()
        self.assertEqual((code, lines),
                         (550, [f"5.5.2 mx.example.test Error: bare <{what}> "
                                "received"]))
        self.assertTrue(c.closed())
        self.assertEqual(set(self.inst.incoming()), self.before)

    def test_bare_lf_in_command(self):
        c = self.inst.raw()
        self.addCleanup(c.close)
        c.send(b"EHLO client.example\n")
        code, lines = c.reply()
        self.assertEqual((code, lines),
                         (550, ["5.5.2 mx.example.test Error: bare <LF> received"]))
        self.assertTrue(c.closed())

    def test_lf_dot_lf(self):
        c = self.start_data()
        c.send(b"Subject: s\r\n\r\nbody\n.\n" + SMUGGLED)
        self.assert_rejected(c, "LF")

    def test_cr_dot_cr(self):
        c = self.start_data()
        c.send(b"Subject: s\r\n\r\nbody\r.\r" + SMUGGLED)
        self.assert_rejected(c, "CR")

    def test_crlf_dot_lf(self):
        c = self.start_data()
        c.send(b"Subject: s\r\n\r\nbody\r\n.\n" + SMUGGLED)
        self.assert_rejected(c, "LF")

    def test_lf_dot_crlf(self):
        c = self.start_data()
        c.send(b"Subject: s\r\n\r\nbody\n.\r\n" + SMUGGLED)
        self.assert_rejected(c, "LF")

    def test_normalized_for_trusted_client_never_ends_early(self):
        for sep in (b"\n.\n", b"\r\n.\n", b"\n.\r\n", b"\r.\r\n"):
            with self.subTest(sep=sep):
                self.mark = self.inst.log_mark()
                c = self.start_data("127.0.0.3")
                c.send(b"Subject: s\r\n\r\nbody" + sep + SMUGGLED +
                       b"tail\r\n.\r\nNOOP\r\n")
                code, lines = c.reply()
                self.assertEqual(code, 250, lines)
                qid = lines[0].rsplit(" ", 1)[1]
                # The next reply is the NOOP's: nothing was smuggled.
                self.assertEqual(c.reply(), (250, ["2.0.0 Ok"]))
                content = self.inst.qfile(qid)["content"]
                self.assertIn("MAIL FROM:<evil@far.example>", content)
                self.assertTrue(content.endswith("tail\n"), content)
                self.assertEqual(
                    self.inst.log_since(self.mark).count("client=unknown"), 1)
                c.close()


    # BDAT content follows the same rule as DATA content.

    def start_bdat(self, source="127.0.0.1"):
        c = self.inst.raw(source)
        self.addCleanup(c.close)
        self.assertEqual(c.cmd("EHLO client.example")[0], 250)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.example>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<bob@example.test>")[0], 250)
        return c

    def bdat(self, c, chunk, last=True):
        c.send(b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"")
               + chunk)
        return c.reply()

    def test_bdat_bare_lf_refused(self):
        for chunk in (b"Subject: s\r\n\r\nbody\n.\n" + SMUGGLED,
                      b"Subject: s\n\r\nbody\r\n",
                      b"\nSubject: s\r\n"):
            with self.subTest(chunk=chunk):
                c = self.start_bdat()
                self.assertEqual(
                    self.bdat(c, chunk),
                    (550, ["5.5.2 mx.example.test Error: bare <LF> received"]))
                self.assertTrue(c.closed())
                self.assertEqual(set(self.inst.incoming()), self.before)
        self.inst.wait_for_log(r"reject: bare <LF> received in BDAT from "
                               r"unknown\[127\.0\.0\.1\]", since=self.mark)

    def test_bdat_bare_cr_refused(self):
        for chunks in ([b"Subject: s\r\n\r\nbody\r.\r\n"],
                       [b"Subject: s\r\n\r\nbody\r", b"x\r\n"],
                       [b"Subject: s\r\n\r\nbody\r"]):
            with self.subTest(chunks=chunks):
                c = self.start_bdat()
                for chunk in chunks[:-1]:
                    self.assertEqual(self.bdat(c, chunk, last=False)[0], 250)
                self.assertEqual(
                    self.bdat(c, chunks[-1]),
                    (550, ["5.5.2 mx.example.test Error: bare <CR> received"]))
                self.assertTrue(c.closed())
                self.assertEqual(set(self.inst.incoming()), self.before)

    def test_bdat_crlf_across_chunks_is_a_line_end(self):
        c = self.start_bdat()
        self.assertEqual(self.bdat(c, b"Subject: s\r", last=False)[0], 250)
        self.assertEqual(self.bdat(c, b"\n\r\nbody\r", last=False)[0], 250)
        code, lines = self.bdat(c, b"\n")
        self.assertEqual(code, 250, lines)
        content = self.inst.qfile(lines[0].rsplit(" ", 1)[1])["content"]
        self.assertTrue(content.endswith("Subject: s\n\nbody\n"), content)

    def test_bdat_header_split_across_chunks(self):
        """A header line split across chunks is one line: the header goes
        on after it (here: Received: fields past hopcount_limit are still
        counted, and the Message-ID is found)."""
        hops = b"".join(b"Received: from hop%d.example by x\r\n" % i
                        for i in range(60))
        c = self.start_bdat()
        self.assertEqual(self.bdat(c, b"Subject: s\r\nX-Spl", False)[0], 250)
        self.assertEqual(self.bdat(c, b"it: yes\r\n" + hops + b"\r\nbody\r\n"),
                         (554, ["5.4.0 Error: too many hops"]))
        self.assertEqual(set(self.inst.incoming()), self.before)
        c = self.start_bdat()
        self.assertEqual(self.bdat(c, b"Subject: s\r\nMessage-", False)[0],
                         250)
        code, lines = self.bdat(c, b"ID: <split@example>\r\n\r\nbody\r\n")
        self.assertEqual(code, 250, lines)
        self.inst.wait_for_log(r": message-id=<split@example>", since=self.mark)

    def test_bdat_normalized_for_trusted_client(self):
        c = self.start_bdat("127.0.0.3")
        code, lines = self.bdat(c, b"Subject: s\r\n\r\nbody\n.\n" +
                                SMUGGLED + b"cr\rhere\r\n")
        self.assertEqual(code, 250, lines)
        self.assertEqual(c.cmd("NOOP"), (250, ["2.0.0 Ok"]))
        content = self.inst.qfile(lines[0].rsplit(" ", 1)[1])["content"]
        self.assertTrue(content.endswith(
            "body\n.\nMAIL FROM:<evil@far.example>\nRCPT TO:<bob@example.test>"
            "\nDATA\ncr\rhere\n"), content)


class NormalizeTest(unittest.TestCase):
    """smtpd_forbid_bare_newline = normalize: DATA and BDAT content with
    bare LF and CR is taken the same way, for every client."""

    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance(main_cf={
            "smtpd_forbid_bare_newline": "normalize"})

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def send(self, use_bdat):
        body = b"Subject: s\n\r\nline1\nline2\rstill2\r\n.\n" + SMUGGLED
        with self.inst.raw() as c:
            self.assertEqual(c.cmd("EHLO client.example")[0], 250)
            self.assertEqual(c.cmd("MAIL FROM:<a@b.example>")[0], 250)
            self.assertEqual(c.cmd("RCPT TO:<bob@example.test>")[0], 250)
            if use_bdat:
                c.send(b"BDAT %d LAST\r\n" % len(body) + body)
            else:
                self.assertEqual(c.cmd("DATA")[0], 354)
                c.send(body + b".\r\n")
            code, lines = c.reply()
            self.assertEqual(code, 250, lines)
            self.assertEqual(c.cmd("NOOP"), (250, ["2.0.0 Ok"]))
        content = self.inst.qfile(lines[0].rsplit(" ", 1)[1])["content"]
        return content[content.index("Subject: s"):]

    def test_bdat_and_data_agree(self):
        by_bdat = self.send(True)
        self.assertEqual(
            by_bdat,
            "Subject: s\n\nline1\nline2\rstill2\n.\n"
            "MAIL FROM:<evil@far.example>\nRCPT TO:<bob@example.test>\n"
            "DATA\n")
        self.assertEqual(self.send(False), by_bdat)


if __name__ == "__main__":
    unittest.main()
