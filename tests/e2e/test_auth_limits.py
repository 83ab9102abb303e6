"""test_auth_limits.py: the auth service's bounds on its clients, with
short settings: a request waiting for CONT fails after
auth_request_timeout; a connection that sends nothing is closed after
auth_client_idle_timeout of silence (counted from its last line); past
auth_client_connection_limit a new connection is closed at once, with
one warning."""
import time
import unittest

from auth_util import AuthClient, start_auth_instance

USERS = "alice:{PLAIN}secret\n"


class AuthLimitsTest(unittest.TestCase):
    def setUp(self):
        self.inst, self.path, _ = start_auth_instance(
            self, USERS, {"auth_request_timeout": "1s",
                          "auth_client_idle_timeout": "3s",
                          "auth_client_connection_limit": "3"})

    def client(self, start=True):
        c = AuthClient(self.path)
        self.addCleanup(c.close)
        return c.start() if start else c

    def wait_eof(self, c):
        """Seconds until the server closes c."""
        started = time.monotonic()
        with self.assertRaises((EOFError, ConnectionResetError)):
            while True:
                c.line()
        return time.monotonic() - started

    def test_request_waiting_for_cont_times_out(self):
        c = self.client()
        started = time.monotonic()
        c.auth(1, "LOGIN", rip="192.0.2.70")
        self.assertEqual(c.reply()[0], "CONT")
        cmd, rid, params, _ = c.reply()
        self.assertEqual((cmd, rid, params["reason"]),
                         ("FAIL", "1", "Authentication request timed out"))
        self.assertGreaterEqual(time.monotonic() - started, 0.9)
        self.inst.wait_for_log(r"passdb\(\?,192\.0\.2\.70\): request timed out "
                               r"waiting for the client \(method=LOGIN")
        # The connection stays usable.
        (cmd, _, _, _), _ = c.plain(2, "alice", "secret")
        self.assertEqual(cmd, "OK")

    def test_silent_connection_is_closed(self):
        mark = self.inst.log_mark()
        silent = self.client(start=False)  # not even VERSION
        shaken = self.client()             # handshake, then nothing
        self.assertGreaterEqual(self.wait_eof(shaken), 2.0)
        self.wait_eof(silent)
        self.inst.wait_for_log(r"auth client \(pid \d+\): idle for 3s; "
                               r"closing the connection", since=mark,
                               count=2)

    def test_active_connection_stays_open(self):
        """The idle time counts from the client's last line."""
        c = self.client()
        started = time.monotonic()
        for i in range(4):
            (cmd, _, _, _), _ = c.plain(1 + i, "alice", "secret")
            self.assertEqual(cmd, "OK")
            time.sleep(1.2)
        self.assertGreater(time.monotonic() - started, 4.0)
        (cmd, _, _, _), _ = c.plain(9, "alice", "secret")
        self.assertEqual(cmd, "OK")

    def test_connection_limit(self):
        mark = self.inst.log_mark()
        for _ in range(3):
            self.client()
        for _ in range(2):
            extra = self.client(start=False)
            self.assertLess(self.wait_eof(extra), 1.0)
        self.inst.wait_for_log(r"warning: 3 client connections, the "
                               r"auth_client_connection_limit: refusing new "
                               r"connections", since=mark)
        time.sleep(0.2)
        self.assertEqual(len(self.inst.log_since(mark).split(
            "auth_client_connection_limit")) - 1, 1)


if __name__ == "__main__":
    unittest.main()
