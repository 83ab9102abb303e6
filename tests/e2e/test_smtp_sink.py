"""bench/smtp-sink, the relay benchmark's destination: started on a
loopback port, sent a few messages with smtplib in plain text, over
STARTTLS, pipelined and with BDAT, and its counts checked in its stats
file and in what it prints on SIGTERM. Also its session limit (a
connection past it gets 421) and its SIZE limit. No benchmark is run."""
import json
import os
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from fake_mx import OPENSSL, make_certs
from instance import builddir

SINK = os.path.join(builddir(), "bench", "smtp-sink")
BODY = b"Subject: sink test\r\n\r\n" + b"x" * 1000 + b"\r\n.dot-stuffed line\r\n"


@unittest.skipUnless(os.access(SINK, os.X_OK), "bench/smtp-sink not built (make bench)")
class SinkTest(unittest.TestCase):
    def start(self, *args):
        tmp = tempfile.TemporaryDirectory(prefix="smtp-sink.")
        self.addCleanup(tmp.cleanup)
        self.stats = os.path.join(tmp.name, "stats.json")
        proc = subprocess.Popen([SINK, "-p", "0", "-s", self.stats, *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(self.stop, proc)
        line = proc.stdout.readline().decode()
        if not line.startswith("port "):
            proc.kill()
            self.fail(f"smtp-sink did not start: {line} {proc.stderr.read().decode()}")
        self.port = int(line.split()[1])
        self.proc = proc
        return proc

    @staticmethod
    def stop(proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()

    def counts(self, want_messages, timeout=10):
        """The stats file once it shows want_messages messages."""
        end = time.monotonic() + timeout
        while True:
            try:
                with open(self.stats) as f:
                    counts = json.load(f)
                if counts["messages"] >= want_messages:
                    return counts
            except (OSError, ValueError):
                counts = None
            if time.monotonic() > end:
                self.fail(f"stats never showed {want_messages} messages: {counts}")
            time.sleep(0.05)

    def terminate(self):
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=10)
        self.assertEqual(self.proc.returncode, 0)
        return json.loads(out.decode().strip().splitlines()[-1])

    def test_plain_messages_counted(self):
        self.start()
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as c:
            c.ehlo("client.test")
            for ext in ("pipelining", "8bitmime", "enhancedstatuscodes"):
                self.assertTrue(c.has_extn(ext), ext)
            self.assertFalse(c.has_extn("chunking"))
            self.assertFalse(c.has_extn("starttls"))
            for _ in range(3):
                c.sendmail("a@x.test", ["b@y.test", "c@y.test"], BODY)
        counts = self.counts(3)
        self.assertEqual(counts["recipients"], 6)
        self.assertEqual(counts["bytes"], 3 * (len(BODY) + 1))  # +1: the stuffed dot
        final = self.terminate()
        self.assertEqual((final["messages"], final["connections"], final["tls"]), (3, 1, 0))

    def test_pipelined_in_one_packet(self):
        self.start()
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            f = sock.makefile("rb")
            self.assertEqual(f.readline()[:3], b"220")
            burst = b"EHLO c\r\n" + b"".join(
                b"MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n"
                b"hello\r\n.\r\n" for _ in range(20)) + b"QUIT\r\n"
            sock.sendall(burst)
            replies = []
            while True:
                line = f.readline()
                if not line:
                    break
                if line[3:4] == b" ":
                    replies.append(line[:3])
            self.assertEqual(replies[-1], b"221")
            self.assertEqual(replies.count(b"354"), 20)
        self.assertEqual(self.counts(20)["bytes"], 20 * 7)

    def test_stats_file_rewritten_at_most_every_100ms(self):
        """The stats file is a benchmark's progress signal, not a log: one
        rewrite per event batch cost the sink more CPU than its sessions
        at relay speeds, so it is rewritten at most every 100 ms (plus
        the first and the last)."""
        self.start()
        started = time.monotonic()
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as c:
            c.ehlo("client.test")
            for _ in range(150):
                c.sendmail("a@x.test", ["b@y.test"], BODY)
        self.counts(150)
        elapsed = time.monotonic() - started
        final = self.terminate()
        self.assertEqual(final["messages"], 150)
        # 150 messages are some 600 event batches, each of which changed
        # the counts; at most one write per 100 ms, the start, the end.
        self.assertLessEqual(final["stats_writes"], elapsed / 0.1 + 3,
                             f"{final['stats_writes']} writes in {elapsed:.2f}s")

    def test_bdat(self):
        self.start("-B")
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as c:
            c.ehlo("x")
            self.assertTrue(c.has_extn("chunking"))
            c.mail("a@x.test")
            c.rcpt("b@y.test")
            c.send(b"BDAT 6\r\nhello ")
            self.assertEqual(c.getreply()[0], 250)
            c.send(b"BDAT 7 LAST\r\nworld\r\n")
            self.assertEqual(c.getreply()[0], 250)
        counts = self.counts(1)
        self.assertEqual((counts["bytes"], counts["bdat_messages"]), (13, 1))

    def test_session_limit(self):
        self.start("-c", "1")
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as first:
            first.ehlo("x")
            with self.assertRaises((smtplib.SMTPConnectError,
                                    smtplib.SMTPServerDisconnected)):
                smtplib.SMTP("127.0.0.1", self.port, timeout=10)
        self.assertEqual(self.terminate()["refused"], 1)

    def test_size_limit(self):
        self.start("-S", "100")
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as c:
            c.ehlo("x")
            self.assertEqual(c.esmtp_features["size"], "100")
            c.docmd("MAIL FROM:<a@x.test>")
            c.rcpt("b@y.test")
            self.assertEqual(c.data(BODY)[0], 552)
            c.sendmail("a@x.test", ["b@y.test"], b"Subject: small\r\n\r\nok\r\n")
        self.assertEqual(self.counts(1)["messages"], 1)
        self.assertEqual(self.terminate()["messages"], 1)

    @unittest.skipUnless(OPENSSL, "no openssl command")
    def test_starttls(self):
        tmp = tempfile.TemporaryDirectory(prefix="smtp-sink-certs.")
        self.addCleanup(tmp.cleanup)
        certs = make_certs(tmp.name, "sink.test")
        self.start("-t", certs["good"][0], "-k", certs["good"][1], "-n", "sink.test")
        context = ssl.create_default_context(cafile=certs["ca"])
        for _ in range(2):
            with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as c:
                c.ehlo("x")
                self.assertTrue(c.has_extn("starttls"))
                c._host = "sink.test"
                c.starttls(context=context)
                c.ehlo("x")
                self.assertFalse(c.has_extn("starttls"))
                c.sendmail("a@x.test", ["b@y.test"], BODY)
                c.sendmail("a@x.test", ["b@y.test"], BODY)
        counts = self.counts(4)
        self.assertEqual((counts["tls"], counts["bytes"]), (2, 4 * (len(BODY) + 1)))
        final = self.terminate()
        self.assertEqual((final["messages"], final["connections"]), (4, 2))


if __name__ == "__main__":
    unittest.main()
