"""test_auth_failure_timing.py: an unknown user and a wrong password take
the same time as seen by the client (both answered auth_failure_delay
after the request arrived), and an unknown user costs no password check:
the auth process spends next to no CPU on a burst of unknown names,
where a check against an ARGON2ID hash costs about 0.4 s each.

The timings are loose bounds, not a performance assertion: both failures
must take at least the delay and less than the delay plus a generous
margin; the CPU bound is far below what one argon2 check costs."""
import os
import time
import unittest

from auth_util import AuthClient, start_auth_instance

# doveadm pw -s ARGON2ID -p slowpw: 64 MiB, 3 passes (~0.4 s a check)
USERS = ("slow:{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$Y1S/HDX77Z6ujeczG3s/"
         "uA$jfuHdpMhICAxI9/1svOT/LyBsQf+bOtj70TJELBmV8k\n")


def cpu_seconds(pid):
    """User + system CPU time of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class FailureTimingTest(unittest.TestCase):
    def setUp(self):
        self.inst, self.path, _ = start_auth_instance(
            self, USERS, {"auth_failure_delay": "2s",
                          "auth_lockout_threshold": "0"})

    def client(self):
        c = AuthClient(self.path).start()
        self.addCleanup(c.close)
        return c

    def test_unknown_user_and_wrong_password_take_the_delay(self):
        c = self.client()
        (cmd, _, _, _), wrong = c.plain(1, "slow", "nope", rip="192.0.2.40")
        self.assertEqual(cmd, "FAIL")
        (cmd, _, _, _), unknown = c.plain(2, "ghost", "nope",
                                          rip="192.0.2.41")
        self.assertEqual(cmd, "FAIL")
        for took in (wrong, unknown):
            self.assertGreaterEqual(took, 1.95)
            self.assertLess(took, 3.5)
        # Arrival + delay, not check end + delay: the argon2 check (~0.4 s)
        # does not show. The tolerance allows for a busy machine.
        self.assertLess(abs(wrong - unknown), 0.3)

    def test_unknown_users_cost_no_password_check(self):
        c = self.client()
        pid = int(next(line.split("\t")[1] for line in c.handshake
                       if line.startswith("SPID\t")))
        before = cpu_seconds(pid)
        started = time.monotonic()
        for i in range(6):  # all at once, on one connection
            c.auth(10 + i, "PLAIN", rip=f"192.0.2.{50 + i}",
                   resp=b"\0ghost%d\0guess" % i)
        replies = sorted(c.reply()[1] for _ in range(6))
        took = time.monotonic() - started
        self.assertEqual(replies, [str(10 + i) for i in range(6)])
        self.assertGreaterEqual(took, 1.95)
        # Six argon2 checks would cost about 2.4 s of CPU.
        self.assertLess(cpu_seconds(pid) - before, 0.3)
        self.inst.wait_for_log(r"passdb\(ghost5,192\.0\.2\.55\): unknown user")


if __name__ == "__main__":
    unittest.main()
