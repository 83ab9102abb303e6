"""smtpd limits: smtpd_timeout, the error limits with their sleep,
smtpd_recipient_limit, the command line length, and smtpd_helo_required,
on an instance with small values."""
import socket
import threading
import time
import unittest

from smtpd_util import SmtpdInstance


class LimitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance(main_cf={
            "smtpd_timeout": "2s",
            "smtpd_soft_error_limit": "2",
            "smtpd_hard_error_limit": "4",
            "smtpd_error_sleep_time": "1s",
            "smtpd_recipient_limit": "3",
            "smtpd_recipient_overshoot_limit": "2",
            "smtpd_helo_required": "yes",
        })

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def setUp(self):
        self.mark = self.inst.log_mark()

    def test_idle_timeout(self):
        with self.inst.raw() as c:
            c.cmd("EHLO client.example")
            start = time.monotonic()
            code, lines = c.reply()
            elapsed = time.monotonic() - start
            self.assertEqual((code, lines),
                             (421, ["4.4.2 mx.example.test Error: timeout "
                                    "exceeded"]))
            self.assertTrue(1.5 < elapsed < 6, elapsed)
            self.assertTrue(c.closed())
        self.inst.wait_for_log(r"timeout after EHLO from unknown\[127\.0\.0\.1\]",
                               since=self.mark)

    def test_timeout_in_data(self):
        with self.inst.raw() as c:
            c.cmd("EHLO client.example")
            c.cmd("MAIL FROM:<a@b.example>")
            c.cmd("RCPT TO:<bob@example.test>")
            self.assertEqual(c.cmd("DATA")[0], 354)
            c.send(b"Subject: slow\r\n\r\npartial")
            self.assertEqual(c.reply()[0], 421)
        self.inst.wait_for_log(r"timeout after DATA from", since=self.mark)
        # The aborted message left nothing in the queue.
        self.assertEqual(self.inst.incoming(), [])

    def test_error_limits_sleep_then_disconnect(self):
        with self.inst.raw() as c:
            start = time.monotonic()
            for i in range(3):
                self.assertEqual(c.cmd("BOGUS")[0], 502)
            code, lines = c.cmd("BOGUS")
            elapsed = time.monotonic() - start
            self.assertEqual(code, 502)
            self.assertEqual(c.reply(),
                             (421, ["4.7.0 mx.example.test Error: too many "
                                    "errors"]))
            self.assertTrue(c.closed())
            # Two sleeps of 1s: after the 2nd and the 3rd error.
            self.assertGreaterEqual(elapsed, 1.8)
        self.inst.wait_for_log(r"too many errors after UNKNOWN from",
                               since=self.mark)

    def test_recipient_limit(self):
        with self.inst.raw() as c:
            c.cmd("EHLO client.example")
            c.cmd("MAIL FROM:<a@b.example>")
            for _ in range(3):
                self.assertEqual(c.cmd("RCPT TO:<bob@example.test>")[0], 250)
            # Two over the limit are not errors (the overshoot limit): no
            # error sleep (soft limit 2) and no disconnect (hard limit 4).
            for _ in range(2):
                start = time.monotonic()
                self.assertEqual(c.cmd("RCPT TO:<bob@example.test>"),
                                 (452, ["4.5.3 Error: too many recipients"]))
                self.assertLess(time.monotonic() - start, 0.8)
            self.assertEqual(c.cmd("NOOP")[0], 250)
            # Past the overshoot limit each one is an error: the fourth
            # ends the session.
            for _ in range(3):
                self.assertEqual(c.cmd("RCPT TO:<bob@example.test>")[0], 452)
            self.assertEqual(c.cmd("RCPT TO:<bob@example.test>")[0], 452)
            self.assertEqual(c.reply(),
                             (421, ["4.7.0 mx.example.test Error: too many "
                                    "errors"]))
            self.assertTrue(c.closed())

    def test_line_too_long(self):
        with self.inst.raw() as c:
            c.cmd("EHLO client.example")
            self.assertEqual(c.cmd("NOOP " + "x" * 5000),
                             (500, ["5.5.0 Error: line too long"]))
            self.assertEqual(c.cmd("NOOP")[0], 250)

    def smtpd_rss_kib(self):
        total = 0
        for pid in self.inst.instance_pids():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"smtpd" not in f.read().split(b"\0")[0]:
                        continue
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
            except OSError:
                pass
        return total

    def smtpd_is_sanitized(self):
        """ASan keeps freed memory in quarantine, so RSS says nothing
        about a bounded buffer in a sanitizer build."""
        for pid in self.inst.instance_pids():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"smtpd" not in f.read().split(b"\0")[0]:
                        continue
                with open(f"/proc/{pid}/maps") as f:
                    if "libasan" in f.read():
                        return True
            except OSError:
                pass
        return False

    def test_client_that_does_not_read_replies(self):
        # 1,000,000 pipelined NOOPs without reading a reply (15 MB of
        # replies, more than the kernel's socket buffers hold): smtpd must stop reading once its reply buffer is
        # full instead of holding them all, and still answer every
        # command once the client reads.
        count = 1000000
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A small receive window, so replies back up into smtpd.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(60)
        sock.connect(("127.0.0.1", self.inst.port))
        self.addCleanup(sock.close)
        f = sock.makefile("rb")
        f.readline()
        sock.sendall(b"EHLO client.example\r\n")
        while f.readline()[3:4] == b"-":
            pass
        before = self.smtpd_rss_kib()
        sender = threading.Thread(
            target=sock.sendall, args=(b"NOOP\r\n" * count + b"QUIT\r\n",))
        sender.start()
        time.sleep(1.2)  # below smtpd_timeout
        grown = self.smtpd_rss_kib() - before
        # smtpd pushes back: it stopped reading, so 6 MB of commands
        # cannot all have been sent yet.
        self.assertTrue(sender.is_alive(), "smtpd read every command at once")
        if not self.smtpd_is_sanitized():
            self.assertLess(grown, 1000, "reply buffer not bounded")
        for _ in range(count):
            line = f.readline()
            if line[:3] != b"250":
                self.fail(f"reply {line!r}")
        self.assertEqual(f.readline()[:3], b"221")
        sender.join()

    def test_helo_required(self):
        with self.inst.raw() as c:
            self.assertEqual(c.cmd("MAIL FROM:<a@b.example>"),
                             (503, ["5.5.1 Error: send HELO/EHLO first"]))


