"""test_qmgr_respawn.py: master replaces a lost wakeup service such as
qmgr at once, not at its next wakeup (master/spawn.c,
replace_wakeup_service; docs/master.md "Wakeups"). Real master + qmgr +
fake delivery agents, as in test_qmgr.py, with qmgr's wakeup at 300 s
as in Postfix's master.cf, so only the replacement can bring it back."""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_qmgr import QmgrTestBase  # noqa: E402


class QmgrRespawnTest(QmgrTestBase):
    qmgr_wakeup = 300

    def new_qmgr(self, old, timeout):
        def other():
            pid = self.qmgr_pid()
            return pid if pid and pid != old else None
        return self.inst.wait_until(other, timeout=timeout,
                                    what="a new qmgr process")

    def test_killed_qmgr_is_replaced_at_once(self):
        self.inst.start()
        self.wait_removed(self.inject("alice@example.com", "first@virt.test"))
        for round_ in range(3):  # not only once: no throttle for a worker
            old = self.qmgr_pid()
            self.assertIsNotNone(old)
            os.kill(old, signal.SIGKILL)
            killed = time.monotonic()
            # Nobody triggers public/qmgr: master alone must start it.
            new = self.new_qmgr(old, timeout=3)
            self.assertLess(time.monotonic() - killed, 3)
            self.assertNotEqual(new, old)
            # Mail submitted after the kill, with no trigger, is delivered
            # within seconds (the new qmgr watches incoming/).
            start = time.monotonic()
            qid = self.inject("alice@example.com", f"r{round_}@virt.test",
                              trigger=False)
            self.wait_removed(qid, timeout=5)
            self.assertLess(time.monotonic() - start, 5)
            self.assertEqual(
                self.delivered().get((qid, f"r{round_}@virt.test")), 1)
        self.assertRegex(self.inst.log_text(),
                         r"master\[\d+\]: warning: process \S+/qmgr pid \d+ "
                         r"killed by signal 9")
        self.assertNotIn("is throttled", self.inst.log_text())

    def test_sigterm_qmgr_is_replaced_at_once(self):
        # An administrator's plain `kill` (qmgr exits 0 on SIGTERM).
        self.inst.start()
        self.wait_removed(self.inject("alice@example.com", "first@virt.test"))
        old = self.qmgr_pid()
        os.kill(old, signal.SIGTERM)
        self.new_qmgr(old, timeout=3)
        qid = self.inject("alice@example.com", "bob@virt.test", trigger=False)
        self.wait_removed(qid, timeout=5)


if __name__ == "__main__":
    unittest.main()
