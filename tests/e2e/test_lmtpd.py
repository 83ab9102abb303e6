"""test_lmtpd.py: the LMTP server (lmtpd, docs/lmtpd.md) under master,
driven with Python's smtplib.LMTP over its unix socket
($queue_directory/private/lmtp-in) and over TCP: per-recipient replies
after the message (RFC 2033), the recipient checks at RCPT, pipelining,
dot-stuffing, a message large enough to go to the temporary file, the
failures virtual gives (quota, loop, lookup error), the mailbox copies
themselves, and lmtpd started as an ordinary user."""
import os
import pwd
import re
import smtplib
import socket
import stat
import subprocess
import tempfile
import time
import unittest

from agentlib import is_root, maildir_files, prog
from lmtpd_util import SERVICE, LmtpdEnv, lmtp_transaction

BODY = (b"From: Sender <s@x.org>\r\nTo: a@ex.org\r\nSubject: lmtp test\r\n"
        b"\r\nHello over LMTP.\r\n")


def have_programs():
    return all(os.access(prog(p), os.X_OK)
               for p in ("lmtpd/lmtpd", "master/master", "qmgr/qmgr"))


def read_replies(sock, count, timeout=20):
    """Reads `count` complete replies (multi-line ones count once) from a
    raw socket; returns them as lists of lines."""
    sock.settimeout(timeout)
    data = b""
    replies = []
    deadline = time.monotonic() + timeout
    while len(replies) < count:
        while b"\r\n" not in data:
            if time.monotonic() > deadline:
                raise AssertionError(f"replies so far: {replies} {data!r}")
            chunk = sock.recv(65536)
            if not chunk:
                raise AssertionError(f"connection closed after {replies}")
            data += chunk
        lines = []
        while True:
            while b"\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    raise AssertionError(f"closed in a reply: {lines}")
                data += chunk
            line, data = data.split(b"\r\n", 1)
            lines.append(line.decode())
            if len(line) < 4 or line[3:4] != b"-":
                break
        replies.append(lines)
    return replies


