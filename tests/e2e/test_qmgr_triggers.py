"""test_qmgr_triggers.py: qmgr's public/qmgr is open to every local user;
a client that sends slowly, or many that send nothing, must not hold up
deliveries (lib/ipc/server_trigger.c, docs/ipc.md "Triggers"). Real
master + qmgr + fake delivery agents, as in test_qmgr.py."""
import os
import select
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_qmgr import QmgrTestBase  # noqa: E402

DEADLINE = 5.0  # SERVER_TRIGGER_DEADLINE_MS in lib/ipc/server.h


class SlowDrip(threading.Thread):
    """Connects to public/qmgr and sends one harmless byte every `every`
    seconds until the server closes the connection; records when."""

    def __init__(self, path, every=2.0, limit=30.0):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.connected = time.monotonic()
        self.every, self.limit = every, limit
        self.closed_after = None
        self.sent = 0

    def run(self):
        try:
            while time.monotonic() - self.connected < self.limit:
                try:
                    self.sock.send(b"x")  # an unknown byte: ignored
                    self.sent += 1
                except OSError:
                    self.closed_after = time.monotonic() - self.connected
                    return
                ready, _, _ = select.select([self.sock], [], [], self.every)
                if ready:
                    try:
                        data = self.sock.recv(100)
                    except OSError:
                        data = b""
                    if not data:
                        self.closed_after = time.monotonic() - self.connected
                        return
        finally:
            self.sock.close()


class SlowTriggerClientTest(QmgrTestBase):
    qmgr_wakeup = 300  # no timer comes to the rescue: only triggers

    def qmgr_socket(self):
        path = os.path.join(self.inst.queue, "public", "qmgr")
        self.inst.wait_until(lambda: os.path.exists(path), timeout=10,
                             what="public/qmgr")
        return path

    def test_slow_drip_client_does_not_hold_up_delivery(self):
        self.inst.start()
        path = self.qmgr_socket()
        # qmgr is past its start once a first message is through.
        self.wait_removed(self.inject("alice@example.com", "first@virt.test"))
        drip = SlowDrip(path, every=2.0)
        drip.start()
        time.sleep(0.5)
        start = time.monotonic()
        qid = self.inject("alice@example.com", "bob@virt.test")
        # Well before the drip client's deadline: qmgr is not waiting on it.
        self.wait_removed(qid, timeout=DEADLINE - 1.5)
        self.assertLess(time.monotonic() - start, DEADLINE - 1.5)
        self.assertEqual(self.delivered().get((qid, "bob@virt.test")), 1)
        # The drip client is disconnected at its deadline (one for the
        # whole request, not per byte), with a warning.
        drip.join(timeout=20)
        self.assertIsNotNone(drip.closed_after, "slow client never dropped")
        self.assertGreaterEqual(drip.closed_after, DEADLINE - 0.5)
        self.assertLess(drip.closed_after, DEADLINE + 2.5)
        self.assertGreaterEqual(drip.sent, 2)
        self.inst.wait_for_log(r"qmgr\[\d+\]: warning: trigger client "
                               r"uid=\d+ pid=\d+: request not complete "
                               r"after 5000 ms \(\d+ bytes\): disconnected")

    def test_many_silent_clients_do_not_hold_up_delivery(self):
        self.inst.start()
        path = self.qmgr_socket()
        self.wait_removed(self.inject("alice@example.com", "first@virt.test"))
        # More silent clients than qmgr reads at once (SERVER_TRIGGER_PENDING).
        silent = []
        for _ in range(40):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            silent.append(s)
        try:
            start = time.monotonic()
            qid = self.inject("alice@example.com", "carol@virt.test")
            self.wait_removed(qid, timeout=DEADLINE - 1.5)
            self.assertLess(time.monotonic() - start, DEADLINE - 1.5)
            # qmgr still takes a flush request and answers it (postqueue -f).
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(DEADLINE - 1.5)
                s.connect(path)
                s.sendall(b"F")
                s.shutdown(socket.SHUT_WR)
                self.assertEqual(s.recv(100), b"")  # taken: closed, no word
        finally:
            for s in silent:
                s.close()


if __name__ == "__main__":
    unittest.main()