class OvershootTest(unittest.TestCase):
    """Postfix's smtpd_recipient_overshoot_limit with the defaults
    (smtpd_recipient_limit = 1000, overshoot 1000): of 1,050 recipients
    the first 1,000 are taken, the other 50 get 452 4.5.3 without ending
    the session, and the message is queued for the 1,000."""

    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def test_1050_recipients(self):
        rcpts = [f"user{i:04d}@relay.test" for i in range(1050)]
        before = set(self.inst.incoming())
        with self.inst.raw() as c:
            self.assertEqual(c.cmd("EHLO client.example")[0], 250)
            self.assertEqual(c.cmd("MAIL FROM:<a@b.example>")[0], 250)
            c.send(b"".join(f"RCPT TO:<{r}>\r\n".encode() for r in rcpts))
            replies = [c.reply() for _ in rcpts]
            self.assertEqual([r[0] for r in replies[:1000]], [250] * 1000)
            self.assertEqual(replies[1000:],
                             [(452, ["4.5.3 Error: too many recipients"])] * 50)
            self.assertEqual(c.cmd("DATA")[0], 354)
            c.send(b"Subject: many\r\n\r\nbody\r\n.\r\n")
            code, lines = c.reply()
            self.assertEqual(code, 250, lines)
            self.assertEqual(c.cmd("QUIT")[0], 221)
        qid = lines[0].rsplit(" ", 1)[1]
        self.assertNotIn(qid, before)
        queued = [r["address"] for r in self.inst.qfile(qid)["recipients"]]
        self.assertEqual(queued, rcpts[:1000])
        self.inst.wait_for_log(r"disconnect from .* rcpt=1050 data=1 quit=1")


if __name__ == "__main__":
    unittest.main()