@unittest.skipUnless(have_programs(), "lmtpd, master or qmgr not built")
class LmtpdTest(unittest.TestCase):
    def setUp(self):
        self.env = LmtpdEnv(self)
        self.inst = self.env.inst

    def test_per_recipient_replies_in_rcpt_order_over_unix_socket(self):
        with self.env.lmtp() as conn:
            code, text = conn.ehlo("client.example.test")
            self.assertEqual(code, 250)
            for keyword in ("pipelining", "enhancedstatuscodes", "8bitmime",
                            "smtputf8", "size"):
                self.assertIn(keyword, conn.esmtp_features)
            rcpt, data = lmtp_transaction(
                conn, "s@x.org", ["a@ex.org", "nobody@ex.org", "B@ex.org"],
                BODY)
        self.assertEqual(rcpt[0][0], 250)
        self.assertEqual(rcpt[1], (550, b"5.1.1 <nobody@ex.org>: User unknown"))
        self.assertEqual(rcpt[2][0], 250)
        self.assertEqual(len(data), 2)
        self.assertEqual(data[0][0], 250)
        self.assertRegex(data[0][1].decode(), r"^2\.0\.0 <a@ex.org> \w+ Saved$")
        self.assertRegex(data[1][1].decode(), r"^2\.0\.0 <B@ex.org> \w+ Saved$")
        for user in ("a", "b"):
            [stored] = self.env.messages(user)
            lines = stored.split(b"\n")
            self.assertEqual(lines[0], b"Return-Path: <s@x.org>")
            self.assertEqual(lines[1], f"Delivered-To: {user}@ex.org".encode())
            self.assertEqual(lines[2], b"Received: from client.example.test")
            self.assertRegex(lines[3].decode(),
                             r"^\tby lmtp\.example\.test \(Postern\) with "
                             r"LMTP id \w+$")
            self.assertEqual(lines[4][:len(b"\t(envelope-from <s@x.org>); ")],
                             b"\t(envelope-from <s@x.org>); ")
            self.assertTrue(stored.endswith(
                BODY.replace(b"\r\n", b"\n")), stored)
        files = maildir_files(self.env.mailbox("a"))
        st = os.stat(files[0])
        self.assertEqual((st.st_uid, st.st_gid),
                         (self.env.user.pw_uid, self.env.user.pw_gid))
        self.assertEqual(maildir_files(self.env.mailbox("a"), "tmp"), [])
        self.assertEqual(self.env.messages("c"), [])
        # One Postfix-shaped line per recipient, relay = the service.
        for rcpt_addr in ("a@ex.org", "B@ex.org"):
            self.inst.wait_for_log(
                rf"postern/lmtpd\[\d+\]: \w+: to=<{re.escape(rcpt_addr)}>, "
                rf"relay={SERVICE}, delay=[\d.]+, delays=[\d./]+, "
                r"dsn=2\.0\.0, status=sent \(delivered to maildir\)")
        self.inst.wait_for_log(r"reject: RCPT from localhost\[unix\]: 550 "
                               r"5\.1\.1 <nobody@ex\.org>: User unknown")

    def test_unix_socket_is_private(self):
        private = os.path.dirname(self.env.socket)
        mode = os.stat(private).st_mode
        self.assertEqual(stat.S_IMODE(mode) & 0o077, 0, oct(mode))

    def test_tcp_one_recipient_gets_for_clause(self):
        with self.env.lmtp(tcp=True) as conn:
            rcpt, data = lmtp_transaction(conn, "", ["c@ex.org"], BODY)
        self.assertEqual(data[0][0], 250, data)
        [stored] = self.env.messages("c")
        self.assertIn(b"Return-Path: <>\n", stored)
        self.assertIn(b"Received: from client.example.test ([127.0.0.1])\n",
                      stored)
        self.assertRegex(stored.decode(), r"\n\tfor <c@ex\.org>; \w")

    def test_pipelined_commands_in_one_write(self):
        sock = socket.create_connection(("127.0.0.1", self.env.port),
                                        timeout=20)
        with sock:
            [greeting] = read_replies(sock, 1)
            self.assertTrue(greeting[0].startswith("220 "), greeting)
            sock.sendall(b"LHLO pipe.example.test\r\n"
                         b"MAIL FROM:<s@x.org> SIZE=100 BODY=8BITMIME\r\n"
                         b"RCPT TO:<a@ex.org>\r\n"
                         b"RCPT TO:<zz@ex.org>\r\n"
                         b"RCPT TO:<b+ext@ex.org> NOTIFY=NEVER\r\n"
                         b"DATA\r\n")
            replies = read_replies(sock, 6)
            self.assertEqual(replies[0][-1][:4], "250 ")
            self.assertEqual([r[0][:3] for r in replies[1:]],
                             ["250", "250", "550", "250", "354"])
            sock.sendall(b"Subject: pipelined\r\n\r\nbody\r\n.\r\n"
                         b"NOOP\r\nQUIT\r\n")
            replies = read_replies(sock, 4)
            self.assertRegex(replies[0][0], r"^250 2\.0\.0 <a@ex.org> ")
            self.assertRegex(replies[1][0], r"^250 2\.0\.0 <b\+ext@ex.org> ")
            self.assertEqual(replies[2], ["250 2.0.0 Ok"])
            self.assertEqual(replies[3], ["221 2.0.0 Bye"])
        [stored] = self.env.messages("b")
        self.assertIn(b"Delivered-To: b+ext@ex.org\n", stored)

    def test_dot_stuffing(self):
        sock = socket.create_connection(("127.0.0.1", self.env.port),
                                        timeout=20)
        with sock:
            read_replies(sock, 1)
            sock.sendall(b"LHLO x.example\r\nMAIL FROM:<s@x.org>\r\n"
                         b"RCPT TO:<a@ex.org>\r\nDATA\r\n")
            read_replies(sock, 4)
            sock.sendall(b"Subject: dots\r\n\r\n..one dot\r\n...two dots\r\n"
                         b"..\r\nno dot\r\n.\r\n")
            [reply] = read_replies(sock, 1)
            self.assertTrue(reply[0].startswith("250 2.0.0 <a@ex.org>"),
                            reply)
        [stored] = self.env.messages("a")
        self.assertTrue(stored.endswith(
            b"Subject: dots\n\n.one dot\n..two dots\n.\nno dot\n"), stored)

    def test_chunking(self):
        part1 = b"Subject: chunks\r\n\r\n.not stuffed\r\nfirst"
        part2 = b" half, second half\r\n"
        sock = socket.create_connection(("127.0.0.1", self.env.port),
                                        timeout=20)
        with sock:
            read_replies(sock, 1)
            # A refused BDAT's chunk is still read, never run as commands.
            sock.sendall(b"LHLO chunk.example\r\nBDAT 6\r\nNOOP\r\n"
                         b"MAIL FROM:<s@x.org>\r\nRCPT TO:<a@ex.org>\r\n"
                         b"RCPT TO:<b@ex.org>\r\n"
                         + f"BDAT {len(part1)}\r\n".encode() + part1
                         + f"BDAT {len(part2)} LAST\r\n".encode() + part2
                         + b"QUIT\r\n")
            replies = read_replies(sock, 8)
        self.assertIn("250-CHUNKING", replies[0])
        self.assertEqual(replies[1], ["503 5.5.1 Error: need MAIL command"])
        self.assertEqual([r[0][:3] for r in replies[2:5]],
                         ["250", "250", "250"])
        self.assertEqual(replies[5], [f"250 2.0.0 Ok: {len(part1)} octets"])
        self.assertRegex(replies[6][0], r"^250 2\.0\.0 <a@ex.org> \w+ Saved$")
        self.assertRegex(replies[7][0], r"^250 2\.0\.0 <b@ex.org> \w+ Saved$")
        for user in ("a", "b"):
            [stored] = self.env.messages(user)
            self.assertTrue(stored.endswith(
                b"Subject: chunks\n\n.not stuffed\nfirst half, second "
                b"half\n"), stored)

    def test_large_message_goes_through_a_nameless_file(self):
        line = b"x" * 998 + b"\r\n"
        body = b"Subject: big\r\n\r\n" + line * 3000  # 3 MB
        with self.env.lmtp() as conn:
            rcpt, data = lmtp_transaction(conn, "s@x.org",
                                          ["a@ex.org", "b@ex.org"], body)
        self.assertEqual([code for code, _ in data], [250, 250], data)
        expected = body.replace(b"\r\n", b"\n")
        for user in ("a", "b"):
            [stored] = self.env.messages(user)
            self.assertTrue(stored.endswith(expected))
        # The spool file had no name: nothing was ever left behind.
        self.assertEqual(os.listdir(self.env.spool_dir), [])

    def test_only_a_large_message_needs_the_temp_directory(self):
        self.env.restart(lmtpd_temp_directory=os.path.join(self.inst.root,
                                                           "no-such-dir"))
        with self.env.lmtp() as conn:
            rcpt, data = lmtp_transaction(conn, "s@x.org", ["a@ex.org"],
                                          BODY)
            self.assertEqual(data[0][0], 250, data)
            big = b"Subject: big\r\n\r\n" + (b"y" * 998 + b"\r\n") * 200
            rcpt, data = lmtp_transaction(conn, "s@x.org",
                                          ["a@ex.org", "b@ex.org"], big)
        self.assertEqual(data, [
            (451, b"4.3.0 <a@ex.org> Temporary failure: cannot spool the "
                  b"message"),
            (451, b"4.3.0 <b@ex.org> Temporary failure: cannot spool the "
                  b"message")])
        self.assertEqual(len(self.env.messages("a")), 1)
        self.inst.wait_for_log(r"cannot spool the message: create a "
                               r"temporary file in \S+no-such-dir: No such")

    def test_idle_client_is_closed_after_lmtpd_timeout(self):
        self.env.restart(lmtpd_timeout="1s")
        sock = socket.create_connection(("127.0.0.1", self.env.port),
                                        timeout=20)
        with sock:
            read_replies(sock, 1)
            [reply] = read_replies(sock, 1, timeout=10)
            self.assertEqual(reply[0][:10], "421 4.4.2 ")
            self.assertEqual(sock.recv(100), b"")
        self.inst.wait_for_log(r"timeout after CONNECT from 127\.0\.0\.1")

    def test_size_limit(self):
        self.env.restart(message_size_limit="2000")
        with self.env.lmtp() as conn:
            conn.ehlo("client.example.test")
            self.assertEqual(conn.esmtp_features.get("size"), "2000")
            code, text = conn.mail("s@x.org", ["SIZE=5000"])
            self.assertEqual((code, text),
                             (552, b"5.3.4 Message size exceeds fixed limit"))
            rcpt, data = lmtp_transaction(
                conn, "s@x.org", ["a@ex.org", "b@ex.org"],
                b"Subject: x\r\n\r\n" + b"y" * 3000 + b"\r\n")
        self.assertEqual(data, [
            (552, b"5.3.4 <a@ex.org> Message size exceeds fixed limit"),
            (552, b"5.3.4 <b@ex.org> Message size exceeds fixed limit")])
        self.assertEqual(self.env.messages("a"), [])

    def test_quota_and_loop_fail_one_recipient_each(self):
        # a: Maildir++ quota of 100 bytes (as Dovecot or maildirmake -q
        # would set it) -> 552 5.2.2; b: a message that already went
        # through b -> 550 5.4.6; c: delivered.
        maildir = self.env.mailbox("a")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(maildir, sub))
        with open(os.path.join(maildir, "maildirsize"), "w") as f:
            f.write("100S\n0 0\n")
        if is_root():
            for dirpath, dirs, files in os.walk(os.path.dirname(maildir)):
                for name in [dirpath] + [os.path.join(dirpath, n)
                                         for n in dirs + files]:
                    os.chown(name, self.env.user.pw_uid,
                             self.env.user.pw_gid)
        body = b"Delivered-To: b@ex.org\r\nSubject: x\r\n\r\n" + b"z" * 500
        with self.env.lmtp() as conn:
            rcpt, data = lmtp_transaction(
                conn, "s@x.org", ["a@ex.org", "b@ex.org", "c@ex.org"], body)
        self.assertEqual(data[0][0], 552, data)
        self.assertTrue(data[0][1].startswith(b"5.2.2 <a@ex.org> "), data)
        self.assertEqual(data[1], (550, b"5.4.6 <b@ex.org> mail forwarding "
                                        b"loop for b@ex.org"))
        self.assertEqual(data[2][0], 250, data)
        self.assertEqual(self.env.messages("a"), [])
        self.assertEqual(self.env.messages("b"), [])
        self.assertEqual(len(self.env.messages("c")), 1)
        self.inst.wait_for_log(r"to=<b@ex\.org>, relay=lmtp-in, .*"
                               r"dsn=5\.4\.6, status=bounced")

    def test_lookup_error_defers_at_rcpt(self):
        missing = os.path.join(self.inst.root, "missing-table")
        self.env.restart(virtual_mailbox_maps=f"hash:{missing}")
        with self.env.lmtp() as conn:
            conn.ehlo("client.example.test")
            conn.mail("s@x.org")
            self.assertEqual(conn.rcpt("a@ex.org"),
                             (451, b"4.3.0 <a@ex.org>: Temporary lookup "
                                   b"failure"))
            code, _ = conn.docmd("DATA")
            self.assertEqual(code, 503)

    def test_protocol_rules(self):
        with self.env.lmtp() as conn:
            self.assertEqual(conn.docmd("MAIL FROM:<s@x.org>")[0], 503)
            self.assertEqual(conn.docmd("EHLO client.example.test")[0], 500)
            self.assertEqual(conn.docmd("HELO client.example.test")[0], 500)
            conn.ehlo("client.example.test")
            self.assertEqual(conn.docmd("RCPT TO:<a@ex.org>")[0], 503)
            self.assertEqual(conn.docmd("VRFY a@ex.org")[0], 252)
            self.assertEqual(conn.docmd("STARTTLS")[0], 502)
            self.assertEqual(conn.mail("s@x.org")[0], 250)
            self.assertEqual(conn.docmd("MAIL FROM:<s@x.org>")[0], 503)
            self.assertEqual(conn.rcpt("a@ex.org")[0], 250)
            self.assertEqual(conn.rset()[0], 250)
            self.assertEqual(conn.docmd("DATA")[0], 503)
            self.assertEqual(conn.noop()[0], 250)


