"""test_time_limits.py: time parameters are at most INT_MAX seconds, as
in Postfix (docs/configuration.md, docs/decisions.md): 2147483647s is
taken everywhere, 9999999w is a bad time value that `postern check` and
postconf report. Values at the bound run a real instance (master, qmgr,
the fake agents) whose mail still flows."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from instance import Instance  # noqa: E402
from test_qmgr import QmgrTestBase  # noqa: E402

INT_MAX = "2147483647s"
TIME_PARAMS = ["ipc_timeout", "daemon_timeout", "max_idle",
               "minimal_backoff_time", "maximal_backoff_time",
               "transport_retry_time", "command_time_limit",
               "deliver_lock_delay", "stale_lock_time", "smtpd_timeout"]


class TimeValueBoundTest(unittest.TestCase):
    def test_int_max_seconds_is_accepted(self):
        inst = Instance(self, main_cf={p: INT_MAX for p in TIME_PARAMS})
        proc = inst.postern("check")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("bad time value", proc.stderr)

    def test_beyond_int_max_is_a_bad_time_value(self):
        for value in ("9999999w", "2147483648s", "24856d", "3551w"):
            inst = Instance(self, main_cf={"ipc_timeout": value})
            proc = inst.postern("check")
            self.assertNotEqual(proc.returncode, 0, value)
            self.assertIn(f'ipc_timeout: bad time value "{value}"',
                          proc.stderr, value)


class IntMaxLimitsFlowTest(QmgrTestBase):
    main_extra = {p: INT_MAX for p in TIME_PARAMS}

    def test_mail_flows_with_int_max_limits(self):
        self.inst.start()
        qid = self.inject("alice@example.com", "bob@virt.test")
        self.wait_removed(qid)
        self.assertEqual(self.delivered().get((qid, "bob@virt.test")), 1)


if __name__ == "__main__":
    unittest.main()
