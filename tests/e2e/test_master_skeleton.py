"""test_master_skeleton.py: master with services built on the real server
skeleton (lib/ipc/server.c): tests/helpers/echo_service and trigger_service.

test_master.py tests master against a helper that speaks master_proto.h
by hand; these tests prove that master and the skeleton agree on the
contract (descriptors, status records, lifeline, privileges, triggers).
They skip, saying why, until the skeleton's helpers are built.
"""
import os
import re
import time
import unittest

from instance import Instance, builddir, is_root, pid_alive


def helper_built(name):
    return os.access(os.path.join(builddir(), "tests", "helpers", name), os.X_OK)


NEED_ECHO = unittest.skipUnless(helper_built("echo_service"),
                                "tests/helpers/echo_service is not built "
                                "(the server skeleton is not merged yet)")
NEED_TRIGGER = unittest.skipUnless(helper_built("trigger_service"),
                                   "tests/helpers/trigger_service is not built "
                                   "(the server skeleton is not merged yet)")


def ask_pid(sock):
    sock.sendall(b"pid\r\n")
    return int(Instance.read_line(sock))


@NEED_ECHO
class TestSkeletonUnderMaster(unittest.TestCase):
    def setUp(self):
        self.inst = Instance(self)
        self.port = self.inst.free_port()

    def echo(self, port=None, maxproc="-", unpriv="-", chroot="n", args=("hello",)):
        return self.inst.service(f"127.0.0.1:{port or self.port}", "inet",
                                 "echo_service", private="n", unpriv=unpriv,
                                 chroot=chroot, maxproc=maxproc, args=args)

    def test_echo_crash_respawn_and_stop(self):
        inst = self.inst
        inst.write_master_cf(self.echo(maxproc=1))
        inst.start()
        with inst.connect(self.port) as sock:
            self.assertEqual(Instance.read_line(sock), b"hello")
            first = ask_pid(sock)
            sock.sendall(b"ping\r\n")
            self.assertEqual(Instance.read_line(sock), b"ping")
            sock.sendall(b"crash\r\n")
            self.assertEqual(sock.recv(100), b"")
        inst.wait_for_log(r"warning: process \S+echo_service pid %d killed by "
                          r"signal 6" % first)
        with inst.connect(self.port) as sock:
            Instance.read_line(sock)
            second = ask_pid(sock)
        self.assertNotEqual(first, second)
        self.assertNotIn("throttled", inst.log_text())
        inst.stop()
        self.assertEqual(inst.instance_pids(), [])

    def test_maxproc_one_serialises_clients(self):
        inst = self.inst
        inst.write_master_cf(self.echo(maxproc=1))
        inst.start()
        a = inst.connect(self.port)
        self.addCleanup(a.close)
        self.assertEqual(Instance.read_line(a), b"hello")
        b = inst.connect(self.port)
        self.addCleanup(b.close)
        b.settimeout(1.0)
        with self.assertRaises(OSError):
            b.recv(1)
        a.sendall(b"quit\r\n")
        self.assertEqual(Instance.read_line(a), b"bye")
        b.settimeout(10)
        self.assertEqual(Instance.read_line(b), b"hello")

    def test_reload_retires_skeleton_children(self):
        inst = self.inst
        inst.write_master_cf(self.echo())
        inst.start()
        with inst.connect(self.port) as sock:
            Instance.read_line(sock)
            old = ask_pid(sock)
        inst.reload()
        inst.wait_until(lambda: not pid_alive(old), what="the old child to exit "
                        "after its lifeline closed")
        with inst.connect(self.port) as sock:
            Instance.read_line(sock)
            self.assertNotEqual(ask_pid(sock), old)

    def test_busy_child_survives_port_move(self):
        inst = self.inst
        inst.write_master_cf(self.echo())
        inst.start()
        busy = inst.connect(self.port)
        self.addCleanup(busy.close)
        Instance.read_line(busy)
        old = ask_pid(busy)
        new_port = inst.free_port()
        inst.write_master_cf(self.echo(port=new_port))
        inst.reload()
        with inst.connect(new_port) as sock:
            self.assertEqual(Instance.read_line(sock), b"hello")
        # Its listener was shut down under it; its session goes on, and
        # it exits once the session ends (lifeline closed).
        busy.sendall(b"again\r\n")
        self.assertEqual(Instance.read_line(busy), b"again")
        self.assertTrue(pid_alive(old))
        busy.sendall(b"quit\r\n")
        self.assertEqual(Instance.read_line(busy), b"bye")
        inst.wait_until(lambda: not pid_alive(old), what="the retired child to exit")
        # No spinning on the shut-down listener (master_proto.h: accept
        # fails with EINVAL, which the skeleton takes as retirement).
        log = inst.log_text()
        self.assertEqual(re.findall(r"echo_service\[%d\]: warning.*" % old, log), [])
        self.assertNotRegex(log, r"echo_service\[%d\]: (error|fatal|panic)" % old)

    @unittest.skipUnless(is_root(), "privilege drop needs root")
    def test_skeleton_honours_chroot_and_unpriv(self):
        inst = self.inst
        inst.write_master_cf(self.echo(unpriv="y", chroot="y"))
        inst.start()
        with inst.connect(self.port) as sock:
            self.assertEqual(Instance.read_line(sock), b"hello")
            pid = ask_pid(sock)
            with open(f"/proc/{pid}/status") as f:
                status = f.read()
            uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M)
            self.assertEqual({int(u) for u in uids.groups()}, {inst.owner_uid})
            self.assertEqual(os.readlink(f"/proc/{pid}/root"), inst.queue)


@NEED_TRIGGER
class TestTriggerUnderMaster(unittest.TestCase):
    def test_wakeup_reaches_trigger_service(self):
        inst = Instance(self)
        out = os.path.join(inst.scratch, "triggers")
        inst.write_master_cf(inst.service("tick", "unix", "trigger_service",
                                          wakeup=1, maxproc=1, args=[out]))
        inst.start()

        def wakeups():
            try:
                return open(out).read().count("W")
            except FileNotFoundError:
                return 0
        inst.wait_until(lambda: wakeups() >= 3, timeout=15,
                        what="three wakeups written by trigger_service")
        time.sleep(0.1)
        inst.stop()
        self.assertEqual(inst.instance_pids(), [])
