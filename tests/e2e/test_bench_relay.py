"""test_bench_relay.py: bench/run's relay workload (--relay) works and
cannot report a wrong run as a good one. Two tiny runs on Postern only
(30 messages, 3 intake sessions: a check of the harness, not a
benchmark): one that relays to bench/smtp-sink and must be reported
complete with the sink's count, and one whose relayhost is overridden to
a port nobody listens on, which must end "stalled" and INCOMPLETE with
exit status 1 instead of printing a rate."""
import os
import re
import socket
import subprocess
import sys
import tempfile
import unittest

from instance import builddir

RUN = os.path.join(builddir(), "bench", "run")
NEEDED = ("master/master", "smtpd/smtpd", "qmgr/qmgr", "virtual/virtual",
          "smtp/smtp", "tools/postern", "bench/smtp-sink", "bench/smtp-load")


def missing():
    return [p for p in NEEDED
            if not os.access(os.path.join(builddir(), p), os.X_OK)]


@unittest.skipIf(missing(), f"not built: {' '.join(missing())} (make, make bench)")
class BenchRelayTest(unittest.TestCase):
    def bench(self, *extra, timeout=180):
        tmp = tempfile.TemporaryDirectory(prefix="bench-relay.")
        self.addCleanup(tmp.cleanup)
        os.chmod(tmp.name, 0o755)     # the daemons run as mail_owner
        # TMPDIR: bench/run notes its mass deletions in a file there and
        # waits a minute after one; a fresh directory has no such note.
        env = dict(os.environ, TMPDIR=tmp.name)
        proc = subprocess.run(
            [sys.executable, RUN, "--relay", "--system", "postern",
             "--messages", "30", "--sessions", "3", "--wait-quiet", "0",
             "--timeout", "60", "--builddir", builddir(),
             "--tmpdir", tmp.name, *extra],
            capture_output=True, text=True, timeout=timeout, env=env)
        return proc

    def test_relay_run_counts_every_message_at_the_sink(self):
        proc = self.bench()
        out = proc.stdout + proc.stderr
        self.assertEqual(proc.returncode, 0, out)
        self.assertRegex(proc.stdout, r"\| sink: messages \(check\)\s+\| 30 ")
        rate = re.search(r"\| relayed msg/s \(intake->empty queue\)\s+\| (\d+)",
                         proc.stdout)
        self.assertIsNotNone(rate, out)
        self.assertGreater(int(rate.group(1)), 0)
        self.assertNotIn("INCOMPLETE", out)

    def test_relay_run_that_delivers_nothing_is_reported_incomplete(self):
        # --param comes after the relay settings: the relayhost refuses.
        proc = self.bench("--param", f"relayhost=[127.0.0.1]:{unused_port()}")
        out = proc.stdout + proc.stderr
        self.assertEqual(proc.returncode, 1, out)
        self.assertIn("stalled: sink has 0/30 messages", out)
        self.assertIn("postern: INCOMPLETE relay run", out)
        self.assertRegex(proc.stdout, r"\| relayed msg/s \(intake->empty queue\)\s+\| - ")


def unused_port():
    """A loopback port that was just free (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    unittest.main()
