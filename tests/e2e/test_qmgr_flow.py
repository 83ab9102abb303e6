"""End-to-end tests of qmgr's flow control per destination (docs/qmgr.md,
"Flow control per destination"): the concurrency window that starts at
initial_destination_concurrency and grows with positive feedback, a
destination suspended after a failed cohort, and the back-off after a
rate-limit reply. The fake agent (tests/helpers/fake_agent.c) answers
each request with the hop_status the test writes after the status word
in its status file, as the smtp client does from what the remote server
did."""
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from instance import builddir  # noqa: E402
from test_qmgr import QmgrTestBase  # noqa: E402


class FlowTestBase(QmgrTestBase):
    agent_maxproc = 20

    def postqueue(self, *args):
        path = os.path.join(builddir(), "tools", "postqueue")
        if not os.access(path, os.X_OK):
            self.skipTest("tools/postqueue not built")
        proc = subprocess.run([path, "-c", self.inst.etc, *args],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout

    def read_conc(self, name):
        try:
            with open(f"{self.conc}-{name}") as f:
                cur, mx = f.read().split()
                return int(cur), int(mx)
        except FileNotFoundError:
            return 0, 0

    def defer_text(self, qid):
        path = os.path.join(self.inst.queue, "defer", qid)
        self.inst.wait_until(lambda: os.path.exists(path),
                             what=f"defer log of {qid}")
        with open(path) as f:
            return f.read()


class WindowTest(FlowTestBase):
    agent_args = "delay_ms=300"

    def run_burst(self, count=24):
        self.inst.start()
        qids = [self.inject("a@example.com", f"u{i}@virt.test")
                for i in range(count)]
        for qid in qids:
            self.wait_removed(qid, timeout=60)
        return self.read_conc("virtual")

    def test_window_stays_at_initial_without_positive_feedback(self):
        self.inst.write_main_cf({
            "virtual_destination_concurrency_limit": "8",
            "initial_destination_concurrency": "2",
            "virtual_destination_concurrency_positive_feedback": "0"})
        cur, mx = self.run_burst()
        self.assertEqual(cur, 0)
        self.assertEqual(mx, 2)

    def test_window_grows_to_the_limit(self):
        self.inst.write_main_cf({
            "virtual_destination_concurrency_limit": "8",
            "initial_destination_concurrency": "2"})
        _, mx = self.run_burst()
        self.assertEqual(mx, 8)


class DeadDestinationTest(FlowTestBase):
    main_extra = {"minimal_backoff_time": "60s", "maximal_backoff_time": "60s",
                  "initial_destination_concurrency": "1"}

    def test_failed_cohort_suspends_the_destination(self):
        self.set_status("deferred failed")
        self.inst.start()
        first = self.inject("a@example.com", "u1@virt.test")
        self.inst.wait_for_log(rf"{first}: to=<u1@virt.test>, .*status=deferred")
        # the destination is dead now: new mail for it is deferred by qmgr
        # with the reason, without a request to the agent
        second = self.inject("a@example.com", "u2@virt.test")
        line = self.inst.wait_for_log(
            rf"{second}: to=<u2@virt.test>, .*status=deferred "
            rf"\(delivery temporarily suspended: ([^)]*)\)")
        self.assertIn("fake agent says try again later", line.group(1))
        self.assertIn("delivery temporarily suspended",
                      self.defer_text(second))
        requests = [r for q, r, _ in self.journal_lines()]
        self.assertNotIn("u2@virt.test", requests)
        # another domain of the same transport is not affected
        self.set_status("sent")
        other = self.inject("a@example.com", "u3@virt2.test")
        self.wait_removed(other)
        # a flush forgets the dead mark and retries
        self.postqueue("-f")
        self.wait_removed(first, timeout=20)
        self.wait_removed(second, timeout=20)

    def test_cohort_limit_is_honoured(self):
        self.set_status("deferred failed")
        self.inst.write_main_cf({
            "default_destination_concurrency_failed_cohort_limit": "3"})
        self.inst.start()
        self.inject("a@example.com", "u1@virt.test")
        self.inst.wait_for_log(r"to=<u1@virt.test>, .*status=deferred")
        second = self.inject("a@example.com", "u2@virt.test")
        # with a limit of 3 cohorts, one failure does not suspend it
        line = self.inst.wait_for_log(rf"{second}: to=<u2@virt.test>, .*status=deferred \(([^)]*)\)")
        self.assertNotIn("suspended", line.group(1))


class RateLimitTest(FlowTestBase):
    main_extra = {"postern_rate_limit_delay": "2s",
                  "minimal_backoff_time": "60s", "maximal_backoff_time": "60s"}

    def delivery_times(self, base, count, timeout):
        """Times at which the journal grew to base + 1, ... base + count
        lines (a line that was there at the first look counts as now)."""
        times, seen = [], base
        deadline = time.monotonic() + timeout
        while len(times) < count and time.monotonic() < deadline:
            n = len(self.journal_lines())
            while seen < n and len(times) < count:
                seen += 1
                times.append(time.monotonic())
            time.sleep(0.02)
        return times

    def test_rate_limit_reply_slows_the_destination(self):
        self.set_status("deferred throttled")
        self.inst.start()
        first = self.inject("a@example.com", "u0@virt.test")
        self.inst.wait_for_log(
            r"virt.test: rate-limited by the destination: concurrency 1, "
            r"one delivery every 2s")
        # postqueue -p and the delay notice show why
        self.assertIn("; rate-limited by virt.test: one delivery every 2s",
                      self.defer_text(first))
        self.assertIn("rate-limited by virt.test", self.postqueue("-p"))
        # now the destination accepts again, but mail goes one at a time,
        # spaced out, instead of at full speed
        self.set_status("sent")
        base = len(self.journal_lines())
        start = time.monotonic()
        for i in range(1, 4):
            self.inject("a@example.com", f"u{i}@virt.test")
        times = self.delivery_times(base, 3, timeout=30)
        self.assertEqual(len(times), 3)
        self.assertGreater(times[0] - start, 1.0)
        self.assertGreater(times[1] - times[0], 1.2)
        self.assertGreater(times[2] - times[1], 1.2)
        _, mx = self.read_conc("virtual")
        self.assertEqual(mx, 1)

    def test_backoff_can_be_turned_off(self):
        self.inst.write_main_cf({**self.main_extra,
                                 "postern_rate_limit_backoff": "no"})
        self.set_status("deferred throttled")
        self.inst.start()
        first = self.inject("a@example.com", "u0@virt.test")
        self.inst.wait_for_log(rf"{first}: to=<u0@virt.test>, .*status=deferred")
        self.set_status("sent")
        base = len(self.journal_lines())
        start = time.monotonic()
        for i in range(1, 4):
            self.inject("a@example.com", f"u{i}@virt.test")
        times = self.delivery_times(base, 3, timeout=30)
        self.assertEqual(len(times), 3)
        self.assertLess(times[2] - start, 1.5)
        self.assertNotIn("rate-limited", self.defer_text(first))


if __name__ == "__main__":
    unittest.main()
