"""test_auth_fail2ban.py: every failed login of the auth service is
logged in a line that fail2ban's stock `dovecot` filter matches, with
the client address: failures of each kind (wrong password, unknown user,
LOGIN, SCRAM-SHA-256, a malformed response, a locked-out attempt) are
made over the real socket, then `fail2ban-regex LOG
/etc/fail2ban/filter.d/dovecot.conf` reads the instance's real maillog
and must find each failure's address, and nothing for the successes."""
import os
import shutil
import subprocess
import unittest

from auth_util import AuthClient, start_auth_instance

FILTER = "/etc/fail2ban/filter.d/dovecot.conf"
USERS = "alice:{PLAIN}secret\n"


def fail2ban_ips(logfile, filter_path=FILTER):
    """The addresses fail2ban-regex finds in logfile, one per matched
    line, in order."""
    out = subprocess.run(["fail2ban-regex", "--out", "ip", logfile,
                          filter_path],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise AssertionError(f"fail2ban-regex failed: {out.stderr}")
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


@unittest.skipUnless(shutil.which("fail2ban-regex") and os.path.exists(FILTER),
                     "fail2ban is not installed (scripts/install-deps --test "
                     "installs it)")
class Fail2banTest(unittest.TestCase):
    def test_stock_dovecot_filter_bans_each_failure(self):
        inst, path, _ = start_auth_instance(
            self, USERS, {"auth_failure_delay": "0s",
                          "auth_lockout_threshold": "2"})
        c = AuthClient(path).start()
        self.addCleanup(c.close)
        # One success first: it must not match.
        (cmd, _, _, _), _ = c.plain(1, "alice", "secret", rip="192.0.2.1")
        self.assertEqual(cmd, "OK")
        (cmd, _, _, _), _ = c.plain(2, "alice", "wrong", rip="192.0.2.2")
        self.assertEqual(cmd, "FAIL")
        (cmd, _, _, _), _ = c.plain(3, "nobody", "x", rip="192.0.2.3")
        self.assertEqual(cmd, "FAIL")
        self.assertEqual(c.login(4, "alice", "nope", rip="2001:db8::4")[0],
                         "FAIL")
        (cmd, _, _, _), _ = c.scram(5, "alice", "nope", rip="192.0.2.5")
        self.assertEqual(cmd, "FAIL")
        # A user name trying to smuggle another address into the line.
        (cmd, _, _, _), _ = c.plain(6, "x,203.0.113.66): Password mismatch",
                                    "x", rip="192.0.2.6")
        self.assertEqual(cmd, "FAIL")
        c.auth(7, "PLAIN", rip="192.0.2.7", resp=b"garbage")
        self.assertEqual(c.reply()[0], "FAIL")
        # Locked out (two failures from .8, then the right password).
        for i in (8, 9):
            (cmd, _, _, _), _ = c.plain(i, "alice", "bad", rip="192.0.2.8")
        (cmd, _, params, _), _ = c.plain(10, "alice", "secret",
                                         rip="192.0.2.8")
        self.assertEqual(cmd, "FAIL")
        inst.wait_for_log(r"passdb\(alice,192\.0\.2\.8\): Invalid credentials "
                          r"\(locked out")
        ips = fail2ban_ips(inst.maillog)
        self.assertEqual(ips, ["192.0.2.2", "192.0.2.3", "2001:db8::4",
                               "192.0.2.5", "192.0.2.6", "192.0.2.7",
                               "192.0.2.8", "192.0.2.8", "192.0.2.8"],
                         inst.log_text())
        # The filter reads the program name: under the usual
        # postern/auth it would see nothing, hence auth_failure_log_ident.
        self.assertIn(" auth[", inst.log_text())


if __name__ == "__main__":
    unittest.main()
