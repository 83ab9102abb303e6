"""header_size_limit (Postfix's default 102400): a header section larger
than the limit is never stored whole. As Postfix's cleanup does, what
goes past the limit is discarded (whole lines; a line begun at the limit
is cut there) and the body is kept intact. Sent with real clients:
smtplib (DATA) and a raw BDAT client."""
import smtplib
import unittest

from smtpd_util import SmtpdInstance

LIMIT = 102400
BODY = "".join(f"body line {i}: keep me\r\n" for i in range(2000))


def stored_parts(content):
    head, sep, body = content.partition("\n\n")
    return head + "\n", body


class HeaderLimitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def send(self, header):
        with smtplib.SMTP("127.0.0.1", self.inst.port, timeout=30) as c:
            c.ehlo("client.example")
            refused = c.sendmail("a@b.example", ["bob@example.test"],
                                 (header + "\r\n" + BODY).encode())
            self.assertEqual(refused, {})
            code, text = c.noop()
            self.assertEqual(code, 250)
        qid = self.inst.log_text().rsplit(" client=", 1)[0].rsplit(" ", 1)[1]
        return qid.rstrip(":")

    def latest(self, before):
        new = set(self.inst.incoming()) - before
        self.assertEqual(len(new), 1, new)
        return self.inst.qfile(new.pop())["content"]

    def check_body(self, body):
        self.assertEqual(body, BODY.replace("\r\n", "\n"))

    def test_many_header_lines(self):
        """300 KB of header fields: the lines past the limit are dropped,
        the ones before are whole, the one at the limit keeps what fits."""
        before = set(self.inst.incoming())
        mark = self.inst.log_mark()
        filler = "".join(f"X-Filler-{i:05d}: {'x' * 90}\r\n"
                         for i in range(3000))
        self.assertGreater(len(filler), 300000)
        self.send("Subject: big header\r\n" + filler)
        head, body = stored_parts(self.latest(before))
        self.assertLessEqual(len(head.encode()), LIMIT)
        self.assertGreaterEqual(len(head.encode()), LIMIT - 1)
        self.assertIn("\nSubject: big header\n", head)
        kept = [l for l in head.splitlines() if l.startswith("X-Filler-")]
        self.assertGreater(len(kept), 900)
        for i, line in enumerate(kept[:-1]):
            self.assertEqual(line, f"X-Filler-{i:05d}: {'x' * 90}")
        last = f"X-Filler-{len(kept) - 1:05d}: {'x' * 90}"
        self.assertTrue(last.startswith(kept[-1]), kept[-1])
        self.assertNotIn("X-Filler-02999", head)
        self.check_body(body)
        self.inst.wait_for_log(r"message header length exceeds safety limit "
                               r"\(102400 bytes\)", since=mark)

    def test_one_folded_field(self):
        before = set(self.inst.incoming())
        field = "X-Folded: start\r\n" + "".join(
            f"\tfold {i:05d} {'y' * 80}\r\n" for i in range(3500))
        self.send(field + "Subject: after the big one\r\n")
        head, body = stored_parts(self.latest(before))
        self.assertLessEqual(len(head.encode()), LIMIT)
        self.assertIn("X-Folded: start\n", head)
        self.assertNotIn("Subject: after the big one", head)
        self.assertTrue(head.splitlines()[-1].endswith("y" * 80))
        self.check_body(body)

    def test_one_long_line(self):
        """A single 300 KB header line keeps its first bytes, up to the
        limit, and is ended there."""
        before = set(self.inst.incoming())
        self.send("X-Long: " + "z" * 300000 + "\r\nSubject: s\r\n")
        head, body = stored_parts(self.latest(before))
        self.assertLessEqual(len(head.encode()), LIMIT)
        self.assertGreater(len(head.encode()), LIMIT - 10)
        long_line = [l for l in head.splitlines() if l.startswith("X-Long: ")]
        self.assertEqual(len(long_line), 1)
        self.assertEqual(set(long_line[0][8:]), {"z"})
        self.assertNotIn("Subject: s", head)
        self.check_body(body)

    def test_bdat_same_rule(self):
        before = set(self.inst.incoming())
        filler = "".join(f"X-Filler-{i:05d}: {'x' * 90}\r\n"
                         for i in range(3000))
        message = ("Subject: by bdat\r\n" + filler + "\r\n" + BODY).encode()
        with self.inst.raw() as c:
            self.assertEqual(c.cmd("EHLO client.example")[0], 250)
            self.assertEqual(c.cmd("MAIL FROM:<a@b.example>")[0], 250)
            self.assertEqual(c.cmd("RCPT TO:<bob@example.test>")[0], 250)
            half = len(message) // 2
            c.send(b"BDAT %d\r\n" % half + message[:half])
            self.assertEqual(c.reply()[0], 250)
            c.send(b"BDAT %d LAST\r\n" % (len(message) - half) + message[half:])
            code, lines = c.reply()
            self.assertEqual(code, 250, lines)
        head, body = stored_parts(self.latest(before))
        self.assertLessEqual(len(head.encode()), LIMIT)
        self.assertIn("\nSubject: by bdat\n", head)
        self.check_body(body)

    def test_small_header_untouched(self):
        before = set(self.inst.incoming())
        self.send("Subject: small\r\nX-A: 1\r\n")
        head, body = stored_parts(self.latest(before))
        self.assertTrue(head.endswith("Subject: small\nX-A: 1\n"), head)
        self.check_body(body)


if __name__ == "__main__":
    unittest.main()
