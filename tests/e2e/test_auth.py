"""test_auth.py: the auth service over its real socket, driven in
Dovecot's authentication protocol by a client written here (auth_util):
the handshake, PLAIN right and wrong (the wrong one answered after
auth_failure_delay), LOGIN, a whole SCRAM-SHA-256 exchange computed with
hashlib/hmac, requests multiplexed on one connection while a failure is
held back, protocol errors closing the connection, and the lock-out."""
import shutil
import subprocess
import time
import unittest

from auth_util import AuthClient, start_auth_instance

SCRAM_SECRET = ("{SCRAM-SHA-256}4096,n+onRzmuokqZcsmjUBD+hg==,"
                "GVYqFHUKnTp54ixper92HIomU5IiFMWEw7cJyfkppKA=,"
                "L0MsGO7ZWRqWR+seWsXG/sWCGn9fgCmKkTNFPfRbiRo=")
USERS = ("alice:{PLAIN}secret:1001:1001::/home/alice::mail=maildir:~/Maildir\n"
         f"scram:{SCRAM_SECRET}\n"
         # doveadm pw -s SHA512-CRYPT -p crypted
         "crypt:{SHA512-CRYPT}$6$aL3F/apPJcIY5IUq$8waIGDHrYZDReMg3lcY0So1OKxLA"
         "I3/PPTpEGzmk1k6v8vFJltxKBsxYloTrlprHV9qNR88ZeMsevUTYNVc0a0\n"
         "locky:{PLAIN}key\n"
         # doveadm pw -s ARGON2ID -p slowpw: 64 MiB, 3 passes
         "slow:{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$Y1S/HDX77Z6ujeczG3s/"
         "uA$jfuHdpMhICAxI9/1svOT/LyBsQf+bOtj70TJELBmV8k\n")


class AuthServiceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst, cls.path, cls.users_path = start_auth_instance(
            None, USERS, {"auth_lockout_threshold": "3"})

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def client(self):
        c = AuthClient(self.path).start()
        self.addCleanup(c.close)
        return c

    def test_handshake(self):
        c = self.client()
        self.assertEqual(c.handshake[0], "VERSION\t1\t2")
        self.assertEqual(c.handshake[-1], "DONE")
        names = [line.split("\t")[0] for line in c.handshake]
        for name in ("SPID", "CUID", "COOKIE", "MECH"):
            self.assertIn(name, names)
        self.assertEqual(c.mechs, {"PLAIN": ["plaintext"],
                                   "LOGIN": ["plaintext"],
                                   "SCRAM-SHA-256": []})

    def test_plain_right_and_wrong(self):
        c = self.client()
        (cmd, rid, params, _), took = c.plain(1, "alice", "secret",
                                              rip="192.0.2.10")
        self.assertEqual((cmd, rid, params), ("OK", "1", {"user": "alice"}))
        self.assertLess(took, 0.9)
        (cmd, rid, params, _), took = c.plain(2, "alice", "wrong",
                                              rip="192.0.2.10")
        self.assertEqual((cmd, rid, params["user"]), ("FAIL", "2", "alice"))
        self.assertGreaterEqual(took, 0.9)  # auth_failure_delay = 1s
        # A crypt(3) hash, checked through libxcrypt.
        (cmd, _, params, _), _ = c.plain(3, "crypt", "crypted",
                                         rip="192.0.2.10")
        self.assertEqual((cmd, params), ("OK", {"user": "crypt"}))

    def test_login_and_imap_fields(self):
        c = self.client()
        cmd, rid, params, _ = c.login(5, "alice", "secret", service="imap",
                                      rip="192.0.2.11")
        self.assertEqual((cmd, rid), ("OK", "5"))
        self.assertEqual(params, {"user": "alice", "uid": "1001",
                                  "gid": "1001", "home": "/home/alice",
                                  "mail": "maildir:~/Maildir"})

    def test_scram_sha256(self):
        c = self.client()
        (cmd, rid, params, _), verified = c.scram(7, "scram", "secret",
                                                  rip="192.0.2.12")
        self.assertEqual((cmd, rid, params), ("OK", "7", {"user": "scram"}))
        self.assertTrue(verified)
        # {PLAIN} allows SCRAM too (credentials derived on the fly).
        (cmd, _, _, _), verified = c.scram(8, "alice", "secret",
                                           rip="192.0.2.12")
        self.assertEqual(cmd, "OK")
        self.assertTrue(verified)
        (cmd, _, _, _), _ = c.scram(9, "scram", "wrong", rip="192.0.2.12")
        self.assertEqual(cmd, "FAIL")
        # A crypt hash cannot give SCRAM credentials: it fails.
        (cmd, _, _, _), _ = c.scram(10, "crypt", "crypted", rip="192.0.2.12")
        self.assertEqual(cmd, "FAIL")

    def test_failure_delay_does_not_block_others(self):
        """While one client's FAIL is held back, the service answers
        another request on the same connection and another connection."""
        c = self.client()
        started = time.monotonic()
        c.auth(20, "PLAIN", rip="192.0.2.13", resp=b"\0alice\0nope")
        c.auth(21, "PLAIN", rip="192.0.2.13", resp=b"\0alice\0secret")
        other = self.client()
        (cmd, _, _, _), took = other.plain(1, "alice", "secret",
                                           rip="192.0.2.14")
        self.assertEqual(cmd, "OK")
        self.assertLess(took, 0.5)
        first = c.reply()
        self.assertEqual(first[:2], ("OK", "21"))
        self.assertLess(time.monotonic() - started, 0.5)
        second = c.reply()
        self.assertEqual(second[:2], ("FAIL", "20"))
        self.assertGreaterEqual(time.monotonic() - started, 0.9)

    def test_costly_hash_does_not_hold_up_others(self):
        """An ARGON2ID check (a third of a second) runs in a worker: a
        {PLAIN} login on another connection is answered meanwhile."""
        slow = self.client()
        fast = self.client()
        slow.auth(1, "PLAIN", rip="192.0.2.15", resp=b"\0slow\0slowpw")
        (cmd, _, _, _), took = fast.plain(1, "alice", "secret",
                                          rip="192.0.2.16")
        self.assertEqual(cmd, "OK")
        slow.sock.setblocking(False)
        with self.assertRaises(BlockingIOError):
            slow.sock.recv(1)  # still checking
        slow.sock.setblocking(True)
        self.assertEqual(slow.reply()[:3], ("OK", "1", {"user": "slow"}))

    @unittest.skipUnless(shutil.which("doveadm"), "doveadm (dovecot-core) is "
                         "not installed (scripts/install-deps --test)")
    def test_dovecot_client_library(self):
        """Dovecot's own client side (doveadm auth test -a SOCKET) gets
        its answers from us: success, failure, and the imap fields."""
        def doveadm(password, *extra):
            return subprocess.run(["doveadm", "auth", "test", "-a", self.path,
                                   *extra, "alice", password],
                                  capture_output=True, text=True, timeout=60)
        ok = doveadm("secret", "-x", "rip=192.0.2.17")
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        self.assertIn("auth succeeded", ok.stdout)
        bad = doveadm("wrong", "-x", "rip=192.0.2.18")
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("auth failed", bad.stdout)
        imap = doveadm("secret", "-x", "service=imap", "-x", "rip=192.0.2.19")
        self.assertEqual(imap.returncode, 0, imap.stdout + imap.stderr)
        for field in ("uid=1001", "gid=1001", "home=/home/alice",
                      "mail=maildir:~/Maildir"):
            self.assertIn(field, imap.stdout)

    def test_protocol_errors_close_with_a_reason(self):
        mark = self.inst.log_mark()
        c = AuthClient(self.path)
        self.addCleanup(c.close)
        c.send("AUTH\t1\tPLAIN\tservice=smtp")
        with self.assertRaises((EOFError, ConnectionResetError)):
            while True:
                c.line()
        self.inst.wait_for_log(r"auth client .*first line is not VERSION; "
                               r"closing the connection", since=mark)
        # A line over the limit.
        c = self.client()
        c.sock.sendall(b"AUTH\t1\tPLAIN\tservice=smtp\tresp=" + b"A" * 20000
                       + b"\n")
        with self.assertRaises((EOFError, ConnectionResetError)):
            while True:
                c.line()
        self.inst.wait_for_log(r"line longer than the protocol's limit",
                               since=mark)

    def test_lockout(self):
        """auth_lockout_threshold = 3: after three failures from one
        address the right password fails too, for that address."""
        c = self.client()
        for i in range(3):
            (cmd, _, _, _), _ = c.plain(30 + i, "locky", "bad",
                                        rip="198.51.100.77")
            self.assertEqual(cmd, "FAIL")
        (cmd, _, params, _), took = c.plain(40, "locky", "key",
                                            rip="198.51.100.77")
        self.assertEqual(cmd, "FAIL")
        self.assertIn("Too many failed attempts", params["reason"])
        self.inst.wait_for_log(r"passdb\(locky,198\.51\.100\.77\): Invalid "
                               r"credentials \(locked out;")
        # The user is locked from everywhere too, for the window; another
        # user from another address is not.
        (cmd, _, _, _), _ = c.plain(41, "locky", "key", rip="203.0.113.5")
        self.assertEqual(cmd, "FAIL")
        (cmd, _, _, _), _ = c.plain(42, "crypt", "crypted", rip="203.0.113.5")
        self.assertEqual(cmd, "OK")


if __name__ == "__main__":
    unittest.main()