if __name__ == "__main__":
    unittest.main()


@unittest.skipUnless(os.access(prog("lmtpd", "lmtpd"), os.X_OK),
                     "lmtpd not built")
@unittest.skipUnless(is_root(), "needs root to start lmtpd as another user "
                                "(as that user, the other tests run so)")
class LmtpdAsOrdinaryUserTest(unittest.TestCase):
    """Not started as root, lmtpd switches to nobody else: every mailbox
    is written as the user it runs as, whatever virtual_uid_maps says."""

    def test_delivers_as_itself(self):
        nobody = pwd.getpwnam("nobody")
        root = tempfile.mkdtemp(prefix="pt-lmtpd.", dir="/tmp")
        os.chmod(root, 0o755)
        self.addCleanup(subprocess.run, ["rm", "-rf", root])
        etc, base = os.path.join(root, "etc"), os.path.join(root, "vmail")
        os.makedirs(etc)
        os.makedirs(base)
        os.chown(base, nobody.pw_uid, nobody.pw_gid)
        with open(os.path.join(etc, "main.cf"), "w") as f:
            f.write(f"queue_directory = {root}\n"
                    f"maillog_file = {root}/log/maillog\n"
                    f"virtual_mailbox_base = {base}\n"
                    "virtual_mailbox_maps = inline:{ a@ex.org=ex.org/a/ }\n"
                    "virtual_uid_maps = static:4242\n"
                    "virtual_gid_maps = static:4242\n"
                    "virtual_minimum_uid = 1\n"
                    f"lmtpd_temp_directory = {root}/log\n")
        os.makedirs(os.path.join(root, "log"))
        os.chown(os.path.join(root, "log"), nobody.pw_uid, nobody.pw_gid)

        def become_nobody():
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)

        sock_path = os.path.join(root, "log", "lmtp")
        proc = subprocess.Popen([prog("lmtpd", "lmtpd"), "-c", etc, "-S",
                                 sock_path], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE,
                                preexec_fn=become_nobody)
        self.addCleanup(proc.wait, 10)
        self.addCleanup(proc.kill)
        deadline = time.monotonic() + 10
        while not os.path.exists(sock_path):
            if proc.poll() is not None or time.monotonic() > deadline:
                self.fail("lmtpd did not bind its socket: "
                          + proc.stderr.read(2000).decode())
            time.sleep(0.02)
        self.assertEqual(os.stat(sock_path).st_uid, nobody.pw_uid)
        with smtplib.LMTP(sock_path, timeout=20) as conn:
            big = BODY + (b"q" * 998 + b"\r\n") * 200  # the temporary file too
            rcpt, data = lmtp_transaction(conn, "s@x.org", ["a@ex.org"], big)
        self.assertEqual(data[0][0], 250, data)
        [path] = maildir_files(os.path.join(base, "ex.org", "a"))
        st = os.stat(path)
        self.assertEqual((st.st_uid, st.st_gid),
                         (nobody.pw_uid, nobody.pw_gid))
